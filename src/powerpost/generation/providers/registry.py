"""Caption providers by name; settings.providers.captions (`POWERPOST_CAPTIONS_PROVIDER`)
picks one.

A factory gets the settings and the process's shared HTTP client and returns a provider
for one job. `register` lets an operator module (loaded with POWERPOST_JOB_MODULES) or a
test add a back end, or replace a built-in one, without touching the caption task.
"""

from __future__ import annotations

from typing import Any

import httpx

from powerpost.config import Settings
from powerpost.generation.providers.base import CaptionProvider, ProviderError
from powerpost.generation.providers.offline import OfflineCaptionProvider
from powerpost.generation.providers.openai_compat import OpenAICaptionProvider
from powerpost.kit.providers import ProviderFactory, ProviderRegistry

_OFFLINE = OfflineCaptionProvider()


def offline_provider(settings: Settings, http: httpx.AsyncClient) -> CaptionProvider:
    return _OFFLINE


def openai_provider(settings: Settings, http: httpx.AsyncClient, **options: Any) -> CaptionProvider:
    """The OpenAI-compatible provider configured from settings; `options` go to its
    constructor (backoff, sleep) for callers that need other timings."""
    config = settings.providers
    if not config.openai_api_key:
        raise ProviderError("the openai caption provider needs POWERPOST_OPENAI_API_KEY")
    return OpenAICaptionProvider(
        http,
        config.openai_base_url,
        config.openai_api_key,
        config.openai_caption_model,
        transcribe_model=config.openai_transcribe_model,
        timeout=config.openai_timeout,
        max_retries=config.openai_max_retries,
        **options,
    )


CaptionProviderFactory = ProviderFactory[CaptionProvider]

# Module-level names stay the public API (`registry.register(...)`, `registry.provider_for(...)`)
# so operator modules and tests written against them keep working.
REGISTRY: ProviderRegistry[CaptionProvider] = ProviderRegistry(
    "caption",
    lambda settings: settings.providers.captions,
    {"offline": offline_provider, "openai": openai_provider},
)
register = REGISTRY.register
unregister = REGISTRY.unregister
names = REGISTRY.names
provider_for = REGISTRY.provider_for

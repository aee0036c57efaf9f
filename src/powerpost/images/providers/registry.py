"""Image providers by name; settings.providers.images (`POWERPOST_IMAGES_PROVIDER`) picks one.

A factory gets the settings and the process's shared HTTP client and returns a provider
for one job. `register` lets an operator module (loaded with POWERPOST_JOB_MODULES) or a
test add a back end, or replace a built-in one, without touching the image task.
"""

from __future__ import annotations

from typing import Any

import httpx

from powerpost.config import Settings
from powerpost.images.providers.base import ImageProvider, ProviderError
from powerpost.images.providers.offline import OfflineImageProvider
from powerpost.images.providers.openai_compat import OpenAIImageProvider
from powerpost.kit.providers import ProviderFactory, ProviderRegistry

_OFFLINE = OfflineImageProvider()


def offline_provider(settings: Settings, http: httpx.AsyncClient) -> ImageProvider:
    return _OFFLINE


def openai_provider(settings: Settings, http: httpx.AsyncClient, **options: Any) -> ImageProvider:
    """The OpenAI-compatible provider configured from settings; `options` go to its
    constructor (backoff, sleep) for callers that need other timings."""
    config = settings.providers
    if not config.openai_api_key:
        raise ProviderError("the openai image provider needs POWERPOST_OPENAI_API_KEY")
    return OpenAIImageProvider(
        http,
        config.openai_base_url,
        config.openai_api_key,
        config.image_model_map,
        timeout=config.openai_timeout,
        max_retries=config.openai_max_retries,
        **options,
    )


ImageProviderFactory = ProviderFactory[ImageProvider]

# Module-level names stay the public API (`registry.register(...)`, `registry.provider_for(...)`)
# so operator modules and tests written against them keep working.
REGISTRY: ProviderRegistry[ImageProvider] = ProviderRegistry(
    "image",
    lambda settings: settings.providers.images,
    {"offline": offline_provider, "openai": openai_provider},
)
register = REGISTRY.register
unregister = REGISTRY.unregister
names = REGISTRY.names
provider_for = REGISTRY.provider_for

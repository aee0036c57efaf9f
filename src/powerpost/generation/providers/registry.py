"""Caption providers by name; settings.providers.captions (`POWERPOST_CAPTIONS_PROVIDER`)
picks one.

A factory gets the settings and the process's shared HTTP client and returns a provider
for one job. `register` lets an operator module (loaded with POWERPOST_JOB_MODULES) or a
test add a back end, or replace a built-in one, without touching the caption task.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from powerpost.config import Settings
from powerpost.generation.providers.base import CaptionProvider, ProviderError
from powerpost.generation.providers.offline import OfflineCaptionProvider
from powerpost.generation.providers.openai_compat import OpenAICaptionProvider

CaptionProviderFactory = Callable[[Settings, httpx.AsyncClient], CaptionProvider]

_OFFLINE = OfflineCaptionProvider()
_BUILT_IN = ("offline", "openai")


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


_factories: dict[str, CaptionProviderFactory] = {
    "offline": offline_provider,
    "openai": openai_provider,
}


def register(name: str, factory: CaptionProviderFactory) -> None:
    if not name:
        raise ValueError("a provider needs a name")
    _factories[name] = factory


def unregister(name: str) -> None:
    if name in _BUILT_IN:
        raise ValueError(f"the built-in {name!r} provider cannot be removed")
    _factories.pop(name, None)


def names() -> frozenset[str]:
    return frozenset(_factories)


def provider_for(settings: Settings, http: httpx.AsyncClient) -> CaptionProvider:
    name = settings.providers.captions
    factory = _factories.get(name)
    if factory is None:
        raise ProviderError(f"no caption provider is registered as {name!r}")
    return factory(settings, http)

"""Video providers by name; settings.providers.videos (`POWERPOST_VIDEOS_PROVIDER`) picks one.

Same shape as the image registry: a factory gets the settings and the shared HTTP client
and returns a provider for one job; `register` adds or wraps back ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from powerpost.config import Settings
from powerpost.videos.providers.base import ProviderError, VideoProvider
from powerpost.videos.providers.offline import OfflineVideoProvider
from powerpost.videos.providers.openai_compat import OpenAIVideoProvider

VideoProviderFactory = Callable[[Settings, httpx.AsyncClient], VideoProvider]

_OFFLINE = OfflineVideoProvider()


def offline_provider(settings: Settings, http: httpx.AsyncClient) -> VideoProvider:
    return _OFFLINE


def openai_provider(settings: Settings, http: httpx.AsyncClient, **options: Any) -> VideoProvider:
    """The OpenAI-compatible video provider configured from settings; `options` go to its
    constructor (poll interval, deadline, sleep, clock)."""
    config = settings.providers
    if not config.openai_api_key:
        raise ProviderError("the openai video provider needs POWERPOST_OPENAI_API_KEY")
    return OpenAIVideoProvider(
        http,
        config.openai_base_url,
        config.openai_api_key,
        config.video_model_map,
        timeout=config.openai_timeout,
        max_retries=config.openai_max_retries,
        **options,
    )


_factories: dict[str, VideoProviderFactory] = {
    "offline": offline_provider,
    "openai": openai_provider,
}


def register(name: str, factory: VideoProviderFactory) -> None:
    if not name:
        raise ValueError("a provider needs a name")
    _factories[name] = factory


def unregister(name: str) -> None:
    if name in ("offline", "openai"):
        raise ValueError(f"the built-in {name!r} provider cannot be removed")
    _factories.pop(name, None)


def names() -> frozenset[str]:
    return frozenset(_factories)


def provider_for(settings: Settings, http: httpx.AsyncClient) -> VideoProvider:
    name = settings.providers.videos
    factory = _factories.get(name)
    if factory is None:
        raise ProviderError(f"no video provider is registered as {name!r}")
    return factory(settings, http)

"""Image providers by name; settings.providers.images (`POWERPOST_IMAGES_PROVIDER`) picks one.

A factory gets the settings and the process's shared HTTP client and returns a provider
for one job. `register` lets an operator module (loaded with POWERPOST_JOB_MODULES) or a
test add a back end, or replace a built-in one, without touching the image task.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from powerpost.config import Settings
from powerpost.images.providers.base import ImageProvider, ProviderError
from powerpost.images.providers.offline import OfflineImageProvider
from powerpost.images.providers.openai_compat import OpenAIImageProvider

ImageProviderFactory = Callable[[Settings, httpx.AsyncClient], ImageProvider]

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


_factories: dict[str, ImageProviderFactory] = {
    "offline": offline_provider,
    "openai": openai_provider,
}


def register(name: str, factory: ImageProviderFactory) -> None:
    if not name:
        raise ValueError("a provider needs a name")
    _factories[name] = factory


def unregister(name: str) -> None:
    if name in ("offline", "openai"):
        raise ValueError(f"the built-in {name!r} provider cannot be removed")
    _factories.pop(name, None)


def names() -> frozenset[str]:
    return frozenset(_factories)


def provider_for(settings: Settings, http: httpx.AsyncClient) -> ImageProvider:
    name = settings.providers.images
    factory = _factories.get(name)
    if factory is None:
        raise ProviderError(f"no image provider is registered as {name!r}")
    return factory(settings, http)

"""Video providers by name; settings.providers.videos (`POWERPOST_VIDEOS_PROVIDER`) picks one.

Same shape as the image registry: a factory gets the settings and the shared HTTP client
and returns a provider for one job; `register` adds or wraps back ends.
"""

from __future__ import annotations

from typing import Any

import httpx

from powerpost.config import Settings
from powerpost.kit.providers import ProviderFactory, ProviderRegistry
from powerpost.videos.providers.base import ProviderError, VideoProvider
from powerpost.videos.providers.offline import OfflineVideoProvider
from powerpost.videos.providers.openai_compat import OpenAIVideoProvider

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


VideoProviderFactory = ProviderFactory[VideoProvider]

# Module-level names stay the public API (`registry.register(...)`, `registry.provider_for(...)`)
# so operator modules and tests written against them keep working.
REGISTRY: ProviderRegistry[VideoProvider] = ProviderRegistry(
    "video",
    lambda settings: settings.providers.videos,
    {"offline": offline_provider, "openai": openai_provider},
)
register = REGISTRY.register
unregister = REGISTRY.unregister
names = REGISTRY.names
provider_for = REGISTRY.provider_for

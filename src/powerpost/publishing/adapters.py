"""The interface every platform adapter implements, and how one is chosen.

An adapter speaks to one network. The engine calls, for one item:

- `validate(item)`: the platform's own rules, before anything is sent (also at schedule
  time); a client-safe sentence or None;
- `publish(item)`: make the post, carrying `item.client_reference` wherever the platform
  keeps a client-supplied reference; returns the platform's id and public URL;
- `lookup(item)`: find a post this item may already have made (a crash or a timeout after
  the platform accepted it) by that reference or the account's recent posts; None if none;
- `fetch_metrics(platform_post_id)`: views, likes and comments for analytics.

Failures are `PlatformError`s with a normalized code. `ambiguous=True` says the platform
may have made the post anyway (a timeout, a dropped connection): the engine then looks it
up before it tries again, so an item is never posted twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import httpx

from powerpost.config import Settings
from powerpost.kit.db import Database

# Normalized item error codes (the item's `error.code`).
TOKEN_EXPIRED = "TOKEN_EXPIRED"  # noqa: S105 (an error code, not a secret)
RATE_LIMITED = "RATE_LIMITED"
MEDIA_REJECTED = "MEDIA_REJECTED"
CONTENT_REJECTED = "CONTENT_REJECTED"
PLATFORM_ERROR = "PLATFORM_ERROR"
# What a client sees of an internal failure (its detail stays in the attempt history).
INTERNAL_MESSAGE = "Publishing this item failed because of an internal error."
PLATFORM_TIMEOUT = "PLATFORM_TIMEOUT"
NOT_CONNECTED = "PLATFORM_NOT_CONNECTED"


@dataclass(frozen=True)
class OutgoingMedia:
    media_id: str
    kind: str  # image | video
    mime_type: str
    width: int
    height: int
    duration_seconds: float | None
    url: str  # a signed URL the platform can fetch


@dataclass(frozen=True)
class OutgoingItem:
    item_id: str
    post_id: str
    workspace_id: str
    post_type: str
    platform: str
    content: str | None
    title: str | None
    media: tuple[OutgoingMedia, ...]
    # Stable for the item's whole life: the same item is never a second post.
    client_reference: str
    # The item's place in its post (0 first).
    position: int = 0
    # Test mode only: the X-Test-Scenario the publish call asked for.
    scenario: str | None = None
    # 1 for the first attempt of this item in its round.
    attempt: int = 1


@dataclass(frozen=True)
class PublishedPost:
    platform_post_id: str
    platform_url: str


@dataclass(frozen=True)
class Metrics:
    views: int
    likes: int
    comments: int
    fetched_at: datetime


@dataclass
class PlatformError(Exception):
    """A platform refused or failed; `message` is safe for clients, `raw` is for people
    reading the attempt history (secrets already redacted)."""

    code: str
    message: str
    raw: str | None = None
    retryable: bool = False
    retry_after: float | None = None
    ambiguous: bool = False
    details: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)


class PlatformAdapter(Protocol):
    name: str

    async def validate(self, item: OutgoingItem) -> str | None: ...

    async def publish(self, item: OutgoingItem) -> PublishedPost: ...

    async def lookup(self, item: OutgoingItem) -> PublishedPost | None: ...

    async def fetch_metrics(self, platform_post_id: str) -> Metrics: ...


@dataclass(frozen=True)
class AdapterContext:
    """What an adapter may use: the database (the sandbox keeps its posts there), the
    process's shared HTTP client and the settings."""

    db: Database
    http: httpx.AsyncClient
    settings: Settings


AdapterFactory = Callable[[AdapterContext, str], PlatformAdapter]
# (mode, platform) -> factory. Test mode always finds the simulated platforms; live
# adapters are registered by the platform integrations (and by tests, with fakes).
_factories: dict[tuple[str, str], AdapterFactory] = {}


def register_adapter(mode: str, platform: str, factory: AdapterFactory) -> None:
    _factories[(mode, platform)] = factory


def unregister_adapter(mode: str, platform: str) -> None:
    _factories.pop((mode, platform), None)


def adapter_for(ctx: AdapterContext, mode: str, platform: str) -> PlatformAdapter | None:
    factory = _factories.get((mode, platform))
    return None if factory is None else factory(ctx, platform)


def connected_platforms(mode: str) -> frozenset[str]:
    """The platforms this mode can publish to in this process."""
    return frozenset(platform for (m, platform) in _factories if m == mode)

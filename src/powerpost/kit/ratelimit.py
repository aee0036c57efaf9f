"""Fixed-window rate limits per API key and endpoint group (limits.aio).

In memory for the embedded single process; shared through Redis when configured so that N
server processes enforce one budget. If Redis is unreachable we serve anyway and log it:
an outage of the limiter must not become an outage of the API.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter

from powerpost.config import RateLimits

log = logging.getLogger(__name__)

REDIS_ERROR_LOG_INTERVAL_S = 30.0


@dataclass(frozen=True)
class WindowState:
    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # Unix seconds

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(self.reset_at)),
        }

    def retry_after(self) -> int:
        return max(1, math.ceil(self.reset_at - time.time()))


class RateLimiter:
    def __init__(self, limits: RateLimits, redis_url: str | None = None) -> None:
        storage: Storage
        if redis_url:
            storage = RedisStorage(
                "async+" + redis_url,
                implementation="redispy",
                wrap_exceptions=True,
                socket_timeout=0.5,
                socket_connect_timeout=0.5,
            )
        else:
            storage = MemoryStorage()
        self._storage = storage
        self._limiter = FixedWindowRateLimiter(storage)
        self._groups: dict[str, RateLimitItem] = {
            "read": parse(limits.read),
            "write": parse(limits.write),
            "generate": parse(limits.generate),
        }
        self._failed_auth = parse(limits.failed_auth_per_ip)
        self._last_error_log = 0.0

    def _degraded(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._last_error_log > REDIS_ERROR_LOG_INTERVAL_S:
            self._last_error_log = now
            log.error("rate limiter storage unavailable, serving without limits: %s", exc)

    async def _hit(self, item: RateLimitItem, *identifiers: str) -> WindowState:
        try:
            allowed = await self._limiter.hit(item, *identifiers)
            stats = await self._limiter.get_window_stats(item, *identifiers)
        except Exception as exc:  # Redis down or slow: fail open, loudly
            self._degraded(exc)
            return WindowState(True, item.amount, item.amount, time.time() + item.get_expiry())
        return WindowState(allowed, item.amount, stats.remaining, stats.reset_time)

    async def hit_key(self, key_id: str, group: str) -> WindowState:
        return await self._hit(self._groups[group], "key", group, key_id)

    async def failed_auth_blocked(self, ip: str) -> WindowState | None:
        """The window if this address has used up its failed-authentication budget."""
        item = self._failed_auth
        try:
            if await self._limiter.test(item, "authfail", ip):
                return None
            stats = await self._limiter.get_window_stats(item, "authfail", ip)
        except Exception as exc:
            self._degraded(exc)
            return None
        return WindowState(False, item.amount, 0, stats.reset_time)

    async def record_failed_auth(self, ip: str) -> None:
        try:
            await self._limiter.hit(self._failed_auth, "authfail", ip)
        except Exception as exc:
            self._degraded(exc)

    async def reset(self) -> None:
        await self._storage.reset()

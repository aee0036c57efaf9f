"""Fixed-window rate limits per API key and endpoint group, and per account and endpoint
group (limits.aio): without the account bucket, an account's N keys were N budgets.

In memory for the embedded single process; shared through Redis when configured so that N
server processes enforce one budget. If Redis is unreachable we serve anyway, log it, and
keep limits per process until it is back: an outage of the limiter must not become an
outage of the API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter

from powerpost.config import RateLimits

log = logging.getLogger(__name__)

REDIS_ERROR_LOG_INTERVAL_S = 30.0
SHARED_RETRY_PAUSE_S = 5.0
T = TypeVar("T")


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


def _tighter(by_key: WindowState, by_account: WindowState) -> WindowState:
    if not by_key.allowed and not by_account.allowed:
        # Both full: report the one that frees up last, so retryAfter is not too early.
        refused = max((by_key, by_account), key=lambda w: w.reset_at)
        return WindowState(False, refused.limit, 0, refused.reset_at)
    if not by_key.allowed:
        return by_key
    if not by_account.allowed:
        return by_account
    return by_account if by_account.remaining < by_key.remaining else by_key


class RateLimiter:
    def __init__(self, limits: RateLimits, redis_url: str | None = None) -> None:
        storage: Storage
        if redis_url:
            storage = RedisStorage(
                "async+" + redis_url,
                implementation="redispy",
                wrap_exceptions=True,
                # Short enough that a dead Redis costs a request little before we fail
                # open; long enough for a busy one.
                socket_timeout=1.0,
                socket_connect_timeout=1.0,
            )
        else:
            storage = MemoryStorage()
        self._storage = storage
        self._limiter = FixedWindowRateLimiter(storage)
        # While Redis is unreachable, limits are kept per process instead of not at all,
        # and Redis is not asked again until the pause is over (no timeout per request).
        self._local = FixedWindowRateLimiter(MemoryStorage()) if redis_url else self._limiter
        self._shared_down_until = 0.0
        self._groups: dict[str, RateLimitItem] = {
            "read": parse(limits.read),
            "write": parse(limits.write),
            "generate": parse(limits.generate),
        }
        # The same window, account_factor times the amount.
        self._account_groups: dict[str, RateLimitItem] = {
            group: type(item)(item.amount * limits.account_factor, item.multiples)
            for group, item in self._groups.items()
        }
        self._failed_auth = parse(limits.failed_auth_per_ip)
        self._last_error_log = 0.0

    async def _call(self, operation: Callable[[FixedWindowRateLimiter], Awaitable[T]]) -> T:
        shared_ok = time.monotonic() >= self._shared_down_until
        if self._local is self._limiter or not shared_ok:
            return await operation(self._local)
        try:
            return await operation(self._limiter)
        except Exception as exc:  # Redis down or slow: serve anyway, loudly
            self._shared_down_until = time.monotonic() + SHARED_RETRY_PAUSE_S
            now = time.monotonic()
            if now - self._last_error_log > REDIS_ERROR_LOG_INTERVAL_S:
                self._last_error_log = now
                log.error("rate limiter storage unavailable, limiting per process for now: %s", exc)
            return await operation(self._local)

    async def hit_key(self, key_id: str, group: str, account_id: str) -> WindowState:
        """Count one request against its key's and its account's window; the state returned
        is the tighter of the two (the one that refused, else the one with less left)."""
        item = self._groups[group]
        account_item = self._account_groups[group]

        async def hit(limiter: FixedWindowRateLimiter) -> WindowState:
            allowed = await limiter.hit(item, "key", group, key_id)
            stats = await limiter.get_window_stats(item, "key", group, key_id)
            by_key = WindowState(allowed, item.amount, stats.remaining, stats.reset_time)
            # A key already over its own limit does not also spend the account's budget:
            # one runaway client must not starve the account's other keys.
            account_ids = ("account", group, account_id)
            if allowed:
                account_allowed = await limiter.hit(account_item, *account_ids)
            stats = await limiter.get_window_stats(account_item, *account_ids)
            if not allowed:
                account_allowed = stats.remaining > 0
            by_account = WindowState(
                account_allowed, account_item.amount, stats.remaining, stats.reset_time
            )
            return _tighter(by_key, by_account)

        return await self._call(hit)

    async def failed_auth_blocked(self, ip: str) -> WindowState | None:
        """The window if this address has used up its failed-authentication budget."""
        item = self._failed_auth

        async def check(limiter: FixedWindowRateLimiter) -> WindowState | None:
            if await limiter.test(item, "authfail", ip):
                return None
            stats = await limiter.get_window_stats(item, "authfail", ip)
            return WindowState(False, item.amount, 0, stats.reset_time)

        return await self._call(check)

    async def record_failed_auth(self, ip: str) -> None:
        async def hit(limiter: FixedWindowRateLimiter) -> bool:
            return await limiter.hit(self._failed_auth, "authfail", ip)

        await self._call(hit)

    async def close(self) -> None:
        """Close the Redis connections (limits has no close of its own)."""
        bridge = getattr(self._storage, "bridge", None)
        client = getattr(bridge, "storage", None)
        if client is not None:
            with contextlib.suppress(Exception):
                await client.aclose()

    async def reset(self, attempts: int = 5) -> None:
        """Clear every window (tests and operators). Retries a slow Redis a few times."""
        for attempt in range(attempts):
            try:
                await self._storage.reset()
                return
            except Exception:
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(0.2 * (attempt + 1))

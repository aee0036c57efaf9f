"""Sign-in throttling per client address and per email (limits.aio, fixed windows).

Every attempt takes its place in both windows *before* the password is checked, in one
atomic increment, so guesses sent in parallel cannot all slip past the check; a success
hands the address's place back and clears the email's window, so in effect only failures
count and a person who types the password right is never slowed down. Sign-ups take
their place the same way.

A browser that signed in to the account before (a device cookie, dashboard/devices.py)
takes its place in a window of its own instead of the email's: strangers failing on an
email lock out strangers, not the owner's known browsers, and a known browser's own
failures still stop it after the same number of guesses. Unknown emails count like known ones: the throttle must not
reveal which addresses have accounts. Emails are hashed before they become storage keys. Like the API limiter, an unreachable Redis fails open, loudly.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass, field

from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter
from redis.asyncio import ConnectionPool

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ThrottleRules:
    failures_per_email: RateLimitItem = field(default_factory=lambda: RateLimitItemPerMinute(5, 15))
    failures_per_ip: RateLimitItem = field(default_factory=lambda: RateLimitItemPerMinute(30, 15))
    signups_per_ip: RateLimitItem = field(default_factory=lambda: RateLimitItemPerHour(10))
    failures_per_device: RateLimitItem = field(
        default_factory=lambda: RateLimitItemPerMinute(5, 15)
    )


def _email_id(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()[:32]


def _device_id(device: str) -> str:
    return hashlib.sha256(device.encode("utf-8")).hexdigest()[:32]


class LoginThrottle:
    def __init__(self, redis_url: str | None, rules: ThrottleRules | None = None) -> None:
        storage: Storage
        # Our own pool, so that shutdown can close its connections (limits never does).
        self._pool: ConnectionPool | None = None
        if redis_url:
            self._pool = ConnectionPool.from_url(
                redis_url, socket_timeout=0.5, socket_connect_timeout=0.5
            )
            storage = RedisStorage(
                "async+" + redis_url,
                implementation="redispy",
                wrap_exceptions=True,
                connection_pool=self._pool,  # type: ignore[arg-type]
            )
        else:
            storage = MemoryStorage()
        self._storage = storage
        self._limiter = FixedWindowRateLimiter(storage)
        self.rules = rules or ThrottleRules()

    async def _take(self, item: RateLimitItem, *identifiers: str) -> int | None:
        """Count one attempt; seconds to wait when that went past the limit."""
        try:
            if await self._limiter.hit(item, *identifiers):
                return None
            stats = await self._limiter.get_window_stats(item, *identifiers)
        except Exception as exc:
            log.error("sign-in throttle storage unavailable, not throttling: %s", exc)
            return None
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def begin_attempt(self, ip: str, email: str, device: str | None = None) -> int | None:
        """Count a password attempt against this address and this email (or, from a known
        browser of the account, this device) before the password is checked; seconds to
        wait when either has used up its failures."""
        by_ip = await self._take(self.rules.failures_per_ip, "dash-login-ip", ip)
        if device is None:
            by_who = await self._take(
                self.rules.failures_per_email, "dash-login-email", _email_id(email)
            )
        else:
            by_who = await self._take(
                self.rules.failures_per_device, "dash-login-device", _device_id(device)
            )
        waits = [w for w in (by_ip, by_who) if w is not None]
        return max(waits) if waits else None

    async def attempt_succeeded(self, ip: str, email: str, device: str | None = None) -> None:
        """The password was right: give the address its place back, forget the email's
        (or the device's) failures. A known browser's success leaves the email's window
        alone: clearing it would hand the stranger who filled it a fresh set of guesses."""
        try:
            await self._limiter.hit(self.rules.failures_per_ip, "dash-login-ip", ip, cost=-1)
            if device is None:
                await self._limiter.clear(
                    self.rules.failures_per_email, "dash-login-email", _email_id(email)
                )
            else:
                await self._limiter.clear(
                    self.rules.failures_per_device, "dash-login-device", _device_id(device)
                )
        except Exception as exc:
            log.error("sign-in throttle storage unavailable: %s", exc)

    async def begin_signup(self, ip: str) -> int | None:
        """Count an account creation against this address before it happens (so parallel
        sign-ups cannot all pass); seconds to wait when the address has used its budget."""
        return await self._take(self.rules.signups_per_ip, "dash-signup-ip", ip)

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()

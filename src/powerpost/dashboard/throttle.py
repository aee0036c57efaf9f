"""Sign-in throttling per client address and per email (limits.aio, fixed windows).

Every attempt takes its place in both windows *before* the password is checked, in one
atomic increment, so guesses sent in parallel cannot all slip past the check; a success
hands the address's place back and clears the email's window, so in effect only failures
count and a person who types the password right is never slowed down. Sign-ups take
their place the same way. Unknown emails count like known ones: the throttle must not
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


def _email_id(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()[:32]


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

    async def begin_attempt(self, ip: str, email: str) -> int | None:
        """Count a password attempt against this address and this email before the
        password is checked; seconds to wait when either has used up its failures."""
        by_ip = await self._take(self.rules.failures_per_ip, "dash-login-ip", ip)
        by_email = await self._take(
            self.rules.failures_per_email, "dash-login-email", _email_id(email)
        )
        waits = [w for w in (by_ip, by_email) if w is not None]
        return max(waits) if waits else None

    async def attempt_succeeded(self, ip: str, email: str) -> None:
        """The password was right: give the address its place back, forget the email's."""
        try:
            await self._limiter.hit(self.rules.failures_per_ip, "dash-login-ip", ip, cost=-1)
            await self._limiter.clear(
                self.rules.failures_per_email, "dash-login-email", _email_id(email)
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

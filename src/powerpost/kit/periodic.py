"""A background chore run every `interval` seconds in the dispatching process (sweeps).

Used by the media, idempotency-key and webhook sweeps.

Failures are logged and tried again next time; `stop()` waits for a running pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("powerpost.periodic")


class Periodic:
    def __init__(
        self,
        name: str,
        work: Callable[[], Awaitable[object]],
        *,
        interval: float,
        first_delay: float = 60.0,
    ) -> None:
        self.name = name
        self.work = work
        self.interval = interval
        self.first_delay = first_delay
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.interval > 0 and self._task is None:
            self._stop.clear()
            self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _loop(self) -> None:
        delay = min(self.first_delay, self.interval)
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=delay)
            if self._stop.is_set():
                return
            delay = self.interval
            try:
                done = await self.work()
            except Exception:
                log.exception("%s failed; trying again next time", self.name)
                continue
            # What the chore did (a count, a report); nothing worth a line when falsy.
            if done:
                log.info("%s: %s", self.name, done)

"""The dispatcher: finds work the broker does not know about and kicks it.

That is a queued row that is due (a retry whose backoff has passed, a job whose kick was
lost, a delayed job) or a running row whose lease ran out (its worker died). Rows are
stamped `kicked_at` when kicked so a slow queue is not flooded with duplicates; a row still
unclaimed `rekick_seconds` after its kick is kicked again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from powerpost.jobs import repository
from powerpost.kit.clock import utcnow
from powerpost.kit.db import Database

log = logging.getLogger("powerpost.jobs.dispatcher")

BATCH_SIZE = 100
# Kicking a backlog: go round again without sleeping, but not forever in one tick.
MAX_BATCHES_PER_TICK = 10


class Dispatcher:
    def __init__(
        self,
        db: Database,
        kick: Callable[[Sequence[str]], Awaitable[None]],
        *,
        interval: float,
        rekick_seconds: float,
        batch_size: int = BATCH_SIZE,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.kick = kick
        self.interval = interval
        self.rekick = timedelta(seconds=rekick_seconds)
        self.batch_size = batch_size
        self.clock = clock

    async def tick(self) -> list[str]:
        """One scan: kick at most one batch; returns the ids kicked."""
        now = self.clock()
        rekick_before = now - self.rekick
        # The scan is a read: an idle dispatcher must not take SQLite's write lock each second.
        async with self.db.read() as session:
            ids = await repository.due_for_kick(
                session, now=now, rekick_before=rekick_before, limit=self.batch_size
            )
        if not ids:
            return []
        async with self.db.write() as session:
            marked = set(
                await repository.mark_kicked(session, ids, now=now, rekick_before=rekick_before)
            )
        ids = [job_id for job_id in ids if job_id in marked]  # RETURNING has no order
        if ids:
            await self.kick(ids)
        return ids

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                for _ in range(MAX_BATCHES_PER_TICK):
                    if len(await self.tick()) < self.batch_size:
                        break
            except Exception:
                log.exception("dispatcher scan failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval)

"""Remove idempotency keys past their 24 hours.

An expired key is already free (the guard reuses its row), so the sweep only keeps the
table from growing. It runs in whichever process dispatches jobs, beside the media sweep,
and is safe to run from several at once: each delete re-checks the expiry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from powerpost.idempotency import repository
from powerpost.kit.clock import utcnow
from powerpost.kit.db import Database

log = logging.getLogger("powerpost.idempotency")

BATCH = 1000
SWEEP_INTERVAL = 900.0
FIRST_SWEEP_DELAY = 60.0


async def sweep_expired(db: Database, *, now: datetime | None = None) -> int:
    """Delete every expired key not held by a running request; how many went."""
    moment = now or utcnow()
    removed = 0
    while True:
        # Small transactions: SQLite has one writer and requests are waiting for it.
        async with db.write() as session:
            ids = await repository.expired_ids(session, moment, BATCH)
            if ids:
                removed += await repository.delete_expired(session, ids, moment)
        if len(ids) < BATCH:
            return removed


class PeriodicKeySweep:
    def __init__(
        self,
        db: Database,
        *,
        interval: float = SWEEP_INTERVAL,
        first_delay: float = FIRST_SWEEP_DELAY,
    ) -> None:
        self.db = db
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
                removed = await sweep_expired(self.db)
            except Exception:
                log.exception("idempotency key sweep failed; trying again next time")
                continue
            if removed:
                log.info("idempotency sweep removed %d expired keys", removed)

"""Remove idempotency keys past their 24 hours.

An expired key is already free (the guard reuses its row), so the sweep only keeps the
table from growing. It runs in whichever process dispatches jobs, beside the media sweep,
and is safe to run from several at once: each delete re-checks the expiry.
"""

from __future__ import annotations

from datetime import datetime

from powerpost.idempotency import repository
from powerpost.kit.clock import utcnow
from powerpost.kit.db import Database
from powerpost.kit.periodic import Periodic

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


class PeriodicKeySweep(Periodic):
    """The expired-key sweep on the shared background loop (kit.periodic)."""

    def __init__(
        self,
        db: Database,
        *,
        interval: float = SWEEP_INTERVAL,
        first_delay: float = FIRST_SWEEP_DELAY,
    ) -> None:
        super().__init__(
            "idempotency key sweep",
            lambda: sweep_expired(db),
            interval=interval,
            first_delay=first_delay,
        )
        self.db = db

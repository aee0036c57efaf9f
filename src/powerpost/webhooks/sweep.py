"""Retention: events, deliveries and attempts older than 30 days are removed.

The retry schedule ends about three and a half days after an event, so nothing this old
is still pending. Small batches: on SQLite requests wait for the one writer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from powerpost.config import Settings
from powerpost.kit.clock import utcnow
from powerpost.kit.db import Database
from powerpost.kit.periodic import Periodic
from powerpost.webhooks import repository

BATCH = 500


async def sweep_old(db: Database, retention_days: int, *, now: datetime | None = None) -> int:
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    removed = 0
    while True:
        async with db.write() as session:
            count = await repository.delete_older_than(session, cutoff, BATCH)
        removed += count
        if count < BATCH:
            return removed


def periodic_sweep(db: Database, settings: Settings) -> Periodic:
    days = settings.webhooks.retention_days
    return Periodic(
        "webhook retention sweep",
        lambda: sweep_old(db, days),
        interval=settings.webhooks.sweep_interval,
    )

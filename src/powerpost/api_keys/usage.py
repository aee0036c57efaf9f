"""Per-key usage: last-used time and IP, requests per day, the last requests.

Recording must not slow the API, so requests are queued in memory and written in batches
by one background task. Last-used writes are debounced twice: here (at most one per key per
minute per process) and in SQL (so N processes together still write at most once a
minute, and the time never moves backwards). History is bounded: the newest
`KEEP_REQUESTS_PER_KEY` requests per key and `KEEP_DAYS` days of daily counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.api_keys import repository
from powerpost.kit.db import Database
from powerpost.kit.middleware import UsageEvent
from powerpost.kit.redact import redact_keys
from powerpost.models import ApiKeyDailyUsage, ApiRequest

log = logging.getLogger(__name__)

KEEP_REQUESTS_PER_KEY = 100
KEEP_DAYS = 30
FLUSH_INTERVAL_S = 1.0
MAX_QUEUE = 50_000


class UsageRecorder:
    def __init__(self, db: Database, *, flush_interval: float = FLUSH_INTERVAL_S) -> None:
        self.db = db
        self.flush_interval = flush_interval
        self._pending: list[UsageEvent] = []
        self._touched: dict[str, datetime] = {}
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._stopping = asyncio.Event()
        self.dropped = 0

    def record(self, event: UsageEvent) -> None:
        if len(self._pending) >= MAX_QUEUE:
            # Under a flood, losing usage rows beats growing without bound.
            self.dropped += 1
            return
        self._pending.append(event)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="usage-recorder")

    async def stop(self) -> None:
        # Ask the loop to finish rather than cancelling it: a cancel landing inside a
        # database call can strand a pooled connection.
        self._stopping.set()
        if self._task is not None:
            await self._task
        await self.flush()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.flush_interval)
            try:
                await self.flush()
            except Exception:
                log.exception("usage flush failed; will retry")

    async def flush(self) -> None:
        async with self._lock:
            if not self._pending:
                return
            batch, self._pending = self._pending, []
            touched_before = dict(self._touched)
            touches = self._due_touches(batch)
            try:
                async with self.db.write() as session:
                    await self._write(session, batch, touches)
            except Exception:
                # Keep the batch for the next flush (within the queue bound).
                self._pending = (batch + self._pending)[-MAX_QUEUE:]
                self._touched = touched_before
                raise

    def _due_touches(self, batch: list[UsageEvent]) -> dict[str, UsageEvent]:
        latest: dict[str, UsageEvent] = {}
        for event in batch:
            if event.status == 401:
                continue
            latest[event.key_id] = event
        due: dict[str, UsageEvent] = {}
        for key_id, event in latest.items():
            known = self._touched.get(key_id) or event.last_used_at
            if known is None or event.at - known >= repository.LAST_USED_DEBOUNCE:
                due[key_id] = event
                self._touched[key_id] = event.at
        return due

    async def _write(
        self, session: AsyncSession, batch: list[UsageEvent], touches: dict[str, UsageEvent]
    ) -> None:
        for key_id, event in touches.items():
            await repository.touch_last_used(session, key_id, event.at, event.ip)
        await session.execute(
            insert(ApiRequest),
            [
                {
                    "api_key_id": e.key_id,
                    "method": e.method,
                    # A key sent in the path (by mistake, or to probe us) is not kept:
                    # the usage page promises "never the key". Masked before it is cut.
                    "path": redact_keys(e.path)[:300],
                    "status": e.status,
                    "ip": e.ip,
                    "created_at": e.at,
                }
                for e in batch
            ],
        )
        daily: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0])
        for e in batch:
            counts = daily[(e.key_id, e.at.date())]
            counts[0] += 1
            counts[1] += 1 if e.status >= 400 else 0
        module = postgresql if session.bind.dialect.name == "postgresql" else sqlite  # type: ignore[union-attr]
        for (key_id, day), (requests, errors) in daily.items():
            stmt = module.insert(ApiKeyDailyUsage).values(
                api_key_id=key_id, day=day, requests=requests, errors=errors
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=["api_key_id", "day"],
                set_={
                    "requests": ApiKeyDailyUsage.requests + requests,
                    "errors": ApiKeyDailyUsage.errors + errors,
                },
            )
            await session.execute(stmt)
        for key_id in {e.key_id for e in batch}:
            await _trim(session, key_id)
        oldest_day = batch[-1].at.date() - timedelta(days=KEEP_DAYS + 1)
        await session.execute(delete(ApiKeyDailyUsage).where(ApiKeyDailyUsage.day < oldest_day))


async def _trim(session: AsyncSession, key_id: str) -> None:
    cutoff = (
        select(ApiRequest.id)
        .where(ApiRequest.api_key_id == key_id)
        .order_by(ApiRequest.id.desc())
        .offset(KEEP_REQUESTS_PER_KEY)
        .limit(1)
        .scalar_subquery()
    )
    await session.execute(
        delete(ApiRequest).where(ApiRequest.api_key_id == key_id, ApiRequest.id <= cutoff)
    )


async def recent_requests(session: AsyncSession, key_id: str, limit: int = 100) -> list[ApiRequest]:
    stmt = (
        select(ApiRequest)
        .where(ApiRequest.api_key_id == key_id)
        .order_by(ApiRequest.id.desc())
        .limit(limit)
    )
    rows = list((await session.execute(stmt)).scalars().all())
    for row in rows:
        # Rows written before paths were masked on the way in are masked on the way out.
        masked = redact_keys(row.path)
        if masked != row.path:
            session.expunge(row)
            row.path = masked
    return rows


async def daily_counts(session: AsyncSession, key_id: str, since: date) -> dict[date, int]:
    stmt = select(ApiKeyDailyUsage.day, ApiKeyDailyUsage.requests).where(
        ApiKeyDailyUsage.api_key_id == key_id, ApiKeyDailyUsage.day >= since
    )
    return {day: int(count) for day, count in (await session.execute(stmt)).all()}

"""The media sweep: give back what crashed work left behind.

Uploads and generations write files before the row that owns them commits, and the
scratch directory holds spooled uploads and video work folders. A process killed at the
wrong moment therefore leaves quota reserved for an upload that will never finish, files
no row points at, and scratch files nobody will delete. The sweep finds all three once
they are older than a grace period (far longer than any upload or job takes) and removes
them. It is safe to run from several processes at once: every release is guarded by
deleting the reservation row, and an object is only removed when neither a live media
row nor an upload in flight claims its folder.

It runs periodically in whichever process dispatches jobs, and on demand through
`powerpost media sweep`.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from powerpost.kit.clock import utcnow
from powerpost.kit.db import Database
from powerpost.kit.ids import parse_uuid
from powerpost.kit.periodic import Periodic
from powerpost.media import repository
from powerpost.media.storage import Storage, StoredObject

log = logging.getLogger("powerpost.media.sweep")

BATCH = 500
DEFAULT_GRACE = timedelta(hours=6)
# The first periodic sweep waits a little: a server that just started has better things
# to do, and a test run never lives that long.
FIRST_SWEEP_DELAY = 300.0


@dataclass
class SweepReport:
    reservations_released: int = 0
    quota_bytes_released: int = 0
    objects_seen: int = 0
    orphans_deleted: int = 0
    orphan_bytes: int = 0
    temp_entries_deleted: int = 0
    dry_run: bool = False

    def as_dict(self) -> dict[str, int | bool]:
        return asdict(self)

    @property
    def anything(self) -> bool:
        return bool(self.reservations_released or self.orphans_deleted or self.temp_entries_deleted)


def media_id_of(key: str) -> str | None:
    """The media id of a key shaped <account>/<workspace>/<media>/<file>, else None.

    Anything else under the storage root is not ours to judge and is left alone."""
    parts = key.split("/")
    if len(parts) != 4 or parse_uuid(parts[0]) is None or parse_uuid(parts[1]) is None:
        return None
    return parse_uuid(parts[2])


async def sweep(
    db: Database,
    storage: Storage,
    *,
    grace: timedelta = DEFAULT_GRACE,
    dry_run: bool = False,
    now: datetime | None = None,
    on_object: Callable[[StoredObject], None] | None = None,
) -> SweepReport:
    """One full pass; ``on_object`` is called for every listed object (progress bars)."""
    cutoff = (now or utcnow()) - grace
    report = SweepReport(dry_run=dry_run)
    await _release_abandoned_reservations(db, cutoff, report)
    pending: list[tuple[str, StoredObject]] = []
    async for item in storage.list_objects():
        report.objects_seen += 1
        if on_object is not None:
            on_object(item)
        media_id = media_id_of(item.key)
        if media_id is None or item.modified_at >= cutoff:
            continue
        pending.append((media_id, item))
        if len(pending) >= BATCH:
            await _remove_unclaimed(db, storage, pending, report)
            pending = []
    await _remove_unclaimed(db, storage, pending, report)
    report.temp_entries_deleted = await asyncio.to_thread(
        _clean_scratch, storage.tmp_dir, cutoff, dry_run
    )
    return report


async def _release_abandoned_reservations(
    db: Database, cutoff: datetime, report: SweepReport
) -> None:
    while True:
        async with db.read() as session:
            expired = await repository.expired_reservations(session, cutoff, BATCH)
        if report.dry_run:
            # Counted, not released; one page only, since nothing is removed the next
            # page would be this one again.
            report.reservations_released += len(expired)
            return
        for media_id in expired:
            async with db.write() as session:
                dropped = await repository.drop_reservation(session, media_id)
                if dropped is not None:
                    await repository.release_quota(session, *dropped)
            if dropped is not None:
                report.reservations_released += 1
                report.quota_bytes_released += dropped[1]
                log.warning(
                    "released %d bytes of quota held by abandoned upload %s", dropped[1], media_id
                )
        if len(expired) < BATCH:
            return


async def _remove_unclaimed(
    db: Database, storage: Storage, batch: list[tuple[str, StoredObject]], report: SweepReport
) -> None:
    if not batch:
        return
    async with db.read() as session:
        claimed = await repository.claimed_ids(session, {media_id for media_id, _ in batch})
    for media_id, item in batch:
        if media_id in claimed:
            continue
        if not report.dry_run:
            try:
                await storage.remove_listed(item.key)
            except Exception as exc:
                log.warning("could not remove orphaned object %s: %s", item.key, exc)
                continue
        report.orphans_deleted += 1
        report.orphan_bytes += item.size


def _clean_scratch(tmp_dir: Path, cutoff: datetime, dry_run: bool) -> int:
    if not tmp_dir.is_dir():
        return 0
    removed = 0
    for entry in tmp_dir.iterdir():
        try:
            modified = datetime.fromtimestamp(entry.lstat().st_mtime, UTC)
        except FileNotFoundError:
            continue
        if modified >= cutoff:
            continue
        removed += 1
        if dry_run:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    return removed


class PeriodicSweep(Periodic):
    """The background sweep of a process that dispatches jobs (one per deployment is
    enough; more are harmless), on the shared background loop (kit.periodic)."""

    def __init__(
        self,
        db: Database,
        storage: Storage,
        *,
        interval: float,
        grace_hours: int,
        first_delay: float = FIRST_SWEEP_DELAY,
    ) -> None:
        grace = timedelta(hours=grace_hours)

        async def sweep_once() -> dict[str, int | bool] | None:
            report = await sweep(db, storage, grace=grace)
            return report.as_dict() if report.anything else None

        super().__init__("media sweep", sweep_once, interval=interval, first_delay=first_delay)

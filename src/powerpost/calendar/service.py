"""Calendar entries: the rules of §9, in one place.

Decisions (the contract leaves them open):
- `platforms` repeats are collapsed, keeping the first order (as `post_types` are in
  generation); names are the six lowercase platform names, anything else is a 400.
- Entries without a time come first on their day; then by time, then oldest first.
- A range is at most 366 days counting both ends (a whole leap year fits).
- A workspace holds at most `MAX_ENTRIES` entries (live and test together), so the
  calendar cannot be used as unbounded storage; past it a create is refused with 409
  `CALENDAR_FULL` until entries are deleted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.calendar import repository
from powerpost.calendar.schemas import EntryCreate, EntryOut, EntryUpdate
from powerpost.kit.clock import iso_z, utcnow
from powerpost.kit.errors import Conflict, NotFound, ValidationError
from powerpost.kit.ids import new_id, parse_uuid
from powerpost.kit.platforms import PLATFORMS
from powerpost.models import CalendarEntry

MAX_TITLE = 500
MAX_DESCRIPTION = 5000
MAX_RANGE_DAYS = 366
MAX_ENTRIES = 10_000

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$")


class CalendarFull(Conflict):
    code = "CALENDAR_FULL"


@dataclass(frozen=True)
class Scope:
    """Where an entry lives: a workspace, seen through a live or a test key."""

    account_id: str
    workspace_id: str
    mode: str


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError(message, details=[{"field": field, "message": message}])


def parse_date(field: str, value: str) -> date:
    # The pattern first: date.fromisoformat also takes "20250101" and "2025-W01-1".
    if _DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise _invalid(field, f"'{field}' must be a real date written YYYY-MM-DD")


def _title(value: str) -> str:
    title = value.strip()
    if not 1 <= len(title) <= MAX_TITLE:
        raise _invalid("title", f"'title' must be 1 to {MAX_TITLE} characters")
    return title


def _description(value: str | None) -> str | None:
    if value is not None and len(value) > MAX_DESCRIPTION:
        raise _invalid("description", f"'description' must be at most {MAX_DESCRIPTION} characters")
    return value


def _time(value: str | None) -> str | None:
    if value is not None and not _TIME.match(value):
        raise _invalid("scheduled_time", "'scheduled_time' must be HH:MM on a 24-hour clock")
    return value


def _platforms(values: list[str]) -> list[str]:
    unknown = [p for p in values if p not in PLATFORMS]
    if unknown:
        raise _invalid(
            "platforms",
            f"Unknown platform '{unknown[0]}'; use any of {', '.join(PLATFORMS)}",
        )
    return list(dict.fromkeys(values))


def out(entry: CalendarEntry) -> EntryOut:
    return EntryOut(
        entry_id=entry.id,
        title=entry.title,
        description=entry.description,
        scheduled_date=entry.scheduled_date.isoformat(),
        scheduled_time=entry.scheduled_time,
        platforms=list(entry.platforms),
        status="planned",
        created_at=iso_z(entry.created_at) or "",
        updated_at=iso_z(entry.updated_at) or "",
    )


async def list_entries(
    session: AsyncSession, scope: Scope, start_date: str, end_date: str
) -> Sequence[CalendarEntry]:
    start = parse_date("start_date", start_date)
    end = parse_date("end_date", end_date)
    if end < start:
        raise _invalid("end_date", "'end_date' must not be before 'start_date'")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise _invalid(
            "end_date", f"The range may cover at most {MAX_RANGE_DAYS} days (both ends counted)"
        )
    return await repository.in_range(session, scope.workspace_id, scope.mode, start, end)


async def create_entry(session: AsyncSession, scope: Scope, body: EntryCreate) -> CalendarEntry:
    # Every field is checked before anything is read or written.
    title = _title(body.title)
    description = _description(body.description)
    scheduled_date = parse_date("scheduled_date", body.scheduled_date)
    scheduled_time = _time(body.scheduled_time)
    platforms = _platforms(body.platforms)
    await repository.lock_workspace(session, scope.workspace_id)
    if await repository.count(session, scope.workspace_id) >= MAX_ENTRIES:
        raise CalendarFull(
            f"This workspace already has {MAX_ENTRIES:,} calendar entries; delete some first"
        )
    now = utcnow()
    entry = CalendarEntry(
        id=new_id(),
        account_id=scope.account_id,
        workspace_id=scope.workspace_id,
        mode=scope.mode,
        title=title,
        description=description,
        scheduled_date=scheduled_date,
        scheduled_time=scheduled_time,
        platforms=platforms,
        status="planned",
        created_at=now,
        updated_at=now,
    )
    session.add(entry)
    await session.flush()
    return entry


async def get_entry(session: AsyncSession, scope: Scope, entry_id: str) -> CalendarEntry:
    canonical = parse_uuid(entry_id)
    entry = (
        None
        if canonical is None
        else await repository.get(session, scope.workspace_id, scope.mode, canonical)
    )
    if entry is None:
        # Another workspace's entry, another mode's, a deleted one: all simply not here.
        raise NotFound("Calendar entry not found")
    return entry


async def update_entry(
    session: AsyncSession, scope: Scope, entry_id: str, body: EntryUpdate
) -> CalendarEntry:
    given = body.model_fields_set
    if not given:
        raise _invalid("body", "Send at least one field to change")
    changes: dict[str, object] = {}
    if "title" in given:
        if body.title is None:
            raise _invalid("title", "'title' cannot be null")
        changes["title"] = _title(body.title)
    if "description" in given:
        changes["description"] = _description(body.description)
    if "scheduled_date" in given:
        if body.scheduled_date is None:
            raise _invalid("scheduled_date", "'scheduled_date' cannot be null")
        changes["scheduled_date"] = parse_date("scheduled_date", body.scheduled_date)
    if "scheduled_time" in given:
        changes["scheduled_time"] = _time(body.scheduled_time)
    if "platforms" in given:
        if body.platforms is None:
            raise _invalid("platforms", "'platforms' cannot be null; send [] for none")
        changes["platforms"] = _platforms(body.platforms)
    entry = await get_entry(session, scope, entry_id)
    for name, value in changes.items():
        setattr(entry, name, value)
    entry.updated_at = utcnow()
    await session.flush()
    return entry


async def delete_entry(session: AsyncSession, scope: Scope, entry_id: str) -> None:
    entry = await get_entry(session, scope, entry_id)
    await repository.remove(session, entry)

"""All SQL of calendar entries. Every read is confined to one workspace and one mode."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.models import CalendarEntry, Workspace


async def get(
    session: AsyncSession, workspace_id: str, mode: str, entry_id: str
) -> CalendarEntry | None:
    stmt = select(CalendarEntry).where(
        CalendarEntry.id == entry_id,
        CalendarEntry.workspace_id == workspace_id,
        CalendarEntry.mode == mode,
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def in_range(
    session: AsyncSession, workspace_id: str, mode: str, start: date, end: date
) -> Sequence[CalendarEntry]:
    stmt = (
        select(CalendarEntry)
        .where(
            CalendarEntry.workspace_id == workspace_id,
            CalendarEntry.mode == mode,
            CalendarEntry.scheduled_date >= start,
            CalendarEntry.scheduled_date <= end,
        )
        # Whole-day entries (no time) head their day, as calendars show them; NULLS FIRST
        # is spelled out because PostgreSQL sorts nulls last by default and SQLite first.
        .order_by(
            CalendarEntry.scheduled_date,
            CalendarEntry.scheduled_time.asc().nulls_first(),
            CalendarEntry.created_at,
            CalendarEntry.id,
        )
    )
    return (await session.execute(stmt)).scalars().all()


async def lock_workspace(session: AsyncSession, workspace_id: str) -> None:
    """Serialise creations in one workspace until commit, so the entry cap is exact.

    PostgreSQL takes a row lock; SQLite already runs write transactions one at a time
    (SQLAlchemy leaves FOR UPDATE out there).
    """
    await session.execute(
        select(Workspace.id).where(Workspace.id == workspace_id).with_for_update()
    )


async def count(session: AsyncSession, workspace_id: str) -> int:
    stmt = select(func.count()).where(CalendarEntry.workspace_id == workspace_id)
    return int((await session.execute(stmt)).scalar_one())


async def remove(session: AsyncSession, entry: CalendarEntry) -> None:
    await session.execute(delete(CalendarEntry).where(CalendarEntry.id == entry.id))

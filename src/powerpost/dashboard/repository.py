"""All SQL about dashboard sessions lives here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.models import Account, DashboardSession


async def by_token_hash(
    session: AsyncSession, token_hash: bytes
) -> tuple[DashboardSession, Account] | None:
    stmt = (
        select(DashboardSession, Account)
        .join(Account, Account.id == DashboardSession.account_id)
        .where(DashboardSession.token_hash == token_hash)
    )
    row = (await session.execute(stmt)).first()
    return None if row is None else (row[0], row[1])


async def delete_by_token_hash(session: AsyncSession, token_hash: bytes) -> None:
    await session.execute(delete(DashboardSession).where(DashboardSession.token_hash == token_hash))


async def delete_by_id(session: AsyncSession, session_id: str) -> None:
    await session.execute(delete(DashboardSession).where(DashboardSession.id == session_id))


async def delete_others(session: AsyncSession, account_id: str, keep_id: str) -> None:
    await session.execute(
        delete(DashboardSession).where(
            DashboardSession.account_id == account_id, DashboardSession.id != keep_id
        )
    )


async def delete_all_of_account(session: AsyncSession, account_id: str) -> None:
    await session.execute(delete(DashboardSession).where(DashboardSession.account_id == account_id))


async def delete_stale(
    session: AsyncSession, account_id: str, now: datetime, idle_cutoff: datetime
) -> None:
    """An account's expired sessions go when it signs in again; no sweeper needed."""
    await session.execute(
        delete(DashboardSession).where(
            DashboardSession.account_id == account_id,
            or_(DashboardSession.expires_at <= now, DashboardSession.last_seen_at <= idle_cutoff),
        )
    )


async def touch(session: AsyncSession, session_id: str, now: datetime) -> None:
    await session.execute(
        update(DashboardSession)
        .where(DashboardSession.id == session_id, DashboardSession.last_seen_at < now)
        .values(last_seen_at=now)
    )


async def mark_authenticated(session: AsyncSession, session_id: str, now: datetime) -> None:
    await session.execute(
        update(DashboardSession)
        .where(DashboardSession.id == session_id)
        .values(authenticated_at=now, last_seen_at=now)
    )


async def delete_of_account(session: AsyncSession, account_id: str, session_id: str) -> bool:
    result = await session.execute(
        delete(DashboardSession)
        .where(DashboardSession.id == session_id, DashboardSession.account_id == account_id)
        .returning(DashboardSession.id)
    )
    return result.first() is not None


async def live_of_account(
    session: AsyncSession, account_id: str, now: datetime, idle: timedelta
) -> Sequence[DashboardSession]:
    stmt = select(DashboardSession).where(
        DashboardSession.account_id == account_id,
        DashboardSession.expires_at > now,
        DashboardSession.last_seen_at > now - idle,
    )
    return (await session.execute(stmt)).scalars().all()

"""All SQL about media and the account storage quota."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.models import Account, Media, MediaReservation


@dataclass(frozen=True)
class DeletedMedia:
    account_id: str
    file_size: int
    storage_key: str
    thumbnail_key: str | None


async def reserve_quota(session: AsyncSession, account_id: str, size: int) -> bool:
    """One guarded statement: concurrent uploads can never push usage past the quota."""
    result = await session.execute(
        update(Account)
        .where(
            Account.id == account_id,
            Account.storage_used_bytes + size <= Account.storage_quota_bytes,
        )
        .values(storage_used_bytes=Account.storage_used_bytes + size)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def release_quota(session: AsyncSession, account_id: str, size: int) -> None:
    await session.execute(
        update(Account)
        .where(Account.id == account_id)
        .values(
            # Never below zero, even if an operator reset the counter by hand.
            storage_used_bytes=case(
                (Account.storage_used_bytes >= size, Account.storage_used_bytes - size),
                else_=0,
            )
        )
        .execution_options(synchronize_session=False)
    )


async def quota(session: AsyncSession, account_id: str) -> tuple[int, int] | None:
    """(bytes used, bytes allowed) of the account."""
    row = (
        await session.execute(
            select(Account.storage_used_bytes, Account.storage_quota_bytes).where(
                Account.id == account_id
            )
        )
    ).first()
    return None if row is None else (int(row[0]), int(row[1]))


async def live_by_id(session: AsyncSession, media_id: str) -> Media | None:
    stmt = select(Media).where(Media.id == media_id, Media.deleted_at.is_(None))
    return (await session.execute(stmt)).scalar_one_or_none()


def _in(workspace_id: str, mode: str | None) -> list[ColumnElement[bool]]:
    """Live media of a workspace in `mode`; None (a person in the dashboard, who owns both
    modes) for either."""
    where = [Media.workspace_id == workspace_id, Media.deleted_at.is_(None)]
    if mode is not None:
        where.append(Media.mode == mode)
    return where


async def live_in_workspace(
    session: AsyncSession, workspace_id: str, mode: str | None, media_ids: Collection[str]
) -> Sequence[Media]:
    if not media_ids:
        return []
    stmt = select(Media).where(*_in(workspace_id, mode), Media.id.in_(list(media_ids)))
    return (await session.execute(stmt)).scalars().all()


async def list_in_workspace(
    session: AsyncSession, workspace_id: str, mode: str | None, *, limit: int, offset: int = 0
) -> Sequence[Media]:
    stmt = (
        select(Media)
        .where(*_in(workspace_id, mode))
        .order_by(Media.created_at.desc(), Media.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return (await session.execute(stmt)).scalars().all()


async def count_in_workspace(session: AsyncSession, workspace_id: str, mode: str | None) -> int:
    stmt = select(func.count()).where(*_in(workspace_id, mode))
    return int((await session.execute(stmt)).scalar_one())


async def mark_deleted(
    session: AsyncSession,
    account_id: str,
    workspace_id: str,
    mode: str | None,
    media_id: str,
    now: datetime,
) -> DeletedMedia | None:
    """Soft-delete a live row exactly once: of concurrent callers only one gets the row back."""
    result = await session.execute(
        update(Media)
        .where(*_in(workspace_id, mode), Media.id == media_id, Media.account_id == account_id)
        .values(deleted_at=now)
        .returning(Media.account_id, Media.file_size, Media.storage_key, Media.thumbnail_key)
        .execution_options(synchronize_session=False)
    )
    row = result.first()
    if row is None:
        return None
    return DeletedMedia(
        account_id=row[0], file_size=int(row[1]), storage_key=row[2], thumbnail_key=row[3]
    )


# --- reservations: quota held by uploads in flight -------------------------------------------


def add_reservation(
    session: AsyncSession, media_id: str, account_id: str, size: int, now: datetime
) -> None:
    session.add(
        MediaReservation(media_id=media_id, account_id=account_id, size_bytes=size, created_at=now)
    )


async def drop_reservation(session: AsyncSession, media_id: str) -> tuple[str, int] | None:
    """Remove the reservation; (account, size) if this call removed it, else None.

    Exactly one of the upload finishing, the upload undoing itself and the sweep gets the
    row back, so the quota it holds is converted or released exactly once.
    """
    result = await session.execute(
        delete(MediaReservation)
        .where(MediaReservation.media_id == media_id)
        .returning(MediaReservation.account_id, MediaReservation.size_bytes)
        .execution_options(synchronize_session=False)
    )
    row = result.first()
    return None if row is None else (row[0], int(row[1]))


async def expired_reservations(
    session: AsyncSession, before: datetime, limit: int
) -> Sequence[str]:
    stmt = (
        select(MediaReservation.media_id)
        .where(MediaReservation.created_at < before)
        .order_by(MediaReservation.created_at)
        .limit(limit)
    )
    return (await session.execute(stmt)).scalars().all()


async def claimed_ids(session: AsyncSession, media_ids: Collection[str]) -> set[str]:
    """Which of ``media_ids`` still own their files: a live row or an upload in flight."""
    if not media_ids:
        return set()
    wanted = list(media_ids)
    live = select(Media.id).where(Media.id.in_(wanted), Media.deleted_at.is_(None))
    pending = select(MediaReservation.media_id).where(MediaReservation.media_id.in_(wanted))
    found = (await session.execute(live.union(pending))).scalars().all()
    return set(found)


async def exists(session: AsyncSession, media_id: str) -> bool:
    stmt = select(Media.id).where(Media.id == media_id)
    return (await session.execute(stmt)).first() is not None

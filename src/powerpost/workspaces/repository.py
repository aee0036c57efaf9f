"""All SQL about workspaces lives here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from powerpost.models import Workspace


async def workspace_owned_by(
    conn: AsyncConnection | AsyncSession, workspace_id: str, account_id: str
) -> bool:
    stmt = select(Workspace.id).where(
        Workspace.id == workspace_id,
        Workspace.account_id == account_id,
        Workspace.deleted_at.is_(None),
    )
    return (await conn.execute(stmt)).first() is not None


async def list_for_account(session: AsyncSession, account_id: str) -> Sequence[Workspace]:
    stmt = (
        select(Workspace)
        .where(Workspace.account_id == account_id, Workspace.deleted_at.is_(None))
        .order_by(Workspace.created_at, Workspace.id)
    )
    return (await session.execute(stmt)).scalars().all()


async def get_for_account(
    session: AsyncSession, account_id: str, workspace_id: str
) -> Workspace | None:
    stmt = select(Workspace).where(
        Workspace.id == workspace_id,
        Workspace.account_id == account_id,
        Workspace.deleted_at.is_(None),
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def soft_delete(session: AsyncSession, workspace_id: str, now: datetime) -> None:
    await session.execute(
        update(Workspace)
        .where(Workspace.id == workspace_id, Workspace.deleted_at.is_(None))
        .values(deleted_at=now)
    )

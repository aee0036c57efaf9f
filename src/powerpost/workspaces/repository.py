"""All SQL about workspaces lives here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.kit.db import Database
from powerpost.models import Workspace

_OWNED = """
SELECT 1 FROM workspaces
WHERE id = :workspace_id AND account_id = :account_id AND deleted_at IS NULL
"""


async def workspace_owned_by(db: Database, workspace_id: str, account_id: str) -> bool:
    """On every workspace-scoped request: the hot-path read (see Database.fetch_one)."""
    row = await db.fetch_one(_OWNED, {"workspace_id": workspace_id, "account_id": account_id})
    return row is not None


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

"""All SQL of caption generation and writing styles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.models import Generation, WritingStyleRow

FINISHED = ("completed", "failed")


# --- generations ----------------------------------------------------------------------------


async def get_generation(session: AsyncSession, generation_id: str) -> Generation | None:
    return await session.get(Generation, generation_id, populate_existing=True)


async def get_workspace_generation(
    session: AsyncSession, workspace_id: str, mode: str, generation_id: str
) -> Generation | None:
    stmt = select(Generation).where(
        Generation.id == generation_id,
        Generation.workspace_id == workspace_id,
        Generation.mode == mode,
    )
    return (await session.execute(stmt)).scalar_one_or_none()


def workspace_generations(workspace_id: str, mode: str, status: str | None) -> Select[Generation]:
    """The generations of a workspace in one mode (optionally of one status), unordered:
    the caller pages through them."""
    stmt = select(Generation).where(
        Generation.workspace_id == workspace_id, Generation.mode == mode
    )
    if status is not None:
        stmt = stmt.where(Generation.status == status)
    return stmt


# --- writing styles -------------------------------------------------------------------------


async def list_styles(session: AsyncSession, workspace_id: str) -> Sequence[WritingStyleRow]:
    stmt = (
        select(WritingStyleRow)
        .where(WritingStyleRow.workspace_id == workspace_id)
        .order_by(func.lower(WritingStyleRow.name), WritingStyleRow.id)
    )
    return (await session.execute(stmt)).scalars().all()


async def count_styles(session: AsyncSession, workspace_id: str) -> int:
    stmt = select(func.count()).where(WritingStyleRow.workspace_id == workspace_id)
    return int((await session.execute(stmt)).scalar_one())


async def get_style(
    session: AsyncSession, workspace_id: str, style_id: str
) -> WritingStyleRow | None:
    stmt = select(WritingStyleRow).where(
        WritingStyleRow.id == style_id, WritingStyleRow.workspace_id == workspace_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def style_name_taken(
    session: AsyncSession, workspace_id: str, name: str, *, except_id: str | None = None
) -> bool:
    stmt = select(WritingStyleRow.id).where(
        WritingStyleRow.workspace_id == workspace_id,
        func.lower(WritingStyleRow.name) == name.lower(),
    )
    if except_id is not None:
        stmt = stmt.where(WritingStyleRow.id != except_id)
    return (await session.execute(stmt.limit(1))).first() is not None


async def update_style(
    session: AsyncSession, workspace_id: str, style_id: str, values: dict[str, Any]
) -> bool:
    stmt = (
        update(WritingStyleRow)
        .where(WritingStyleRow.id == style_id, WritingStyleRow.workspace_id == workspace_id)
        .values(**values)
        .returning(WritingStyleRow.id)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(stmt)).first() is not None


async def delete_style(session: AsyncSession, workspace_id: str, style_id: str) -> bool:
    stmt = (
        delete(WritingStyleRow)
        .where(WritingStyleRow.id == style_id, WritingStyleRow.workspace_id == workspace_id)
        .returning(WritingStyleRow.id)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(stmt)).first() is not None

"""All SQL of video generations."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.models import Media, VideoGeneration


async def get(
    session: AsyncSession, generation_id: str, *, lock: bool = False
) -> VideoGeneration | None:
    stmt = select(VideoGeneration).where(VideoGeneration.id == generation_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_in_workspace(
    session: AsyncSession, workspace_id: str, mode: str, generation_id: str
) -> VideoGeneration | None:
    stmt = select(VideoGeneration).where(
        VideoGeneration.id == generation_id,
        VideoGeneration.workspace_id == workspace_id,
        VideoGeneration.mode == mode,
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def live_media(session: AsyncSession, media_id: str | None) -> Media | None:
    if media_id is None:
        return None
    stmt = select(Media).where(Media.id == media_id, Media.deleted_at.is_(None))
    return (await session.execute(stmt)).scalar_one_or_none()

"""All SQL of image generations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.models import Generation, ImageGeneration, ImageGenerationImage, Media


async def get(
    session: AsyncSession, generation_id: str, *, lock: bool = False
) -> ImageGeneration | None:
    stmt = select(ImageGeneration).where(ImageGeneration.id == generation_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_in_workspace(
    session: AsyncSession, workspace_id: str, mode: str, generation_id: str
) -> ImageGeneration | None:
    stmt = select(ImageGeneration).where(
        ImageGeneration.id == generation_id,
        ImageGeneration.workspace_id == workspace_id,
        ImageGeneration.mode == mode,
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def outcomes(session: AsyncSession, generation_id: str) -> Sequence[ImageGenerationImage]:
    """Every recorded picture outcome (stored or failed), by position."""
    stmt = (
        select(ImageGenerationImage)
        .where(ImageGenerationImage.image_generation_id == generation_id)
        .order_by(ImageGenerationImage.position)
    )
    return (await session.execute(stmt)).scalars().all()


async def stored_images(session: AsyncSession, generation_id: str) -> Sequence[Media]:
    """The live media of the generation's good pictures, by position (deleted ones drop out)."""
    stmt = (
        select(Media)
        .join(ImageGenerationImage, ImageGenerationImage.media_id == Media.id)
        .where(
            ImageGenerationImage.image_generation_id == generation_id,
            Media.deleted_at.is_(None),
        )
        .order_by(ImageGenerationImage.position)
    )
    return (await session.execute(stmt)).scalars().all()


@dataclass(frozen=True)
class CaptionSource:
    """What post mode reads from a caption generation."""

    id: str
    status: str
    post_types: list[str]
    outputs: dict[str, Any]


async def caption_generation(
    session: AsyncSession, workspace_id: str, mode: str, generation_id: str
) -> CaptionSource | None:
    stmt = select(Generation).where(
        Generation.id == generation_id,
        Generation.workspace_id == workspace_id,
        Generation.mode == mode,
    )
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        return None
    return CaptionSource(
        id=row.id,
        status=row.status,
        post_types=list(row.post_types or []),
        outputs=dict(row.outputs or {}),
    )

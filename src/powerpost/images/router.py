from __future__ import annotations

from fastapi import APIRouter

from powerpost.auth.capabilities import ImagesGenerate, ImagesRead
from powerpost.images import service
from powerpost.images.schemas import (
    ImageGenerateRequest,
    ImageGenerationOut,
    ImageGenerationStarted,
)
from powerpost.kit.actor import actor_from
from powerpost.kit.deps import AppSettings, ReadSession, WriteSession
from powerpost.kit.dry_run import DryRun, DryRunFlag
from powerpost.kit.openapi import error_responses
from powerpost.kit.routing import ApiRoute, Idempotent

router = APIRouter(route_class=ApiRoute, tags=["Images"])


@router.post(
    "/images/generate",
    operation_id="generateImages",
    dependencies=[Idempotent],
    response_model=ImageGenerationStarted | DryRun,
    responses=error_responses(400, 401, 402, 403, 404, 409, 429),
)
async def generate_images(
    auth: ImagesGenerate,
    body: ImageGenerateRequest,
    session: WriteSession,
    settings: AppSettings,
    dry_run: DryRunFlag = False,
) -> ImageGenerationStarted | DryRun:
    """Start generating 1–4 images (text, reference or post mode); poll `status_url`.

    Credits are held now (quantity × the model's price) and pictures that fail are refunded.
    With `dry_run=true`: every check and the price, nothing started.
    """
    return await service.start(session, settings, actor_from(auth), body, dry_run=dry_run)


@router.get(
    "/images/generations/{image_generation_id}",
    operation_id="getImageGeneration",
    response_model=ImageGenerationOut,
    response_model_exclude_unset=True,
    responses=error_responses(400, 401, 403, 404, 429),
)
async def get_image_generation(
    auth: ImagesRead, image_generation_id: str, session: ReadSession, settings: AppSettings
) -> ImageGenerationOut:
    """An image generation and its pictures (signed URLs valid for 7 days)."""
    return await service.get(session, settings, actor_from(auth), image_generation_id)

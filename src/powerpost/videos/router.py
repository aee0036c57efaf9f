from __future__ import annotations

from fastapi import APIRouter

from powerpost.auth.capabilities import VideosGenerate, VideosRead
from powerpost.kit.actor import actor_from
from powerpost.kit.deps import AppSettings, ReadSession, WriteSession
from powerpost.kit.dry_run import DryRun, DryRunFlag
from powerpost.kit.openapi import error_responses
from powerpost.kit.routing import ApiRoute, Idempotent
from powerpost.videos import service
from powerpost.videos.schemas import (
    VideoGenerateRequest,
    VideoGenerationOut,
    VideoGenerationStarted,
)

router = APIRouter(route_class=ApiRoute, tags=["Videos"])


@router.post(
    "/videos/generate",
    operation_id="generateVideo",
    dependencies=[Idempotent],
    response_model=VideoGenerationStarted | DryRun,
    responses=error_responses(400, 401, 402, 403, 404, 429),
)
async def generate_video(
    auth: VideosGenerate,
    body: VideoGenerateRequest,
    session: WriteSession,
    settings: AppSettings,
    dry_run: DryRunFlag = False,
) -> VideoGenerationStarted | DryRun:
    """Start generating a video (text or image-to-video); poll `status_url`.

    Credits are held now (per second of the model, ×1.5 with audio) and refunded on failure.
    With `dry_run=true`: every check and the price, nothing started.
    """
    return await service.start(session, settings, actor_from(auth), body, dry_run=dry_run)


@router.get(
    "/videos/generations/{video_generation_id}",
    operation_id="getVideoGeneration",
    response_model=VideoGenerationOut,
    response_model_exclude_unset=True,
    responses=error_responses(400, 401, 403, 404, 429),
)
async def get_video_generation(
    auth: VideosRead, video_generation_id: str, session: ReadSession, settings: AppSettings
) -> VideoGenerationOut:
    """A video generation; `video` is set once it completed (signed URLs valid for 7 days)."""
    return await service.get(session, settings, actor_from(auth), video_generation_id)

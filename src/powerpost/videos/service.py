"""Video generation (§6.8–6.9): validate per model, hold credits, queue; settle or refund.

The lifecycle is the paid-job seam's (`jobs.paid`, work `VIDEOS`): a start writes the row,
the credit hold (`video_generation:<id>`) and the job in the caller's transaction. The job
stores the MP4 and completes in one transaction (`succeed`); a failure refunds the whole
hold (`fail`). Both record the webhook event with the outcome.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.config import Settings
from powerpost.jobs import paid
from powerpost.kit.actor import Actor
from powerpost.kit.clock import iso_z, utcnow
from powerpost.kit.dry_run import Checks, DryRun
from powerpost.kit.errors import ValidationError
from powerpost.kit.ids import new_id
from powerpost.kit.job_schemas import JobErrorBody
from powerpost.kit.lookup import get_or_404
from powerpost.media.service import get_workspace_media
from powerpost.media.signing import signed_url, thumbnail_url
from powerpost.models import Media, VideoGeneration
from powerpost.videos import repository
from powerpost.videos.schemas import (
    GeneratedVideo,
    VideoGenerateRequest,
    VideoGenerationOut,
    VideoGenerationStarted,
)

JOB_KIND = "video.generate"
ERROR_CODE = "VIDEO_GENERATION_FAILED"
STATUS_PATH = "/api/v1/videos/generations/{id}"
MAX_ATTEMPTS = 3
FINISHED = frozenset({"completed", "failed"})


@dataclass(frozen=True)
class ModelRules:
    durations: tuple[int, ...]
    prompt_max: int
    audio: bool


# §6.8
MODEL_RULES: dict[str, ModelRules] = {
    "kling-3.0-pro": ModelRules(durations=(5, 10), prompt_max=2500, audio=True),
    "veo-3.1": ModelRules(durations=(4, 8), prompt_max=3000, audio=True),
    "runway-gen-4.5": ModelRules(durations=(5, 10), prompt_max=1000, audio=False),
}


VIDEOS: paid.PaidWork[VideoGeneration] = paid.PaidWork(
    model=VideoGeneration,
    kind=JOB_KIND,
    reference_prefix="video_generation",
    error_code=ERROR_CODE,
    completed_event="video_generation.completed",
    failed_event="video_generation.failed",
    max_attempts=MAX_ATTEMPTS,
)


def hold_reference(generation_id: str) -> str:
    return VIDEOS.reference(generation_id)


def status_url(generation_id: str) -> str:
    return STATUS_PATH.format(id=generation_id)


def _check_body(body: VideoGenerateRequest) -> None:
    rules = MODEL_RULES[body.model]
    # measured as stored: surrounding whitespace is dropped, so it does not count
    prompt = body.prompt.strip()
    if not prompt:
        raise ValidationError("'prompt' is required")
    if len(prompt) > rules.prompt_max:
        raise ValidationError(
            f"'prompt' is {len(prompt)} characters; {body.model} takes at most {rules.prompt_max}"
        )
    if body.duration not in rules.durations:
        allowed = " or ".join(str(d) for d in rules.durations)
        raise ValidationError(f"'duration' must be {allowed} seconds for {body.model}")
    if body.has_audio and not rules.audio:
        raise ValidationError(f"{body.model} cannot generate audio; set 'has_audio' to false")


async def start(
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    body: VideoGenerateRequest,
    *,
    dry_run: bool = False,
) -> VideoGenerationStarted | DryRun:
    """Start generating a video, or (`dry_run`) run the same checks and quote the price."""
    checks = Checks()
    _check_body(body)
    checks.add("request is valid")
    source: Media | None = None
    if body.source_image is not None:
        (source,) = await get_workspace_media(
            session, actor.workspace_id, actor.mode, [body.source_image]
        )
        if source.kind != "image":
            raise ValidationError(f"'source_image' must be an image; '{source.id}' is a video")
        checks.add("source image found in this workspace")

    total = settings.prices.video(body.model, body.duration, body.has_audio)
    if dry_run:
        return await paid.quote(session, actor, amount=total, checks=checks)
    generation = VideoGeneration(
        id=new_id(),
        account_id=actor.account_id,
        workspace_id=actor.workspace_id,
        mode=actor.mode,
        api_key_id=actor.api_key_id,
        status="processing",
        prompt=body.prompt.strip(),
        size=body.size,
        duration=body.duration,
        has_audio=body.has_audio,
        model=body.model,
        enhance_prompt=body.enhance_prompt,
        source_media_id=source.id if source is not None else None,
        media_id=None,
        credits_used=total,
        error_code=None,
        error_message=None,
        created_at=utcnow(),
        finished_at=None,
    )
    audio = " with audio" if body.has_audio else ""
    remaining = await paid.start(
        session,
        VIDEOS,
        actor,
        generation,
        amount=total,
        reason=f"{body.duration} s video{audio} with {body.model}",
    )
    return VideoGenerationStarted(
        video_generation_id=generation.id,
        status="processing",
        credits_used=generation.credits_used,
        remaining_credits=remaining,
        status_url=status_url(generation.id),
    )


def render(
    generation: VideoGeneration,
    media: Media | None,
    settings: Settings,
    now: datetime | None = None,
) -> VideoGenerationOut:
    video = None
    if media is not None:
        video = GeneratedVideo(
            media_id=media.id,
            url=signed_url(settings, media.id, "original", now),
            thumbnail_url=thumbnail_url(settings, media.id, media.thumbnail_key, now),
            width=media.width,
            height=media.height,
            duration=media.duration_seconds or float(generation.duration),
        )
    fields: dict[str, Any] = {
        "video_generation_id": generation.id,
        "status": generation.status,
        "prompt": generation.prompt,
        "size": generation.size,
        "duration": generation.duration,
        "has_audio": generation.has_audio,
        "model": generation.model,
        "created_at": iso_z(generation.created_at) or "",
        "video": video,
        "credits_used": generation.credits_used,
    }
    if generation.status == "failed":
        fields["error"] = JobErrorBody(
            code=generation.error_code or ERROR_CODE,
            message=generation.error_message or "The video could not be generated",
        )
    # Only the fields set here are serialised, so `error` appears on failed jobs alone.
    return VideoGenerationOut(**fields)


async def get(
    session: AsyncSession, settings: Settings, actor: Actor, generation_id: str
) -> VideoGenerationOut:
    """A video generation of the actor's workspace and mode; 404 for anything else."""
    generation = await get_or_404(
        generation_id,
        lambda canonical: repository.get_in_workspace(
            session, actor.workspace_id, actor.mode, canonical
        ),
        "Video generation not found",
    )
    media = await repository.live_media(session, generation.media_id)
    return render(generation, media, settings)


async def succeed(
    session: AsyncSession, settings: Settings, generation_id: str, media: Media
) -> VideoGeneration | None:
    """Complete with the stored `media` and capture the hold; once (None if gone or
    already finished)."""
    generation = await paid.claim(session, VIDEOS, generation_id)
    if generation is None:
        return None
    generation.media_id = media.id

    async def announce(row: VideoGeneration) -> Mapping[str, Any]:
        return render(row, media, settings).model_dump(mode="json", exclude_unset=True)

    await paid.succeed(
        session,
        VIDEOS,
        generation,
        reason=f"{generation.duration} s video generated",
        event_data=announce,
    )
    return generation


async def fail(
    session: AsyncSession, settings: Settings, generation_id: str, reason: str
) -> VideoGeneration | None:
    """Mark failed with the client-safe `reason` and refund the whole hold; once (None if
    gone or already finished)."""
    generation = await paid.claim(session, VIDEOS, generation_id)
    if generation is None:
        return None

    async def announce(row: VideoGeneration) -> Mapping[str, Any]:
        return render(row, None, settings).model_dump(mode="json", exclude_unset=True)

    await paid.fail(
        session,
        VIDEOS,
        generation,
        message=f"The video could not be generated: {reason}",
        reason="video generation failed",
        event_data=announce,
    )
    return generation

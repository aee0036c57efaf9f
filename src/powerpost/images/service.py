"""Image generation (§6.6–6.7): validate, hold credits, queue; conclude and settle.

The lifecycle is the paid-job seam's (`jobs.paid`, work `IMAGES`): a start writes the
generation row, the credit hold (reference `image_generation:<id>`) and the job in the
caller's transaction, so a 402 or any other refusal leaves nothing behind. The job stores
each good picture as workspace media, then `conclude` settles in one transaction with the
final status and the webhook event: every stored picture is charged at the held unit
price, every failed one is given back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.config import Settings
from powerpost.images import repository
from powerpost.images.schemas import (
    GeneratedImage,
    ImageGenerateRequest,
    ImageGenerationOut,
    ImageGenerationStarted,
)
from powerpost.jobs import paid
from powerpost.kit.actor import Actor, price_for
from powerpost.kit.clock import iso_z, utcnow
from powerpost.kit.dry_run import Checks, DryRun
from powerpost.kit.errors import Conflict, ValidationError
from powerpost.kit.ids import new_id, parse_uuid
from powerpost.kit.job_schemas import JobErrorBody
from powerpost.kit.lookup import get_or_404
from powerpost.kit.platforms import POST_TYPES
from powerpost.media.service import get_workspace_media
from powerpost.media.signing import signed_url, thumbnail_url
from powerpost.models import ImageGeneration, ImageGenerationImage, Media

JOB_KIND = "image.generate"
ERROR_CODE = "IMAGE_GENERATION_FAILED"
STATUS_PATH = "/api/v1/images/generations/{id}"
MAX_ATTEMPTS = 3
FINISHED = frozenset({"completed", "failed"})
MAX_PROMPT_CHARS = 2000
_ERROR_CHARS = paid.ERROR_MESSAGE_MAX

# gpt-image-1.5 answers in three aspect ratios, none of them 4:5 (§6.6).
UNSUPPORTED_SIZES: dict[str, frozenset[str]] = {"gpt-image-1.5": frozenset({"feed"})}

_CAPTION_NOISE = re.compile(r"https?://\S+|www\.\S+|(?<!\w)[#@][\w.]+")


IMAGES: paid.PaidWork[ImageGeneration] = paid.PaidWork(
    model=ImageGeneration,
    kind=JOB_KIND,
    reference_prefix="image_generation",
    error_code=ERROR_CODE,
    completed_event="image_generation.completed",
    failed_event="image_generation.failed",
    max_attempts=MAX_ATTEMPTS,
)


def hold_reference(generation_id: str) -> str:
    return IMAGES.reference(generation_id)


def status_url(generation_id: str) -> str:
    return STATUS_PATH.format(id=generation_id)


# --- starting -------------------------------------------------------------------------------


def _check_body(body: ImageGenerateRequest) -> None:
    """The rules that need more than one field; before any lookup, so a bad body is a 400
    whatever the ids in it."""
    if body.size in UNSUPPORTED_SIZES.get(body.model, frozenset()):
        raise ValidationError(f"The model {body.model} does not support the size '{body.size}'")
    # measured as stored: surrounding whitespace is dropped, so it does not count
    prompt_chars = len((body.prompt or "").strip())
    if prompt_chars > MAX_PROMPT_CHARS:
        raise _invalid(
            "prompt",
            f"'prompt' must be at most {MAX_PROMPT_CHARS} characters long (got {prompt_chars})",
        )
    _check_distinct_style_images(body.style_images or [])
    if body.generation_id is None:
        if body.prompt is None or not body.prompt.strip():
            raise ValidationError("'prompt' is required unless 'generation_id' is given")
        if body.source_post_type is not None:
            raise ValidationError("'source_post_type' needs 'generation_id'")
    elif body.style_images:
        raise ValidationError(
            "Use either 'style_images' (reference mode) or 'generation_id' (post mode), not both"
        )
    if body.source_post_type is not None and body.source_post_type not in POST_TYPES:
        raise ValidationError(f"Unknown post type '{body.source_post_type[:40]}'")


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError(message, details=[{"field": field, "message": message}])


def _check_distinct_style_images(media_ids: Sequence[str]) -> None:
    # the same picture twice would be sent (and weighted) as two references
    seen: set[str] = set()
    for raw in media_ids:
        key = parse_uuid(raw) or raw
        if key in seen:
            raise _invalid("style_images", f"'style_images' lists '{raw[:64]}' more than once")
        seen.add(key)


def caption_text(output: object) -> str | None:
    """One platform's caption as plain text: YouTube's {title, description} joined."""
    if isinstance(output, str):
        return output.strip() or None
    if isinstance(output, Mapping):
        parts = [str(output.get(k) or "").strip() for k in ("title", "description")]
        joined = "\n".join(p for p in parts if p)
        return joined or None
    return None


def prompt_from_caption(caption: str) -> str:
    """The prompt shown for a post-mode job started without one: the caption's words,
    without links, mentions and hashtags."""
    cleaned = re.sub(r"\s+", " ", _CAPTION_NOISE.sub(" ", caption)).strip()
    return (cleaned or caption.strip())[:MAX_PROMPT_CHARS]


async def _post_source(
    session: AsyncSession, actor: Actor, generation_id: str, wanted_type: str | None
) -> tuple[str, str, str]:
    """(generation id, post type, caption) of a post-mode request: a caption generation of
    the actor's workspace and mode."""
    source = await get_or_404(
        generation_id,
        lambda canonical: repository.caption_generation(
            session, actor.workspace_id, actor.mode, canonical
        ),
        f"Generation '{generation_id[:64]}' not found",
    )
    if source.status != "completed":
        raise Conflict(
            f"Generation '{source.id}' is {source.status}; images need a completed generation"
        )
    post_types = [str(p) for p in source.post_types]
    post_type = wanted_type or (post_types[0] if post_types else None)
    if post_type is None or post_type not in post_types:
        raise ValidationError(
            f"'source_post_type' must be one of the generation's post types: "
            f"{', '.join(post_types)}"
        )
    caption = caption_text((source.outputs or {}).get(POST_TYPES[post_type]))
    if caption is None:
        raise Conflict(f"Generation '{source.id}' has no caption for {post_type}")
    return source.id, post_type, caption


async def _style_images(
    session: AsyncSession, actor: Actor, media_ids: Sequence[str]
) -> list[Media]:
    found = await get_workspace_media(session, actor.workspace_id, actor.mode, list(media_ids))
    for media in found:
        if media.kind != "image":
            raise ValidationError(f"Style image '{media.id}' is a {media.kind}, not an image")
    return found


async def start(
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    body: ImageGenerateRequest,
    *,
    dry_run: bool = False,
) -> ImageGenerationStarted | DryRun:
    """Start generating pictures, or (`dry_run`) run the same checks and quote the price."""
    checks = Checks()
    _check_body(body)
    checks.add("request is valid")
    styles = await _style_images(session, actor, body.style_images or [])
    if styles:
        checks.add("style images found in this workspace")

    prompt = (body.prompt or "").strip()
    input_mode = "reference" if styles else "text"
    source_id: str | None = None
    post_type: str | None = None
    caption: str | None = None
    if body.generation_id is not None:
        input_mode = "post"
        source_id, post_type, caption = await _post_source(
            session, actor, body.generation_id, body.source_post_type
        )
        checks.add("generation found in this workspace, completed, with a caption")

    # test mode holds nothing, so it has nothing per picture to charge either
    unit_price = price_for(actor.mode, settings.prices.image(body.model))
    total = unit_price * body.quantity
    if dry_run:
        return await paid.quote(session, actor, amount=total, checks=checks)
    generation = ImageGeneration(
        id=new_id(),
        account_id=actor.account_id,
        workspace_id=actor.workspace_id,
        mode=actor.mode,
        api_key_id=actor.api_key_id,
        status="processing",
        input_mode=input_mode,
        prompt=prompt or prompt_from_caption(caption or ""),
        prompt_from_caption=not prompt,
        size=body.size,
        quantity=body.quantity,
        model=body.model,
        enhance_prompt=body.enhance_prompt,
        style_media_ids=[m.id for m in styles],
        source_generation_id=source_id,
        source_post_type=post_type,
        caption=caption,
        unit_price=unit_price,
        credits_used=total,
        error_code=None,
        error_message=None,
        created_at=utcnow(),
        finished_at=None,
    )
    remaining = await paid.start(
        session,
        IMAGES,
        actor,
        generation,
        amount=total,
        reason=f"{body.quantity} image(s) with {body.model}",
    )
    return ImageGenerationStarted(
        image_generation_id=generation.id,
        status="processing",
        credits_used=generation.credits_used,
        remaining_credits=remaining,
        status_url=status_url(generation.id),
    )


# --- reading --------------------------------------------------------------------------------


def render(
    generation: ImageGeneration,
    images: Sequence[Media],
    settings: Settings,
    now: datetime | None = None,
) -> ImageGenerationOut:
    fields: dict[str, Any] = {
        "image_generation_id": generation.id,
        "status": generation.status,
        "prompt": generation.prompt,
        "size": generation.size,
        "quantity": generation.quantity,
        "model": generation.model,
        "created_at": iso_z(generation.created_at) or "",
        "images": [
            GeneratedImage(
                media_id=media.id,
                url=signed_url(settings, media.id, "original", now),
                thumbnail_url=thumbnail_url(settings, media.id, media.thumbnail_key, now),
                width=media.width,
                height=media.height,
            )
            for media in images
        ],
        "credits_used": generation.credits_used,
    }
    if generation.status == "failed":
        fields["error"] = JobErrorBody(
            code=generation.error_code or ERROR_CODE,
            message=generation.error_message or "The images could not be generated",
        )
    # Only the fields set here are serialised, so `error` appears on failed jobs alone.
    return ImageGenerationOut(**fields)


async def get(
    session: AsyncSession, settings: Settings, actor: Actor, generation_id: str
) -> ImageGenerationOut:
    """An image generation of the actor's workspace and mode; 404 for anything else."""
    generation = await get_or_404(
        generation_id,
        lambda canonical: repository.get_in_workspace(
            session, actor.workspace_id, actor.mode, canonical
        ),
        "Image generation not found",
    )
    images = await repository.stored_images(session, generation.id)
    return render(generation, images, settings)


# --- concluding (the job) -------------------------------------------------------------------


async def conclude(
    session: AsyncSession,
    settings: Settings,
    generation_id: str,
    failures: Mapping[int, str],
) -> ImageGeneration | None:
    """Record the outcome once: status, failed positions, settlement, webhook event.

    `failures` gives the (client-safe) reason for positions that have no stored picture; a
    position with neither is reported with a generic reason. Returns None when the
    generation is gone or had already concluded.
    """
    generation = await paid.claim(session, IMAGES, generation_id)
    if generation is None:
        return None
    recorded = {o.position: o for o in await repository.outcomes(session, generation.id)}
    good = sum(1 for o in recorded.values() if o.media_id is not None)
    failed: dict[int, str] = {}
    now = utcnow()
    for position in range(generation.quantity):
        outcome = recorded.get(position)
        if outcome is not None and outcome.media_id is not None:
            continue
        reason = (failures.get(position) or "the picture was not produced")[:_ERROR_CHARS]
        failed[position] = reason
        if outcome is None:
            session.add(
                ImageGenerationImage(
                    id=new_id(),
                    image_generation_id=generation.id,
                    position=position,
                    media_id=None,
                    error=reason,
                    created_at=now,
                )
            )

    async def announce(row: ImageGeneration) -> Mapping[str, Any]:
        images = await repository.stored_images(session, row.id)
        return render(row, images, settings).model_dump(mode="json", exclude_unset=True)

    if not failed:
        await paid.succeed(
            session,
            IMAGES,
            generation,
            charged=good * generation.unit_price,
            reason=f"{good} of {generation.quantity} image(s) generated",
            event_data=announce,
        )
        return generation
    first = failed[min(failed)]
    if good:
        message = (
            f"{len(failed)} of {generation.quantity} images could not be generated "
            f"(refunded): {first}"
        )
    else:
        message = f"The images could not be generated: {first}"
    await paid.fail(
        session,
        IMAGES,
        generation,
        message=message,
        # the pictures that were stored are charged; the hold of the others is given back
        charged=good * generation.unit_price,
        reason=(
            f"{good} of {generation.quantity} image(s) generated"
            if good
            else "image generation failed"
        ),
        event_data=announce,
    )
    return generation

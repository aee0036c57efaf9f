"""Caption generation (§6.3–6.5): validate, price, hold, queue; conclude, settle, report.

The lifecycle is the paid-job seam's (`jobs.paid`, work `CAPTIONS`): a start writes, in the
request's one transaction, the generation row (status `processing`), the credit hold
(reference `generation:<id>`) and the `caption.generate` job; a 402 leaves nothing behind.
The job ends in `complete` or `fail`, each a single transaction with the job's completion:
the locked status change, the settlement or refund, and the webhook event commit together,
exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.config import Settings
from powerpost.generation import repository, styles
from powerpost.generation.schemas import (
    FailedSource,
    GenerateRequest,
    GenerationDetail,
    GenerationError,
    GenerationStarted,
    GenerationStatus,
    GenerationSummary,
    YoutubeOutput,
)
from powerpost.jobs import paid
from powerpost.kit.actor import Actor
from powerpost.kit.clock import iso_z, utcnow
from powerpost.kit.dry_run import Checks, DryRun
from powerpost.kit.errors import ValidationError
from powerpost.kit.ids import new_id, parse_uuid
from powerpost.kit.lookup import get_or_404
from powerpost.kit.netguard import AddressPolicy, UnsafeURL, check_url_shape
from powerpost.kit.pagination import Page, paginate
from powerpost.kit.platforms import POST_TYPES, platform_of
from powerpost.media.service import get_workspace_media
from powerpost.models import Generation, Media, WritingStyleRow

JOB_KIND = "caption.generate"
ERROR_CODE = "GENERATION_FAILED"
FINISHED = repository.FINISHED
PROMPT_MIN, PROMPT_MAX = 3, 2000
MAX_IMAGES = 10
MAX_SOURCE_URLS = 10
CTA_MAX = 100

CAPTIONS: paid.PaidWork[Generation] = paid.PaidWork(
    model=Generation,
    kind=JOB_KIND,
    reference_prefix="generation",
    error_code=ERROR_CODE,
    completed_event="generation.completed",
    failed_event="generation.failed",
    max_attempts=5,
)


def hold_reference(generation_id: str) -> str:
    return CAPTIONS.reference(generation_id)


def status_url(generation_id: str) -> str:
    return f"/api/v1/content/generations/{generation_id}"


def source_policy(settings: Settings) -> AddressPolicy:
    """Where source URLs may point: public HTTPS, plus what the operator allowed."""
    return AddressPolicy(
        allow_http=settings.providers.allow_http_urls,
        allow_loopback=settings.providers.allow_loopback_urls,
    )


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError(message, details=[{"field": field, "message": message}])


# --- starting ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Checked:
    """The body after the checks that need no database (every 400 before any 404)."""

    prompt: str | None
    media_ids: list[str]
    post_types: list[str]
    platforms: list[str]
    cta_text: str | None
    source_urls: list[str]


def _check_prompt(prompt: str | None, has_media: bool) -> str | None:
    if prompt is None:
        if not has_media:
            raise _invalid("prompt", "'prompt' is required when no media_ids are given")
        return None
    text = prompt.strip()
    if len(text) < PROMPT_MIN:
        raise _invalid("prompt", f"'prompt' must be at least {PROMPT_MIN} characters long")
    if len(text) > PROMPT_MAX:
        raise _invalid(
            "prompt", f"'prompt' must be at most {PROMPT_MAX} characters long (got {len(text)})"
        )
    return text


def _check_media_ids(media_ids: Sequence[str]) -> list[str]:
    if len(media_ids) > MAX_IMAGES:
        raise _invalid(
            "media_ids",
            f"'media_ids' holds at most {MAX_IMAGES} images (or one video); got {len(media_ids)}",
        )
    seen: set[str] = set()
    for raw in media_ids:
        key = parse_uuid(raw) or raw
        if key in seen:
            raise _invalid("media_ids", f"'media_ids' lists '{raw[:64]}' more than once")
        seen.add(key)
    return list(media_ids)


def _check_post_types(post_types: Sequence[str]) -> tuple[list[str], list[str]]:
    if not post_types:
        raise _invalid("post_types", "'post_types' needs at least one post type")
    for value in post_types:
        if value not in POST_TYPES:
            raise _invalid(
                "post_types",
                f"'post_types' has an unknown post type '{value[:40]}'; known: "
                + ", ".join(POST_TYPES),
            )
    distinct = list(dict.fromkeys(post_types))
    platforms = list(dict.fromkeys(platform_of(p) for p in distinct))
    return distinct, platforms


def _check_cta(cta_text: str | None) -> str | None:
    if cta_text is None:
        return None
    text = cta_text.strip()
    if len(text) > CTA_MAX:
        raise _invalid(
            "cta_text", f"'cta_text' must be at most {CTA_MAX} characters long (got {len(text)})"
        )
    return text or None


def _check_source_urls(urls: Sequence[str], policy: AddressPolicy) -> list[str]:
    if len(urls) > MAX_SOURCE_URLS:
        raise _invalid(
            "source_urls",
            f"'source_urls' holds at most {MAX_SOURCE_URLS} URLs; got {len(urls)}",
        )
    seen: set[str] = set()
    for index, url in enumerate(urls):
        try:
            check_url_shape(url, policy)
        except UnsafeURL as exc:
            raise _invalid(f"source_urls.{index}", f"'source_urls[{index}]': {exc}") from None
        if url in seen:
            raise _invalid("source_urls", f"'source_urls' lists '{url[:200]}' more than once")
        seen.add(url)
    return list(urls)


def check_request(body: GenerateRequest, settings: Settings) -> _Checked:
    """Every rule of §6.3 that needs no database; raises ValidationError naming the field."""
    media_ids = _check_media_ids(body.media_ids or [])
    prompt = _check_prompt(body.prompt, bool(media_ids))
    post_types, platforms = _check_post_types(body.post_types)
    cta = _check_cta(body.cta_text)
    urls = _check_source_urls(body.source_urls or [], source_policy(settings))
    return _Checked(prompt, media_ids, post_types, platforms, cta, urls)


def _check_media_kinds(media: Sequence[Media]) -> None:
    videos = [m for m in media if m.kind == "video"]
    if videos and len(media) > 1:
        raise _invalid(
            "media_ids",
            "'media_ids' takes exactly one video on its own, or up to 10 images; "
            "videos and images cannot be mixed",
        )


async def start_generation(
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    body: GenerateRequest,
    *,
    dry_run: bool = False,
) -> GenerationStarted | DryRun:
    """Start writing captions, or (`dry_run`) run the same checks and quote the price."""
    checks = Checks()
    checked = check_request(body, settings)
    checks.add("request is valid")
    workspace_id = actor.workspace_id
    media = await get_workspace_media(session, workspace_id, actor.mode, checked.media_ids)
    style: WritingStyleRow | None = None
    if body.writing_style_id is not None:
        style = await styles.get_style(session, workspace_id, body.writing_style_id)
    _check_media_kinds(media)
    if media:
        checks.add("media found in this workspace")
    if style is not None:
        checks.add("writing style found in this workspace")

    images = sum(1 for m in media if m.kind == "image")
    video_seconds = sum(m.duration_seconds or 0.0 for m in media if m.kind == "video")
    price = settings.prices.caption(
        body.research_mode, images, video_seconds or None, len(checked.source_urls)
    )
    if dry_run:
        return await paid.quote(session, actor, amount=price, checks=checks)
    now = utcnow()
    generation = Generation(
        id=new_id(),
        account_id=actor.account_id,
        workspace_id=workspace_id,
        mode=actor.mode,
        api_key_id=actor.api_key_id,
        status="processing",
        prompt=checked.prompt,
        post_types=checked.post_types,
        platforms=checked.platforms,
        research_mode=body.research_mode,
        media_ids=[m.id for m in media],
        writing_style_id=style.id if style is not None else None,
        cta_text=checked.cta_text,
        source_urls=checked.source_urls,
        source_failures=[],
        credits_used=price,
        outputs=None,
        error_code=None,
        error_message=None,
        created_at=now,
        updated_at=now,
        finished_at=None,
    )
    remaining = await paid.start(
        session,
        CAPTIONS,
        actor,
        generation,
        amount=price,
        reason="caption generation",
        payload={
            # What one source URL cost when this was priced: a source that cannot be used
            # gives back exactly that, even if the operator changes prices meanwhile.
            "per_source_url": settings.prices.caption_per_source_url,
            "style": styles.snapshot(styles.to_provider(style)) if style is not None else None,
        },
    )
    return GenerationStarted(
        generation_id=generation.id,
        status="processing",
        credits_used=generation.credits_used,
        remaining_credits=remaining,
        status_url=status_url(generation.id),
    )


# --- reading ----------------------------------------------------------------------------------


def summary(generation: Generation) -> GenerationSummary:
    return GenerationSummary(
        generation_id=generation.id,
        status=_status(generation.status),
        prompt=generation.prompt,
        platforms=list(generation.platforms or []),
        research_mode="deep" if generation.research_mode == "deep" else "regular",
        credits_used=generation.credits_used,
        created_at=iso_z(generation.created_at) or "",
    )


def detail(generation: Generation) -> GenerationDetail:
    """The list fields, plus `outputs` when completed or `error` when failed. Fields that do
    not apply are left unset (the route drops unset fields)."""
    base = summary(generation).model_dump()
    extra: dict[str, Any] = {"post_types": list(generation.post_types or [])}
    if generation.status == "completed" and generation.outputs is not None:
        extra["outputs"] = _outputs(generation.outputs)
    if generation.status == "failed":
        extra["error"] = GenerationError(
            code=generation.error_code or ERROR_CODE,
            message=generation.error_message or "Caption generation failed",
        )
    if generation.source_failures:
        extra["failed_sources"] = [
            FailedSource(url=str(f.get("url", "")), reason=str(f.get("reason", "")))
            for f in generation.source_failures
        ]
    return GenerationDetail(**base, **extra)


_STATUSES: dict[str, GenerationStatus] = {
    "pending": "pending",
    "processing": "processing",
    "completed": "completed",
    "failed": "failed",
}


def _status(value: str) -> GenerationStatus:
    return _STATUSES.get(value, "processing")


def _outputs(stored: Mapping[str, Any]) -> dict[str, str | YoutubeOutput]:
    result: dict[str, str | YoutubeOutput] = {}
    for platform, value in stored.items():
        if isinstance(value, dict):
            result[platform] = YoutubeOutput(
                title=str(value.get("title", "")), description=str(value.get("description", ""))
            )
        else:
            result[platform] = str(value)
    return result


async def get_generation(
    session: AsyncSession, workspace_id: str, mode: str, generation_id: str
) -> Generation:
    """A generation of this workspace and mode; 404 for anything else."""
    return await get_or_404(
        generation_id,
        lambda canonical: repository.get_workspace_generation(
            session, workspace_id, mode, canonical
        ),
        "Generation not found",
    )


async def list_generations(
    session: AsyncSession,
    workspace_id: str,
    mode: str,
    *,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> Page[Generation]:
    return await paginate(
        session,
        repository.workspace_generations(workspace_id, mode, status),
        Generation.created_at,
        Generation.id,
        limit=limit,
        cursor=cursor,
        key=lambda g: (g.created_at, g.id),
    )


# --- concluding -------------------------------------------------------------------------------


async def complete(
    session: AsyncSession,
    generation_id: str,
    outputs: Mapping[str, Any],
    *,
    source_failures: Sequence[Mapping[str, str]],
    per_source_url: int,
) -> bool:
    """Record the captions, capture the price less the unused sources, announce it.

    False (and nothing written) when the generation had already finished.
    """
    generation = await paid.claim(session, CAPTIONS, generation_id)
    if generation is None:
        return False
    refund_for_sources = max(0, per_source_url) * len(source_failures)
    generation.outputs = dict(outputs)
    generation.source_failures = [dict(f) for f in source_failures]
    generation.updated_at = utcnow()
    await paid.succeed(
        session,
        CAPTIONS,
        generation,
        charged=max(0, generation.credits_used - refund_for_sources),
        reason="caption generation",
        event_data=_completed_event,
    )
    return True


async def fail(session: AsyncSession, generation_id: str, message: str) -> bool:
    """Mark the generation failed with `message` (client-safe), refund its hold, announce
    it; exactly once. False (and nothing written) when the generation had already finished.
    """
    generation = await paid.claim(session, CAPTIONS, generation_id)
    if generation is None:
        return False
    generation.outputs = None
    generation.updated_at = utcnow()
    await paid.fail(
        session,
        CAPTIONS,
        generation,
        message=message.strip() or "Caption generation failed",
        reason="caption generation failed",
        event_data=_failed_event,
    )
    return True


async def _completed_event(generation: Generation) -> Mapping[str, Any]:
    return {
        "generation_id": generation.id,
        "status": "completed",
        "outputs": dict(generation.outputs or {}),
    }


async def _failed_event(generation: Generation) -> Mapping[str, Any]:
    return {
        "generation_id": generation.id,
        "status": "failed",
        "error_code": generation.error_code or ERROR_CODE,
        "error_message": generation.error_message or "",
    }

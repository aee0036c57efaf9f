"""Caption generation (§6.3–6.5): validate, price, hold, queue; conclude, settle, report.

A start writes, in the request's one transaction, the credit hold (reference
`generation:<id>`), the generation row (status `processing`) and the `caption.generate`
job; a 402 leaves nothing behind. The job ends in `complete` or `fail`, each a single
transaction with the job's completion: the guarded status change, the settlement or
refund, and the webhook event commit together, exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.config import Settings
from powerpost.credits import service as credits
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
from powerpost.jobs import enqueue
from powerpost.kit.clock import iso_z, utcnow
from powerpost.kit.errors import ValidationError
from powerpost.kit.ids import new_id, parse_uuid
from powerpost.kit.lookup import get_or_404
from powerpost.kit.netguard import AddressPolicy, UnsafeURL, check_url_shape
from powerpost.kit.pagination import Page, paginate
from powerpost.kit.platforms import POST_TYPES, platform_of
from powerpost.media.service import get_workspace_media
from powerpost.models import Generation, Media, WritingStyleRow
from powerpost.webhooks.events import record_event

JOB_KIND = "caption.generate"
ERROR_CODE = "GENERATION_FAILED"
FINISHED = repository.FINISHED
PROMPT_MIN, PROMPT_MAX = 3, 2000
MAX_IMAGES = 10
MAX_SOURCE_URLS = 10
CTA_MAX = 100
ERROR_MESSAGE_MAX = 500


def hold_reference(generation_id: str) -> str:
    return f"generation:{generation_id}"


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
    *,
    account_id: str,
    workspace_id: str,
    api_key_id: str | None,
    body: GenerateRequest,
) -> GenerationStarted:
    checked = check_request(body, settings)
    media = await get_workspace_media(session, workspace_id, checked.media_ids)
    style: WritingStyleRow | None = None
    if body.writing_style_id is not None:
        style = await styles.get_style(session, workspace_id, body.writing_style_id)
    _check_media_kinds(media)

    images = sum(1 for m in media if m.kind == "image")
    video_seconds = sum(m.duration_seconds or 0.0 for m in media if m.kind == "video")
    price = settings.prices.caption(
        body.research_mode, images, video_seconds or None, len(checked.source_urls)
    )
    generation_id = new_id()
    # The hold goes first: when it is refused (402) nothing else has been written.
    remaining = await credits.hold(
        session,
        account_id,
        price,
        reference=hold_reference(generation_id),
        reason="caption generation",
        workspace_id=workspace_id,
        api_key_id=api_key_id,
    )
    now = utcnow()
    session.add(
        Generation(
            id=generation_id,
            account_id=account_id,
            workspace_id=workspace_id,
            api_key_id=api_key_id,
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
            completed_at=None,
        )
    )
    await enqueue(
        session,
        kind=JOB_KIND,
        account_id=account_id,
        workspace_id=workspace_id,
        subject_id=generation_id,
        payload={
            # What one source URL cost when this was priced: a source that cannot be used
            # gives back exactly that, even if the operator changes prices meanwhile.
            "per_source_url": settings.prices.caption_per_source_url,
            "style": styles.snapshot(styles.to_provider(style)) if style is not None else None,
        },
    )
    return GenerationStarted(
        generation_id=generation_id,
        status="processing",
        credits_used=price,
        remaining_credits=remaining,
        status_url=status_url(generation_id),
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
    session: AsyncSession, workspace_id: str, generation_id: str
) -> Generation:
    return await get_or_404(
        generation_id,
        lambda canonical: repository.get_workspace_generation(session, workspace_id, canonical),
        "Generation not found",
    )


async def list_generations(
    session: AsyncSession,
    workspace_id: str,
    *,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> Page[Generation]:
    return await paginate(
        session,
        repository.workspace_generations(workspace_id, status),
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
    generation = await repository.get_generation(session, generation_id)
    if generation is None:
        return False
    refund_for_sources = max(0, per_source_url) * len(source_failures)
    capture = max(0, generation.credits_used - refund_for_sources)
    now = utcnow()
    concluded = await repository.conclude(
        session,
        generation_id,
        {
            "status": "completed",
            "outputs": dict(outputs),
            "source_failures": [dict(f) for f in source_failures],
            "credits_used": capture,
            "error_code": None,
            "error_message": None,
            "updated_at": now,
            "completed_at": now,
        },
    )
    if not concluded:
        return False
    captured = await credits.settle(
        session, hold_reference(generation_id), capture=capture, reason="caption generation"
    )
    if captured != capture:
        # The hold had been closed already (an operator refund): report what was charged.
        await repository.set_credits_used(session, generation_id, captured)
    await record_event(
        session,
        workspace_id=generation.workspace_id,
        event="generation.completed",
        data={"generation_id": generation_id, "status": "completed", "outputs": dict(outputs)},
    )
    return True


async def fail(session: AsyncSession, generation_id: str, message: str) -> bool:
    """Mark the generation failed, refund its hold, announce it; exactly once.

    False (and nothing written) when the generation had already finished.
    """
    generation = await repository.get_generation(session, generation_id)
    if generation is None:
        return False
    message = message.strip()[:ERROR_MESSAGE_MAX] or "Caption generation failed"
    now = utcnow()
    concluded = await repository.conclude(
        session,
        generation_id,
        {
            "status": "failed",
            "outputs": None,
            "credits_used": 0,
            "error_code": ERROR_CODE,
            "error_message": message,
            "updated_at": now,
            "completed_at": now,
        },
    )
    if not concluded:
        return False
    await credits.refund(session, hold_reference(generation_id), reason="caption generation failed")
    await record_event(
        session,
        workspace_id=generation.workspace_id,
        event="generation.failed",
        data={
            "generation_id": generation_id,
            "status": "failed",
            "error_code": ERROR_CODE,
            "error_message": message,
        },
    )
    return True

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from powerpost.auth.capabilities import ContentGenerate, ContentRead
from powerpost.generation import service
from powerpost.generation.schemas import (
    GenerateRequest,
    GenerationDetail,
    GenerationList,
    GenerationStarted,
)
from powerpost.kit.actor import actor_from
from powerpost.kit.deps import AppSettings, ReadSession, WriteSession
from powerpost.kit.dry_run import DryRun, DryRunFlag
from powerpost.kit.openapi import error_responses
from powerpost.kit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam
from powerpost.kit.routing import ApiRoute, Idempotent

router = APIRouter(route_class=ApiRoute, tags=["Content"])


@router.post(
    "/content/generate",
    operation_id="generateContent",
    dependencies=[Idempotent],
    response_model=GenerationStarted | DryRun,
    responses=error_responses(400, 401, 402, 403, 404, 429),
)
async def generate_content(
    auth: ContentGenerate,
    body: GenerateRequest,
    session: WriteSession,
    settings: AppSettings,
    dry_run: DryRunFlag = False,
) -> GenerationStarted | DryRun:
    """Start writing one caption per platform from a prompt, images (≤ 10) or one video.

    Credits are held now (see `credits_used` and `remaining_credits`); poll `status_url`.
    With `dry_run=true`: every check and the price, nothing started.
    """
    return await service.start_generation(
        session, settings, actor_from(auth), body, dry_run=dry_run
    )


@router.get(
    "/content/generations",
    operation_id="listGenerations",
    response_model=GenerationList,
    responses=error_responses(400, 401, 403, 429),
)
async def list_generations(
    auth: ContentRead,
    session: ReadSession,
    # An empty value means "not given": clients fill the documented
    # `?status=&limit=&cursor=` template and leave parts empty.
    status: Annotated[
        Literal["pending", "processing", "completed", "failed", ""] | None,
        Query(description="Only generations with this status"),
    ] = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> GenerationList:
    """The workspace's generations, newest first; pass `next_cursor` to get the next page."""
    actor = actor_from(auth)
    page = await service.list_generations(
        session,
        actor.workspace_id,
        actor.mode,
        status=status or None,
        limit=limit,
        cursor=cursor or None,
    )
    return GenerationList(
        data=[service.summary(g) for g in page.items],
        next_cursor=page.next_cursor,
        has_more=page.has_more,
    )


@router.get(
    "/content/generations/{generation_id}",
    operation_id="getGeneration",
    response_model=GenerationDetail,
    response_model_exclude_unset=True,
    responses=error_responses(401, 403, 404, 429),
)
async def get_generation(
    auth: ContentRead, generation_id: str, session: ReadSession
) -> GenerationDetail:
    """One generation: `outputs` once completed, `error` once failed."""
    actor = actor_from(auth)
    generation = await service.get_generation(
        session, actor.workspace_id, actor.mode, generation_id
    )
    return service.detail(generation)

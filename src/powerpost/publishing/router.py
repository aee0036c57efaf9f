from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header

from powerpost.auth.capabilities import PostsPublish
from powerpost.kit.deps import AppSettings, WriteSession
from powerpost.kit.dry_run import DryRun, DryRunFlag
from powerpost.kit.openapi import error_responses
from powerpost.kit.routing import ApiRoute, Idempotent
from powerpost.posts.router import author_of
from powerpost.publishing import service
from powerpost.publishing.schemas import (
    Cancelled,
    PublishStarted,
    Scheduled,
    ScheduleRequest,
)

router = APIRouter(route_class=ApiRoute, tags=["Publishing"])

TestScenario = Annotated[
    str | None,
    Header(
        alias="X-Test-Scenario",
        max_length=32,
        description="Test-mode keys only: make the simulated platforms fail this way "
        "(token_expired, rate_limited, media_rejected, timeout, partial)",
    ),
]


@router.post(
    "/posts/{post_id}/publish",
    dependencies=[Idempotent],
    operation_id="publishPost",
    response_model=PublishStarted | DryRun,
    responses=error_responses(400, 401, 402, 403, 404, 409, 422, 429),
)
async def publish_post(
    auth: PostsPublish,
    post_id: str,
    session: WriteSession,
    settings: AppSettings,
    dry_run: DryRunFlag = False,
    x_test_scenario: TestScenario = None,
) -> PublishStarted | DryRun:
    """Publish a draft now: one job per item; poll `status_url` until every item is
    `posted` or `failed`. Credits are held now and charged only for what posts."""
    author = author_of(auth)
    return await service.publish(
        session,
        settings,
        author,
        post_id,
        scenario=service.parse_scenario(author.mode, x_test_scenario),
        dry_run=dry_run,
    )


@router.post(
    "/posts/{post_id}/schedule",
    dependencies=[Idempotent],
    operation_id="schedulePost",
    response_model=Scheduled | DryRun,
    responses=error_responses(400, 401, 402, 403, 404, 409, 422, 429),
)
async def schedule_post(
    auth: PostsPublish,
    post_id: str,
    body: ScheduleRequest,
    session: WriteSession,
    settings: AppSettings,
    dry_run: DryRunFlag = False,
) -> Scheduled | DryRun:
    """Publish a draft at `scheduled_at` (1 minute to 60 days ahead, with a UTC offset)."""
    return await service.schedule(
        session, settings, author_of(auth), post_id, body.scheduled_at, dry_run=dry_run
    )


@router.post(
    "/posts/{post_id}/cancel",
    operation_id="cancelScheduledPost",
    response_model=Cancelled,
    responses=error_responses(401, 403, 404, 409, 429),
)
async def cancel_post(auth: PostsPublish, post_id: str, session: WriteSession) -> Cancelled:
    """Take a scheduled post back to `draft`."""
    author = author_of(auth)
    await service.cancel(session, author, post_id)
    return Cancelled(post_id=post_id, status="draft")


@router.post(
    "/posts/{post_id}/retry",
    dependencies=[Idempotent],
    operation_id="retryPost",
    response_model=PublishStarted | DryRun,
    responses=error_responses(400, 401, 402, 403, 404, 409, 422, 429),
)
async def retry_post(
    auth: PostsPublish,
    post_id: str,
    session: WriteSession,
    settings: AppSettings,
    dry_run: DryRunFlag = False,
    x_test_scenario: TestScenario = None,
) -> PublishStarted | DryRun:
    """Publish again only the failed items of a `partial` or `failed` post."""
    author = author_of(auth)
    return await service.retry(
        session,
        settings,
        author,
        post_id,
        scenario=service.parse_scenario(author.mode, x_test_scenario),
        dry_run=dry_run,
    )

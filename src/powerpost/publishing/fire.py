"""A scheduled post firing (`publishing.fire`): at its moment, the post's round opens as a
publish would; if it cannot go out, the post fails and says why."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.jobs import JobContext, JobError, register
from powerpost.kit.clock import utcnow
from powerpost.models import Post
from powerpost.posts.service import Author, post_out
from powerpost.publishing import repository, service
from powerpost.publishing.adapters import INTERNAL_MESSAGE, PLATFORM_ERROR
from powerpost.webhooks.events import record_event


async def fail_scheduled(
    session: AsyncSession, post_id: str, code: str, message: str, now: datetime
) -> None:
    """A scheduled post that cannot go out when its time comes: it and its items fail
    (nothing was held, nothing is charged) and `post.failed` says why."""
    if not await repository.move_post(
        session,
        post_id,
        from_statuses=("scheduled",),
        values={"status": "failed", "updated_at": now},
    ):
        return
    items = await repository.post_items(session, post_id)
    for item in items:
        item.status = "failed"
        item.error_code = code
        item.error_message = message
        item.updated_at = now
    await session.flush()
    post = await session.get(Post, post_id, populate_existing=True)
    if post is not None:
        await record_event(
            session,
            workspace_id=post.workspace_id,
            mode=post.mode,
            event="post.failed",
            data=post_out(post, items).model_dump(mode="json"),
        )


@register(service.FIRE_SCHEDULED)
class FireScheduled:
    """A scheduled post's moment has come: open its round as a publish would.

    Fires once: the move from `scheduled` names the time it was scheduled for, so a
    cancelled or re-scheduled post's old job finds nothing, and a second run of this job
    (another dispatcher, a restart) finds the post already publishing.
    """

    async def run(self, ctx: JobContext) -> None:
        raw = str(ctx.payload.get("scheduled_at", ""))
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        async with ctx.transaction() as session:
            post = await session.get(Post, ctx.subject_id or "", populate_existing=True)
            if post is None or post.status != "scheduled" or post.scheduled_at != moment:
                await ctx.finish(session)
                return
            author = Author(
                account_id=post.account_id,
                workspace_id=post.workspace_id,
                mode=post.mode,
                api_key_id=ctx.payload.get("api_key_id"),
            )
        async with ctx.transaction() as session:
            refused = await service.fire(session, ctx.settings, author, post.id, moment)
            if refused is not None:
                await fail_scheduled(session, post.id, refused.code, refused.message, ctx.now())
            await ctx.finish(session)

    async def on_failure(self, ctx: JobContext, error: JobError) -> None:
        async with ctx.transaction() as session:
            await fail_scheduled(
                session, ctx.subject_id or "", PLATFORM_ERROR, INTERNAL_MESSAGE, utcnow()
            )
            await ctx.finish(session)

"""The publishing jobs: one item to its platform (`publishing.item`), and a scheduled post
firing (`publishing.fire`).

Exactly once, per item: the intent (an attempt row, `pending`) commits *before* the
platform is called. If the call's answer never arrives (a crash, a timeout), that row stays
unanswered, and the next try first asks the platform (`lookup`, by the item's reference)
whether the post exists; only if it does not is the item sent again. The item's
conclusion is a guarded UPDATE from `posting` in this round, committed with the job's
completion, so a job run twice concludes once.

The last item to conclude concludes the post, under the post's row lock: its status
(`published`, `partial` or `failed`), the settlement of the round's credits (charged only
for what posted) and the `post.*` webhook event commit together.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.config import Settings
from powerpost.credits import service as credits
from powerpost.jobs import JobContext, JobError, PermanentJobError, RetryableJobError, register
from powerpost.kit.clock import utcnow
from powerpost.kit.ids import new_id
from powerpost.media import repository as media_repository
from powerpost.media.signing import signed_url
from powerpost.models import Post, PostItem, PublishAttempt
from powerpost.posts.service import Author, post_out
from powerpost.publishing import adapters, repository, service
from powerpost.publishing.adapters import (
    NOT_CONNECTED,
    PLATFORM_ERROR,
    AdapterContext,
    OutgoingItem,
    OutgoingMedia,
    PlatformAdapter,
    PlatformError,
    PublishedPost,
)
from powerpost.publishing.redaction import redact_secrets
from powerpost.webhooks.events import record_event

# Codes an item's error may carry; anything else (an internal failure) is reported as
# PLATFORM_ERROR with a generic sentence, its detail kept for the attempt history only.
ITEM_CODES = frozenset(
    {
        adapters.TOKEN_EXPIRED,
        adapters.RATE_LIMITED,
        adapters.MEDIA_REJECTED,
        adapters.CONTENT_REJECTED,
        adapters.PLATFORM_ERROR,
        adapters.PLATFORM_TIMEOUT,
        NOT_CONNECTED,
        "INSUFFICIENT_CREDITS",
    }
)
INTERNAL_MESSAGE = "Publishing this item failed because of an internal error."


def adapter_context(ctx: JobContext) -> AdapterContext:
    return AdapterContext(db=ctx.db, http=ctx.http, settings=ctx.settings)


async def _outgoing(
    session: AsyncSession, ctx: JobContext, post: Post, item: PostItem, attempt: int
) -> OutgoingItem:
    found = {
        m.id: m
        for m in await media_repository.live_in_workspace(
            session, post.workspace_id, post.mode, set(item.media_ids)
        )
    }
    missing = [media_id for media_id in item.media_ids if media_id not in found]
    if missing:
        raise PlatformError(
            adapters.MEDIA_REJECTED,
            f"Media '{missing[0]}' was deleted after the post was made; edit and retry",
        )
    media = tuple(
        OutgoingMedia(
            media_id=m.id,
            kind=m.kind,
            mime_type=m.mime_type,
            width=m.width,
            height=m.height,
            duration_seconds=m.duration_seconds,
            url=signed_url(ctx.settings, m.id, "original"),
        )
        for m in (found[media_id] for media_id in item.media_ids)
    )
    return OutgoingItem(
        item_id=item.id,
        post_id=post.id,
        workspace_id=post.workspace_id,
        post_type=item.post_type,
        platform=item.platform,
        content=item.content,
        title=item.title,
        media=media,
        client_reference=item.id,
        position=item.position,
        scenario=post.test_scenario,
        attempt=attempt,
    )


async def conclude_post(
    session: AsyncSession, settings: Settings, post_id: str, round_: int, now: datetime
) -> None:
    """If no item of the post is still posting, conclude the post (see the module doc)."""
    post = await repository.lock_post(session, post_id, now)
    if post is None or post.status != "publishing" or post.publish_round != round_:
        return
    if await repository.still_posting(session, post_id):
        return
    items = await repository.post_items(session, post_id)
    posted_now = [i for i in items if i.publish_round == round_ and i.status == "posted"]
    charged = await credits.settle(
        session,
        service.hold_reference(post_id, round_),
        capture=service.charge_for(settings, post.mode, posted_now),
        reason=f"published {len(posted_now)} item(s) of post {post_id}",
    )
    posted = sum(1 for i in items if i.status == "posted")
    status = "published" if posted == len(items) else ("failed" if posted == 0 else "partial")
    post.status = status
    post.credits_used += charged
    post.updated_at = now
    if posted_now:
        post.published_at = now
    await session.flush()
    await record_event(
        session,
        workspace_id=post.workspace_id,
        event=f"post.{status}",
        data=post_out(post, items).model_dump(mode="json"),
    )


async def _record_attempt(
    ctx: JobContext, item: PostItem, post: Post, adapter_name: str
) -> tuple[str, bool]:
    """Write the intent before the call; (attempt id, whether an earlier call went
    unanswered)."""
    async with ctx.transaction() as session:
        unanswered = await repository.unanswered(session, item.id)
        attempt_id = new_id()
        session.add(
            PublishAttempt(
                id=attempt_id,
                item_id=item.id,
                post_id=post.id,
                publish_round=item.publish_round,
                adapter=adapter_name,
                client_reference=item.id,
                outcome="pending",
                error_code=None,
                raw_error=None,
                started_at=ctx.now(),
                finished_at=None,
            )
        )
    return attempt_id, unanswered


async def mark_posted(
    session: AsyncSession, settings: Settings, item: PostItem, made: PublishedPost, now: datetime
) -> None:
    """The item is on its platform: its earlier unanswered calls made it (or this one did);
    settle it and, if it was the last, the post."""
    await repository.settle_unanswered(session, item.id, "posted", now)
    concluded = await repository.conclude_item(
        session,
        item.id,
        item.publish_round,
        {
            "status": "posted",
            "platform_post_id": made.platform_post_id,
            "platform_url": made.platform_url,
            "posted_at": now,
            "updated_at": now,
        },
    )
    if concluded:
        await conclude_post(session, settings, item.post_id, item.publish_round, now)


async def _posted(
    ctx: JobContext,
    item: PostItem,
    attempt_id: str,
    made: PublishedPost,
    *,
    outcome: str,
) -> None:
    async with ctx.transaction() as session:
        now = ctx.now()
        await repository.close_attempt(
            session, attempt_id, {"outcome": outcome, "finished_at": now}
        )
        await mark_posted(session, ctx.settings, item, made, now)
        await ctx.finish(session)


async def fail_item(
    session: AsyncSession,
    settings: Settings,
    item: PostItem,
    code: str,
    message: str,
    now: datetime,
) -> None:
    concluded = await repository.conclude_item(
        session,
        item.id,
        item.publish_round,
        {"status": "failed", "error_code": code, "error_message": message, "updated_at": now},
    )
    if concluded:
        await conclude_post(session, settings, item.post_id, item.publish_round, now)


@register(service.PUBLISH_ITEM)
class PublishItem:
    # A platform that takes minutes (a video upload) still ends inside this.
    timeout = 900

    async def _load(self, ctx: JobContext) -> tuple[Post, PostItem] | None:
        round_ = int(ctx.payload.get("round", 0))
        async with ctx.db.read() as session:
            item = await repository.get_item(session, ctx.subject_id or "")
            if item is None or item.status != "posting" or item.publish_round != round_:
                return None
            post = await session.get(Post, item.post_id)
            if post is None:
                return None
            return post, item

    def _adapter(self, ctx: JobContext, post: Post, item: PostItem) -> PlatformAdapter:
        adapter = adapters.adapter_for(adapter_context(ctx), post.mode, item.platform)
        if adapter is None:
            raise PermanentJobError(
                f"{item.platform} is no longer connected to this workspace", code=NOT_CONNECTED
            )
        return adapter

    async def run(self, ctx: JobContext) -> None:
        loaded = await self._load(ctx)
        if loaded is None:
            # Concluded already (a job run twice), or the item moved on: nothing to do.
            async with ctx.transaction() as session:
                await ctx.finish(session)
            return
        post, item = loaded
        adapter = self._adapter(ctx, post, item)
        attempt_id, unanswered = await _record_attempt(ctx, item, post, adapter.name)
        async with ctx.db.read() as session:
            outgoing = await _outgoing(session, ctx, post, item, ctx.attempt)
        try:
            if unanswered:
                found = await adapter.lookup(outgoing)
                if found is not None:
                    await _posted(ctx, item, attempt_id, found, outcome="reconciled")
                    return
            made = await adapter.publish(outgoing)
        except PlatformError as refused:
            await self._refused(ctx, item, attempt_id, refused)
            return
        await _posted(ctx, item, attempt_id, made, outcome="posted")

    async def _refused(
        self, ctx: JobContext, item: PostItem, attempt_id: str, refused: PlatformError
    ) -> None:
        now = ctx.now()
        raw = redact_secrets(refused.raw or refused.message)[:4000]
        if refused.ambiguous or refused.retryable:
            # `unknown`: the platform may have made the post; the next try looks first.
            outcome = "unknown" if refused.ambiguous else "retrying"
            async with ctx.transaction() as session:
                await repository.close_attempt(
                    session,
                    attempt_id,
                    {
                        "outcome": outcome,
                        "error_code": refused.code,
                        "raw_error": raw,
                        "finished_at": now,
                    },
                )
            raise RetryableJobError(
                refused.message, code=refused.code, retry_after=refused.retry_after
            )
        async with ctx.transaction() as session:
            await repository.close_attempt(
                session,
                attempt_id,
                {
                    "outcome": "failed",
                    "error_code": refused.code,
                    "raw_error": raw,
                    "finished_at": now,
                },
            )
            await fail_item(session, ctx.settings, item, refused.code, refused.message, now)
            await ctx.finish(session)

    async def on_failure(self, ctx: JobContext, error: JobError) -> None:
        loaded = await self._load(ctx)
        if loaded is not None:
            post, item = loaded
            # A last word with the platform: a post made by an unanswered call counts.
            found = await self._last_lookup(ctx, post, item)
            if found is not None:
                async with ctx.transaction() as session:
                    await mark_posted(session, ctx.settings, item, found, ctx.now())
                    await ctx.finish(session)
                return
        async with ctx.transaction() as session:
            if loaded is not None:
                _, item = loaded
                now = ctx.now()
                code = error.code if error.code in ITEM_CODES else PLATFORM_ERROR
                message = error.message if error.code in ITEM_CODES else INTERNAL_MESSAGE
                await repository.settle_unanswered(session, item.id, "failed", now)
                await fail_item(session, ctx.settings, item, code, message, now)
            await ctx.finish(session)

    async def _last_lookup(
        self, ctx: JobContext, post: Post, item: PostItem
    ) -> PublishedPost | None:
        async with ctx.db.read() as session:
            if not await repository.unanswered(session, item.id):
                return None
            try:
                outgoing = await _outgoing(session, ctx, post, item, ctx.attempt)
            except PlatformError:
                return None
        adapter = adapters.adapter_for(adapter_context(ctx), post.mode, item.platform)
        if adapter is None:
            return None
        try:
            return await adapter.lookup(outgoing)
        except Exception:
            ctx.log.warning("final lookup of item %s failed", item.id, exc_info=True)
            return None


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

"""The publishing job: one item to its platform (`publishing.item`). (A scheduled post
firing, `publishing.fire`, is in `publishing.fire`, registered by importing it here.)

Exactly once, per item: the intent (an attempt row, `pending`) commits *before* the
platform is called. If the call's answer never arrives (a crash, a timeout), that row stays
unanswered, and the next try first asks the platform (`lookup`, by the item's reference)
whether the post exists; only if it does not is the item sent again. The item's
conclusion is a guarded UPDATE from `posting` in this round, committed with the job's
completion, so a job run twice concludes once.

Each round of a post is a paid job (`jobs.paid`, `service.PUBLISH_ROUND`). The last item
to conclude concludes the round and the post, under the round row's lock
(`paid.claim_last`): the post's status (`published`, `partial` or `failed`), the settlement
of the round's credits (charged only for what posted, the rest released) and the `post.*`
webhook event commit together.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.config import Settings
from powerpost.jobs import (
    JobContext,
    JobError,
    PermanentJobError,
    RetryableJobError,
    paid,
    register,
)
from powerpost.kit.ids import new_id
from powerpost.media import repository as media_repository
from powerpost.media.signing import signed_url
from powerpost.models import Post, PostItem, PublishAttempt, PublishRound
from powerpost.posts.service import post_out
from powerpost.publishing import adapters, repository, service
from powerpost.publishing import fire as _fire  # noqa: F401 (registers `publishing.fire`)
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


def round_of(ctx: JobContext) -> str | None:
    """The round row of an item job: its subject (`paid.start` makes the round the subject
    and puts the item in the payload; a job queued before rounds had rows names its item)."""
    return ctx.subject_id if "item_id" in ctx.payload else None


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


async def conclude_round(
    session: AsyncSession,
    settings: Settings,
    post_id: str,
    round_: int,
    now: datetime,
    round_id: str | None = None,
) -> None:
    """If no item of the post is still posting, conclude the round and the post, once (see
    the module doc): the round's row (`paid.claim_last`) captures the price of what posted
    in it and releases the rest; the post's status counts every item, earlier rounds'
    included, and the event is named after it. `round_id`: the round's row when the
    caller knows it (an item job's subject), else it is looked up."""
    round_id = round_id or await repository.round_id(session, post_id, round_)
    if round_id is None:
        return
    row = await paid.claim_last(
        session,
        service.PUBLISH_ROUND,
        round_id,
        unsettled=lambda r: repository.still_posting(session, r.post_id),
    )
    if row is None:
        return
    post = await session.get(Post, post_id, populate_existing=True)
    if post is None:
        return
    items = await repository.post_items(session, post_id)
    sent = [i for i in items if i.publish_round == round_]
    posted_now = [i for i in sent if i.status == "posted"]
    posted = sum(1 for i in items if i.status == "posted")
    status = "published" if posted == len(items) else ("failed" if posted == 0 else "partial")
    credits_before = post.credits_used
    post.status = status
    post.updated_at = now
    if posted_now:
        post.published_at = now

    async def announce(concluded: PublishRound) -> Mapping[str, Any]:
        # What the round captured is known once its hold is settled: the post's total
        # includes it before the event renders the post as GET will show it.
        post.credits_used = credits_before + concluded.credits_used
        return post_out(post, items).model_dump(mode="json")

    event = f"post.{status}"
    reason = f"published {len(posted_now)} item(s) of post {post_id}"
    if posted_now:
        await paid.succeed(
            session,
            service.PUBLISH_ROUND,
            row,
            charged=service.charge_for(settings, row.mode, posted_now),
            reason=reason,
            status="published" if len(posted_now) == len(sent) else "partial",
            event=event,
            event_data=announce,
        )
        return
    first = next((i.error_message for i in sent if i.error_message), None)
    await paid.fail(
        session,
        service.PUBLISH_ROUND,
        row,
        message=f"None of the {len(sent)} item(s) sent posted" + (f": {first}" if first else ""),
        reason=reason,
        event=event,
        event_data=announce,
    )


async def _record_attempt(
    session: AsyncSession, ctx: JobContext, item: PostItem, post: Post, adapter_name: str
) -> tuple[str, bool]:
    """Write the intent (committed by the caller before the call); (attempt id, whether an
    earlier call went unanswered)."""
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
    session: AsyncSession,
    settings: Settings,
    item: PostItem,
    made: PublishedPost,
    now: datetime,
    round_id: str | None = None,
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
        await conclude_round(session, settings, item.post_id, item.publish_round, now, round_id)


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
        if outcome != "posted":
            # (`posted`: mark_posted answers every unanswered call of the item, this one too)
            await repository.close_attempt(
                session, attempt_id, {"outcome": outcome, "finished_at": now}
            )
        await mark_posted(session, ctx.settings, item, made, now, round_of(ctx))
        await ctx.finish(session)


async def fail_item(
    session: AsyncSession,
    settings: Settings,
    item: PostItem,
    code: str,
    message: str,
    now: datetime,
    round_id: str | None = None,
) -> None:
    concluded = await repository.conclude_item(
        session,
        item.id,
        item.publish_round,
        {"status": "failed", "error_code": code, "error_message": message, "updated_at": now},
    )
    if concluded:
        await conclude_round(session, settings, item.post_id, item.publish_round, now, round_id)


@dataclass(frozen=True)
class _Intent:
    """An item's recorded intent: what to send, to which adapter, under which attempt."""

    item: PostItem
    adapter: PlatformAdapter
    outgoing: OutgoingItem
    attempt_id: str
    unanswered: bool  # an earlier call may have made the post: look it up first


@register(service.PUBLISH_ITEM)
class PublishItem:
    # A platform that takes minutes (a video upload) still ends inside this.
    timeout = 900
    # It waits on the platform: all items of a post go out at once (the network slots).
    network_bound = True

    async def _load(self, session: AsyncSession, ctx: JobContext) -> tuple[Post, PostItem] | None:
        round_ = int(ctx.payload.get("round", 0))
        # The job's subject is its round (`paid.start`); the item is in its payload.
        item_id = str(ctx.payload.get("item_id") or ctx.subject_id or "")
        item = await repository.get_item(session, item_id)
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

    async def _intent(self, ctx: JobContext, session: AsyncSession) -> _Intent | None:
        """Read what the call needs and write the intent, in `session`'s transaction (it
        commits before the platform is called); None when the item has nothing to do."""
        loaded = await self._load(session, ctx)
        if loaded is None:
            return None
        post, item = loaded
        adapter = self._adapter(ctx, post, item)
        outgoing = await _outgoing(session, ctx, post, item, ctx.attempt)
        attempt_id, unanswered = await _record_attempt(session, ctx, item, post, adapter.name)
        return _Intent(item, adapter, outgoing, attempt_id, unanswered)

    async def prepare(self, ctx: JobContext, session: AsyncSession) -> None:
        """The intent, committed with the job's claim (`JobHandler.prepare`). A refusal
        found here (no connection, deleted media) is left for `run` to meet again."""
        with contextlib.suppress(PermanentJobError, PlatformError):
            ctx.prepared = await self._intent(ctx, session)

    async def run(self, ctx: JobContext) -> None:
        intent: _Intent | None = ctx.prepared
        if intent is None:
            async with ctx.transaction() as session:
                intent = await self._intent(ctx, session)
                if intent is None:
                    # Concluded already (a job run twice), or the item moved on.
                    await ctx.finish(session)
                    return
        item, adapter, outgoing, attempt_id = (
            intent.item,
            intent.adapter,
            intent.outgoing,
            intent.attempt_id,
        )
        try:
            if intent.unanswered:
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
            await fail_item(
                session, ctx.settings, item, refused.code, refused.message, now, round_of(ctx)
            )
            await ctx.finish(session)

    async def on_failure(self, ctx: JobContext, error: JobError) -> None:
        async with ctx.db.read() as session:
            loaded = await self._load(session, ctx)
        if loaded is not None:
            post, item = loaded
            # A last word with the platform: a post made by an unanswered call counts.
            found = await self._last_lookup(ctx, post, item)
            if found is not None:
                async with ctx.transaction() as session:
                    await mark_posted(session, ctx.settings, item, found, ctx.now(), round_of(ctx))
                    await ctx.finish(session)
                return
        async with ctx.transaction() as session:
            if loaded is not None:
                _, item = loaded
                now = ctx.now()
                code = error.code if error.code in ITEM_CODES else PLATFORM_ERROR
                message = error.message if error.code in ITEM_CODES else adapters.INTERNAL_MESSAGE
                await repository.settle_unanswered(session, item.id, "failed", now)
                await fail_item(session, ctx.settings, item, code, message, now, round_of(ctx))
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

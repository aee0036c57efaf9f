"""Publishing a post: publish now, schedule, cancel, retry, and their dry runs.

Every call runs its checks in the contract's order (state 409 → connections 422 → rules
400 → credits 402) before it writes anything. A start is one transaction: the guarded move
into `publishing` (two concurrent publishes: one wins, the other gets 409), then the round
as a paid job (`jobs.paid`: the round's row, the credit hold of its price and one job per
item), and the items set to `posting`. Services never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.config import Settings
from powerpost.credits import service as credits
from powerpost.jobs import paid
from powerpost.jobs.service import enqueue
from powerpost.kit.actor import TEST, price_for
from powerpost.kit.clock import iso_z, utcnow
from powerpost.kit.dry_run import Checks, DryRun
from powerpost.kit.errors import (
    AlreadyPublished,
    AppError,
    Conflict,
    PlatformNotConnected,
    ValidationError,
)
from powerpost.kit.ids import new_id
from powerpost.kit.platforms import validate_item
from powerpost.media.service import get_workspace_media
from powerpost.models import Post, PostItem, PublishAttempt, PublishRound
from powerpost.posts.service import Author, get_post
from powerpost.publishing import repository
from powerpost.publishing.adapters import connected_platforms
from powerpost.publishing.sandbox import SCENARIOS
from powerpost.publishing.schemas import PublishStarted, Scheduled

PUBLISH_ITEM = "publishing.item"
FIRE_SCHEDULED = "publishing.fire"
ITEM_MAX_ATTEMPTS = 6
SCHEDULE_MIN = timedelta(minutes=1)
SCHEDULE_MAX = timedelta(days=60)


def status_url(post_id: str) -> str:
    return f"/api/v1/posts/{post_id}"


def hold_reference(post_id: str, round_: int) -> str:
    return f"post:{post_id}:round:{round_}"


# A publish round as a paid job: one job per item sent, concluded by the last item to
# settle (`paid.claim_last`, see publishing.tasks), charged only for what posted.
PUBLISH_ROUND: paid.PaidWork[PublishRound] = paid.PaidWork(
    model=PublishRound,
    kind=PUBLISH_ITEM,
    reference_prefix="post",
    hold_reference=lambda row: hold_reference(row.post_id, row.number),
    error_code="PUBLISH_FAILED",
    completed_event="post.published",
    failed_event="post.failed",
    max_attempts=ITEM_MAX_ATTEMPTS,
    completed_status="published",
    finished_statuses=frozenset({"published", "partial", "failed"}),
    # the hold was the most the round could cost; what did not post is released
    failure_releases=True,
)


def price_of(settings: Settings, mode: str, items: Sequence[PostItem]) -> int:
    """The most a round can cost: the publish action and every X item (§10). Test mode
    spends nothing."""
    if not items:
        return 0
    prices = settings.prices
    return price_for(
        mode,
        prices.publish_action
        + prices.publish_per_x_item * sum(1 for i in items if i.platform == "x"),
    )


def charge_for(settings: Settings, mode: str, posted: Sequence[PostItem]) -> int:
    """What a round really costs: charged only for what posted (§10)."""
    return price_of(settings, mode, posted)


def parse_scenario(mode: str, raw: str | None) -> str | None:
    """X-Test-Scenario: only test mode's simulated platforms act on it."""
    if raw is None or not raw.strip():
        return None
    value = raw.strip().lower()
    if value not in SCENARIOS:
        raise ValidationError(
            f"X-Test-Scenario: unknown scenario '{raw[:40]}'; expected one of "
            + ", ".join(SCENARIOS)
        )
    if mode != TEST:
        raise ValidationError("X-Test-Scenario works only with a test-mode key (pp_test_sk_)")
    return value


@dataclass(frozen=True)
class _Checked:
    post: Post
    items: list[PostItem]
    sending: list[PostItem]
    price: int
    checks: Checks


async def _check(
    session: AsyncSession,
    settings: Settings,
    author: Author,
    post_id: str,
    *,
    allowed: Sequence[str],
    retry: bool,
) -> _Checked:
    post, items = await get_post(session, author.workspace_id, author.mode, post_id)
    checks = Checks()
    checks.add("post found in this workspace")
    if post.status not in allowed:
        if retry:
            raise Conflict(
                f"Only a partial or failed post can be retried; this post is {post.status}"
            )
        if post.status == "scheduled" and "draft" in allowed:
            raise Conflict("This post is scheduled; cancel the schedule first to publish it now")
        if post.status == "draft":
            raise Conflict(f"Only a {' or '.join(allowed)} post can do this; this one is a draft")
        raise AlreadyPublished(f"The post is already {post.status}")
    checks.add(f"post is {post.status}")
    sending = [i for i in items if i.status == "failed"] if retry else list(items)
    missing = sorted({i.platform for i in sending} - connected_platforms(author.mode))
    if missing:
        raise PlatformNotConnected(
            "Connect these platforms to this workspace first: " + ", ".join(missing),
            platforms=missing,
        )
    checks.add("every platform is connected")
    # Every item's media in one query; an item whose media is not all there is looked up
    # on its own below, so the refusal names it.
    wanted = list(dict.fromkeys(m for item in sending for m in item.media_ids))
    try:
        by_id = {
            m.id: m
            for m in await get_workspace_media(session, author.workspace_id, author.mode, wanted)
        }
    except Exception:
        by_id = {}
    for item in sending:
        try:
            if all(m in by_id for m in item.media_ids):
                media = [by_id[m] for m in item.media_ids]
            else:
                media = await get_workspace_media(
                    session, author.workspace_id, author.mode, list(item.media_ids)
                )
        except Exception as missing_media:
            message = getattr(missing_media, "message", "media not found")
            raise ValidationError(
                f"items[{item.position}].media_ids: {message}; edit the post"
            ) from None
        problem = validate_item(
            item.post_type,
            item.content,
            item.title,
            [m.kind for m in media],
            [m.duration_seconds for m in media if m.kind == "video" and m.duration_seconds],
        )
        if problem is not None:
            raise ValidationError(f"items[{item.position}]: {problem}")
    checks.add("every item meets its platform's rules")
    price = price_of(settings, author.mode, sending)
    await credits.require(session, author.account_id, price, checks=checks)
    return _Checked(post=post, items=items, sending=sending, price=price, checks=checks)


async def _start_round(
    session: AsyncSession,
    author: Author,
    checked: _Checked,
    *,
    from_statuses: Sequence[str],
    scenario: str | None,
    scheduled_at: datetime | None = None,
) -> int:
    post = checked.post
    now = utcnow()
    round_ = await repository.start_round(
        session,
        post.id,
        from_statuses,
        scheduled_at,
        values={"test_scenario": scenario, "updated_at": now, "scheduled_at": None},
    )
    if round_ is None:
        # A concurrent twin moved it first.
        raise AlreadyPublished("The post is already being published")
    row = PublishRound(
        id=new_id(),
        post_id=post.id,
        number=round_,
        account_id=author.account_id,
        workspace_id=author.workspace_id,
        api_key_id=author.api_key_id,
        mode=author.mode,
        status="publishing",
        items_sent=len(checked.sending),
        credits_used=checked.price,
        error_code=None,
        error_message=None,
        created_at=now,
        finished_at=None,
    )
    await paid.start(
        session,
        PUBLISH_ROUND,
        author,
        row,
        amount=checked.price,
        reason=f"publish post {post.id}",
        payloads=[
            {"item_id": item.id, "post_id": post.id, "round": round_} for item in checked.sending
        ],
    )
    await repository.send_items(session, post.id, [i.id for i in checked.sending], round_, now)
    return round_


async def _open_round(
    session: AsyncSession,
    settings: Settings,
    author: Author,
    post_id: str,
    *,
    retry: bool,
    scenario: str | None,
    dry_run: bool,
) -> PublishStarted | DryRun:
    """Publish a draft, or (`retry`) again only the failed items of a partial or failed
    post: the checks, then a new round (or, for a dry run, the quote)."""
    allowed = ("partial", "failed") if retry else ("draft",)
    checked = await _check(session, settings, author, post_id, allowed=allowed, retry=retry)
    if dry_run:
        return checked.checks.quote(checked.price)
    await _start_round(session, author, checked, from_statuses=allowed, scenario=scenario)
    return PublishStarted(
        post_id=checked.post.id,
        status="publishing",
        credits_used=checked.price,
        status_url=status_url(checked.post.id),
    )


async def publish(
    session: AsyncSession,
    settings: Settings,
    author: Author,
    post_id: str,
    *,
    scenario: str | None = None,
    dry_run: bool = False,
) -> PublishStarted | DryRun:
    return await _open_round(
        session, settings, author, post_id, retry=False, scenario=scenario, dry_run=dry_run
    )


async def retry(
    session: AsyncSession,
    settings: Settings,
    author: Author,
    post_id: str,
    *,
    scenario: str | None = None,
    dry_run: bool = False,
) -> PublishStarted | DryRun:
    """Publish again only the failed items of a partial or failed post."""
    return await _open_round(
        session, settings, author, post_id, retry=True, scenario=scenario, dry_run=dry_run
    )


def parse_schedule_time(raw: str, now: datetime) -> datetime:
    text = raw.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            "scheduled_at: not an ISO-8601 date and time (e.g. 2026-12-24T09:00:00+01:00)"
        ) from None
    if "T" not in text.upper():
        raise ValidationError("scheduled_at: give a date and a time, not only a date")
    if moment.tzinfo is None:
        raise ValidationError(
            "scheduled_at: add a UTC offset (Z or +01:00); a time without one is ambiguous"
        )
    moment = moment.astimezone(UTC)
    if moment < now + SCHEDULE_MIN:
        raise ValidationError("scheduled_at: must be at least 1 minute in the future")
    if moment > now + SCHEDULE_MAX:
        raise ValidationError("scheduled_at: must be at most 60 days ahead")
    return moment


async def schedule(
    session: AsyncSession,
    settings: Settings,
    author: Author,
    post_id: str,
    scheduled_at: str,
    *,
    dry_run: bool = False,
) -> Scheduled | DryRun:
    """Publish a draft at `scheduled_at`. Its platforms, rules and the balance are checked
    now, and again when it fires (credits are held then)."""
    now = utcnow()
    moment = parse_schedule_time(scheduled_at, now)
    checked = await _check(session, settings, author, post_id, allowed=("draft",), retry=False)
    if dry_run:
        return checked.checks.quote(checked.price)
    moved = await repository.move_post(
        session,
        checked.post.id,
        from_statuses=("draft",),
        values={"status": "scheduled", "scheduled_at": moment, "updated_at": now},
    )
    if not moved:
        raise AlreadyPublished("The post is already being published")
    await enqueue(
        session,
        kind=FIRE_SCHEDULED,
        account_id=author.account_id,
        workspace_id=author.workspace_id,
        subject_id=checked.post.id,
        payload={"scheduled_at": iso_z(moment), "api_key_id": author.api_key_id},
        max_attempts=10,
        delay=max((moment - now).total_seconds(), 0.0),
    )
    return Scheduled(post_id=checked.post.id, status="scheduled", scheduled_at=iso_z(moment) or "")


async def fire(
    session: AsyncSession, settings: Settings, author: Author, post_id: str, moment: datetime
) -> AppError | None:
    """Open the round of a post scheduled for `moment`; the refusal if it cannot go out
    (the caller fails the post with it). Nothing happens if it is no longer scheduled for
    `moment` (cancelled, re-scheduled, or already fired)."""
    try:
        checked = await _check(
            session, settings, author, post_id, allowed=("scheduled",), retry=False
        )
    except AppError as refused:
        return refused
    if checked.post.scheduled_at != moment:
        return None
    try:
        await _start_round(
            session,
            author,
            checked,
            from_statuses=("scheduled",),
            scenario=None,
            scheduled_at=moment,
        )
    except AlreadyPublished:
        return None
    return None


async def cancel(session: AsyncSession, author: Author, post_id: str) -> None:
    """A scheduled post back to draft; its pending fire finds nothing to do."""
    post, _ = await get_post(session, author.workspace_id, author.mode, post_id)
    moved = await repository.move_post(
        session,
        post.id,
        from_statuses=("scheduled",),
        values={"status": "draft", "scheduled_at": None, "updated_at": utcnow()},
    )
    if not moved:
        raise Conflict(f"Only a scheduled post can be cancelled; this post is {post.status}")


async def attempt_history(session: AsyncSession, post: Post) -> list[PublishAttempt]:
    """Every platform call made for the post's items, oldest first (for people: the
    dashboard's post page shows the raw errors here, which clients never see)."""
    return await repository.attempts_of_post(session, post.id)

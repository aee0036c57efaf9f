"""The paid-job lifecycle: the one seam every feature that charges credits for work uses.

    start ──> job(s) run ──> succeed (settle: charge, release the rest) ─┐
      │                  └─> fail    (refund, or charge the part done) ──┴─> webhook event
      └─ hold + row + job rows, in the caller's transaction

Every paid feature (captions, images, videos, publishing) describes itself once as a
`PaidWork` and uses the same verbs:

- `quote(session, actor, amount=…, checks=…)` instead of `start` for a dry run: the balance
  check `start` would make (the same 402), and the answer; nothing is written.

- `start(session, work, actor, row, amount=…, reason=…)` in the request's transaction:
  adds the row, holds `amount` credits under `work.reference_of(row)` (402 when not
  covered: the route's transaction rolls back and nothing is left behind) and writes the
  job row(s). Nothing runs before the caller commits; the jobs are kicked right after the
  commit (see `jobs.service.enqueue`). Returns the balance left.
- `claim(session, work, subject_id)` inside a job's fenced transaction (`ctx.transaction()`):
  locks the row (SELECT … FOR UPDATE on PostgreSQL; SQLite runs write transactions one at a
  time) and returns it, or None when it is gone or already finished. The lock is what makes
  concluding exactly-once: a concurrent twin waits, then sees the row finished.
- `succeed(session, work, row, event_data=…, charged=None)`: status `completed`, settles
  the hold capturing `charged` (default: everything held) and releasing the rest, sets
  `credits_used` to what was really captured, stamps `finished_at`, records the webhook
  event. `fail(session, work, row, message=…, event_data=…, charged=0)`: status `failed`
  with the feature's error code and a client-safe `message`; refunds the whole hold, or with
  `charged > 0` (part of the work was delivered) settles that much and releases the rest.
- `claim_last(session, work, subject_id, unsettled=…)`: `claim` for work settled per item
  (one job per item): the row only once no item is left unsettled (see below).
  Both conclusions run in the caller's transaction, which should end with `ctx.finish(session)`: the
  outcome, the credit movement, the event and the job's completion commit together.

Test mode spends nothing: for a test-mode actor `start` holds 0 (no ledger entry, no
balance check) and sets the row's `credits_used` to 0, so the settlement captures nothing;
the job, its outcome and its webhook event run as in live mode.

Credit movements are idempotent by reference (`credits.service`): a retried or duplicated
job can never charge or refund twice, and a hold an operator already closed is reported as
what it captured (0).

The fourth user, publishing (`publishing.service.PUBLISH_ROUND`), is work settled per
item: one row per publish round of a post, one hold for the round, one job per item.

    remaining = await paid.start(session, PUBLISH_ROUND, actor, round_row, amount=price,
                                 reason=..., payloads=[{"item_id": i.id} for i in items])

    # each item's job, in ctx.transaction(), after recording its own item's outcome:
    row = await paid.claim_last(session, PUBLISH_ROUND, round_id, unsettled=count_posting)
    if row is not None:                      # every item has an outcome: conclude, once
        await paid.succeed(..., charged=price of what posted, status="partial", ...)
        # or, nothing posted: await paid.fail(...)

`claim_last` locks the row *before* counting the items still unsettled, and every item job
writes its own outcome before asking for the lock: whichever item job takes the lock last
sees every other outcome committed, so exactly one of them concludes the round.
`PaidWork.hold_reference` lets a feature keep the references it always used (publishing:
`post:<post id>:round:<n>`), and `failure_releases` makes a failed row give its hold back
as a release (settled, nothing captured) rather than a refund: for publishing the hold was
the most the round could cost, not a payment for work that failed.

Services take an `Actor` (plain ids), never the API layer's authorisation object: routers
translate with `kit.actor.actor_from`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.credits import service as credits
from powerpost.jobs.service import enqueue
from powerpost.kit.actor import Actor, price_for
from powerpost.kit.clock import utcnow
from powerpost.kit.dry_run import Checks, DryRun
from powerpost.models.paid_row import PaidJobRow
from powerpost.webhooks.events import record_event

__all__ = [
    "ERROR_MESSAGE_MAX",
    "Actor",
    "EventData",
    "PaidWork",
    "claim",
    "claim_last",
    "fail",
    "quote",
    "start",
    "succeed",
]

R = TypeVar("R", bound=PaidJobRow)

# what a failed row keeps of its client-facing message
ERROR_MESSAGE_MAX = 500

# The webhook event's `data`, computed from the row once its outcome is set (the same
# transaction, so the event shows exactly what GET will show).
EventData = Callable[[R], Awaitable[Mapping[str, Any]]]


@dataclass(frozen=True)
class PaidWork(Generic[R]):
    """One paid feature as the lifecycle sees it."""

    model: type[R]
    kind: str  # the job kind its handler is registered under
    reference_prefix: str  # credit holds are `<prefix>:<row id>`
    error_code: str  # the code a failed row shows (and its handler's own errors carry)
    completed_event: str
    failed_event: str
    max_attempts: int = 5
    completed_status: str = "completed"
    failed_status: str = "failed"
    finished_statuses: frozenset[str] = frozenset({"completed", "failed"})
    # the hold's reference when it is not `<prefix>:<row id>` (see the module doc)
    hold_reference: Callable[[R], str] | None = None
    # a failed row settles its hold capturing nothing ("release") instead of refunding it
    failure_releases: bool = False

    def reference(self, subject_id: str) -> str:
        return f"{self.reference_prefix}:{subject_id}"

    def reference_of(self, row: R) -> str:
        """The reference `row`'s credits are held under."""
        if self.hold_reference is not None:
            return self.hold_reference(row)
        return self.reference(row.id)

    def is_finished(self, row: R) -> bool:
        return row.status in self.finished_statuses


async def start(
    session: AsyncSession,
    work: PaidWork[R],
    actor: Actor,
    row: R,
    *,
    amount: int,
    reason: str,
    payload: Mapping[str, Any] | None = None,
    payloads: Sequence[Mapping[str, Any]] | None = None,
) -> int:
    """Add `row`, hold `amount` under its reference and queue its job; the balance left.

    One job with `payload`, or one job per entry of `payloads` (work settled per item).
    Everything is written in the caller's transaction: a refused hold (InsufficientCredits,
    402) or any later error leaves neither a hold, a row nor a job once it rolls back.
    """
    if payload is not None and payloads is not None:
        raise ValueError("give one payload or a payload per job, not both")
    # The row lives in the actor's mode, and test mode holds (so later charges) nothing.
    amount = price_for(actor.mode, amount)
    row.mode = actor.mode
    row.credits_used = amount
    session.add(row)
    remaining = await credits.hold(
        session,
        actor.account_id,
        amount,
        reference=work.reference_of(row),
        reason=reason,
        workspace_id=actor.workspace_id,
        api_key_id=actor.api_key_id,
    )
    for body in payloads if payloads is not None else [payload or {}]:
        await enqueue(
            session,
            kind=work.kind,
            account_id=actor.account_id,
            workspace_id=actor.workspace_id,
            subject_id=row.id,
            payload=body,
            max_attempts=work.max_attempts,
        )
    return remaining


async def quote(session: AsyncSession, actor: Actor, *, amount: int, checks: Checks) -> DryRun:
    """A dry run's end where `start` would begin: the same balance check (402 when a hold of
    `amount` would be refused; never in test mode, which holds nothing), then the quote."""
    amount = price_for(actor.mode, amount)
    await credits.require(session, actor.account_id, amount, checks=checks)
    return checks.quote(amount)


async def claim(session: AsyncSession, work: PaidWork[R], subject_id: str) -> R | None:
    """The row, locked until the caller's transaction ends; None if gone or finished."""
    stmt = (
        select(work.model)
        .where(work.model.id == subject_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None or work.is_finished(row):
        return None
    return row


async def claim_last(
    session: AsyncSession,
    work: PaidWork[R],
    subject_id: str,
    *,
    unsettled: Callable[[R], Awaitable[int]],
) -> R | None:
    """For work settled per item: the row, locked, once no item is left `unsettled`; None
    while items remain, or when the row is gone or already concluded.

    Call it from an item's job after writing that item's outcome, in the same transaction.
    The lock comes first and the count second, so the count runs after every earlier
    holder of the lock committed its own outcome: the last item job to get the lock is the
    one that sees nothing unsettled, and it alone concludes (a twin that gets the lock
    after it finds the row finished)."""
    row = await claim(session, work, subject_id)
    if row is None or await unsettled(row) > 0:
        return None
    return row


async def succeed(
    session: AsyncSession,
    work: PaidWork[R],
    row: R,
    *,
    event_data: EventData[R],
    charged: int | None = None,
    reason: str | None = None,
    status: str | None = None,
    event: str | None = None,
) -> int:
    """Conclude `row` (claimed) as delivered: capture `charged` of the hold (default all
    of it), release the rest, announce it. Returns what was captured.

    `status`/`event` override the work's completed ones (a partly published post:
    "partial", "post.partial").
    """
    reference = work.reference_of(row)
    held = row.credits_used if charged is None else charged
    captured = await credits.settle(
        session,
        reference,
        capture=max(0, held),
        reason=reason or f"{work.reference_prefix} completed",
    )
    row.status = status or work.completed_status
    row.error_code = None
    row.error_message = None
    return await _conclude(session, row, captured, event or work.completed_event, event_data)


async def fail(
    session: AsyncSession,
    work: PaidWork[R],
    row: R,
    *,
    message: str,
    event_data: EventData[R],
    charged: int = 0,
    reason: str | None = None,
    event: str | None = None,
) -> int:
    """Conclude `row` (claimed) as failed with `message` (shown to the client: pass it
    through `kit.providers.client_message` when it comes from a job error). Refunds the
    whole hold, or with `charged > 0` (part was delivered) captures that much and releases
    the rest (a work with `failure_releases` always settles, releasing what it does not
    capture). Returns what was captured."""
    reference = work.reference_of(row)
    why = reason or f"{work.reference_prefix} failed"
    if charged > 0 or work.failure_releases:
        captured = await credits.settle(session, reference, capture=charged, reason=why)
    else:
        await credits.refund(session, reference, reason=why)
        captured = 0
    row.status = work.failed_status
    row.error_code = work.error_code
    row.error_message = message.strip()[:ERROR_MESSAGE_MAX] or f"{work.reference_prefix} failed"
    return await _conclude(session, row, captured, event or work.failed_event, event_data)


async def _conclude(
    session: AsyncSession, row: R, captured: int, event: str, event_data: EventData[R]
) -> int:
    row.credits_used = captured
    row.finished_at = utcnow()
    await session.flush()
    await record_event(
        session,
        workspace_id=row.workspace_id,
        mode=row.mode,
        event=event,
        data=await event_data(row),
    )
    return captured

"""The paid-job seam (`jobs.paid`) on its own: hold + row + jobs in one transaction, a
settlement that charges part of a hold and releases the rest (publishing's per-item case),
failures that refund or charge the part delivered, exactly-once conclusion, and the webhook
event committed with the outcome or not at all."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

import pytest
from sqlalchemy import select, update

from powerpost.credits import service as credits
from powerpost.jobs import paid
from powerpost.kit.actor import Actor
from powerpost.kit.clock import utcnow
from powerpost.kit.db import Database
from powerpost.kit.errors import InsufficientCredits
from powerpost.kit.ids import new_id
from powerpost.models import CreditLedgerEntry, Job, VideoGeneration, WebhookEvent
from tests.jobs.support import Tenant

# A fourth user in miniature: one hold for three items, one job per item, settled per item.
ITEMS = paid.PaidWork(
    model=VideoGeneration,
    kind="test.paid_item",
    reference_prefix="test_paid",
    error_code="TEST_PAID_FAILED",
    completed_event="video_generation.completed",
    failed_event="video_generation.failed",
    max_attempts=2,
)
PRICE = 4


def _row(tenant: Tenant, amount: int) -> VideoGeneration:
    return VideoGeneration(
        id=new_id(),
        account_id=tenant.account_id,
        workspace_id=tenant.workspace_id,
        api_key_id=None,
        status="processing",
        prompt="three items",
        size="landscape",
        duration=5,
        has_audio=False,
        model="kling-3.0-pro",
        enhance_prompt=False,
        source_media_id=None,
        media_id=None,
        credits_used=amount,
        error_code=None,
        error_message=None,
        created_at=utcnow(),
        finished_at=None,
    )


def _actor(tenant: Tenant) -> Actor:
    return Actor(account_id=tenant.account_id, workspace_id=tenant.workspace_id)


async def _event_data(row: VideoGeneration) -> Mapping[str, Any]:
    return {"id": row.id, "status": row.status, "credits_used": row.credits_used}


async def _start(db: Database, tenant: Tenant, items: int = 3) -> str:
    async with db.write() as session:
        row = _row(tenant, items * PRICE)
        remaining = await paid.start(
            session,
            ITEMS,
            _actor(tenant),
            row,
            amount=items * PRICE,
            reason=f"{items} items",
            payloads=[{"item": i} for i in range(items)],
        )
    assert remaining == await _balance(db, tenant)
    return row.id


async def _ledger(db: Database, row_id: str) -> list[tuple[str, int]]:
    async with db.read() as session:
        rows = (
            await session.execute(
                select(CreditLedgerEntry)
                .where(CreditLedgerEntry.reference.startswith(ITEMS.reference(row_id)))
                .order_by(CreditLedgerEntry.created_at, CreditLedgerEntry.id)
            )
        ).scalars()
        return [(r.kind, r.amount) for r in rows]


async def _events(db: Database, row_id: str) -> list[dict[str, Any]]:
    async with db.read() as session:
        rows = (await session.execute(select(WebhookEvent))).scalars()
        return [dict(r.payload) for r in rows if r.payload["data"].get("id") == row_id]


async def _get(db: Database, row_id: str) -> VideoGeneration:
    async with db.read() as session:
        row = await session.get(VideoGeneration, row_id)
    assert row is not None
    return row


async def _balance(db: Database, tenant: Tenant) -> int:
    async with db.read() as session:
        return await credits.balance(session, tenant.account_id)


async def test_start_holds_once_and_queues_one_job_per_item(db: Database, tenant: Tenant) -> None:
    row_id = await _start(db, tenant)
    async with db.read() as session:
        jobs = (await session.execute(select(Job).where(Job.subject_id == row_id))).scalars()
        payloads = sorted(j.payload["item"] for j in jobs if j.kind == ITEMS.kind)
    assert payloads == [0, 1, 2]
    assert await _ledger(db, row_id) == [("hold", -12)]
    assert await _balance(db, tenant) == 38


async def test_succeed_charges_the_part_delivered_and_releases_the_rest(
    db: Database, tenant: Tenant
) -> None:
    row_id = await _start(db, tenant)
    async with db.write() as session:
        row = await paid.claim(session, ITEMS, row_id)
        assert row is not None
        captured = await paid.succeed(
            session, ITEMS, row, charged=2 * PRICE, event_data=_event_data
        )
    assert captured == 8
    assert await _ledger(db, row_id) == [("hold", -12), ("release", 4)]
    assert await _balance(db, tenant) == 50 - 8
    done = await _get(db, row_id)
    assert (done.status, done.credits_used, done.error_code) == ("completed", 8, None)
    assert done.finished_at is not None
    (event,) = await _events(db, row_id)
    assert event["event"] == "video_generation.completed"
    assert event["data"] == {"id": row_id, "status": "completed", "credits_used": 8}


async def test_a_concluded_row_is_not_claimed_again_and_nothing_moves_twice(
    db: Database, tenant: Tenant
) -> None:
    row_id = await _start(db, tenant)
    async with db.write() as session:
        row = await paid.claim(session, ITEMS, row_id)
        assert row is not None
        await paid.succeed(session, ITEMS, row, event_data=_event_data)
    async with db.write() as session:
        assert await paid.claim(session, ITEMS, row_id) is None
        # even a caller that kept the row object cannot settle the hold twice
        stale = await session.get(VideoGeneration, row_id)
        assert stale is not None
        assert await paid.fail(session, ITEMS, stale, message="late", event_data=_event_data) == 0
        await session.rollback()
    assert await _ledger(db, row_id) == [("hold", -12)]
    assert await _balance(db, tenant) == 38
    assert len(await _events(db, row_id)) == 1


async def test_fail_refunds_everything_or_charges_what_was_delivered(
    db: Database, tenant: Tenant
) -> None:
    refunded, partial = await _start(db, tenant), await _start(db, tenant)
    async with db.write() as session:
        row = await paid.claim(session, ITEMS, refunded)
        assert row is not None
        await paid.fail(session, ITEMS, row, message="  nothing posted  ", event_data=_event_data)
        row = await paid.claim(session, ITEMS, partial)
        assert row is not None
        await paid.fail(
            session, ITEMS, row, message="one posted", charged=PRICE, event_data=_event_data
        )
    assert await _ledger(db, refunded) == [("hold", -12), ("refund", 12)]
    assert await _ledger(db, partial) == [("hold", -12), ("release", 8)]
    assert await _balance(db, tenant) == 50 - PRICE
    failed = await _get(db, refunded)
    assert (failed.status, failed.credits_used) == ("failed", 0)
    assert (failed.error_code, failed.error_message) == ("TEST_PAID_FAILED", "nothing posted")
    assert (await _get(db, partial)).credits_used == PRICE
    assert [e["event"] for e in await _events(db, refunded)] == ["video_generation.failed"]


async def test_an_outcome_that_rolls_back_leaves_no_event_and_the_hold_in_place(
    db: Database, tenant: Tenant
) -> None:
    row_id = await _start(db, tenant)

    async def conclude_then_crash() -> None:
        async with db.write() as session:
            row = await paid.claim(session, ITEMS, row_id)
            assert row is not None
            await paid.succeed(session, ITEMS, row, charged=PRICE, event_data=_event_data)
            raise RuntimeError("crashed before commit")

    with pytest.raises(RuntimeError, match="crashed before commit"):
        await conclude_then_crash()
    assert await _ledger(db, row_id) == [("hold", -12)]
    assert await _events(db, row_id) == []
    assert (await _get(db, row_id)).status == "processing"
    # and the retry concludes it normally
    async with db.write() as session:
        row = await paid.claim(session, ITEMS, row_id)
        assert row is not None
        await paid.succeed(session, ITEMS, row, charged=PRICE, event_data=_event_data)
    assert await _ledger(db, row_id) == [("hold", -12), ("release", 8)]


async def test_a_refused_hold_leaves_neither_row_nor_job(db: Database, tenant: Tenant) -> None:

    async def start_too_big() -> None:
        async with db.write() as session:
            row = _row(tenant, 60)
            await paid.start(session, ITEMS, _actor(tenant), row, amount=60, reason="too much")

    with pytest.raises(InsufficientCredits):
        await start_too_big()
    async with db.read() as session:
        assert (await session.execute(select(VideoGeneration))).first() is None
        assert (await session.execute(select(Job).where(Job.kind == ITEMS.kind))).first() is None
    assert await _balance(db, tenant) == 50


async def test_payload_and_payloads_are_exclusive(db: Database, tenant: Tenant) -> None:
    async with db.write() as session:
        with pytest.raises(ValueError, match="not both"):
            await paid.start(
                session,
                ITEMS,
                _actor(tenant),
                _row(tenant, 4),
                amount=4,
                reason="x",
                payload={},
                payloads=[{}],
            )


# --- work settled per item: claim_last, hold_reference, failure_releases -------------------

RELEASING = paid.PaidWork(
    model=VideoGeneration,
    kind="test.paid_item",
    reference_prefix="test_round",
    hold_reference=lambda row: f"test_round:{row.id}:round:1",
    error_code="TEST_PAID_FAILED",
    completed_event="video_generation.completed",
    failed_event="video_generation.failed",
    failure_releases=True,
)


async def _unsettled_jobs(session: Any, row: VideoGeneration) -> int:
    """The per-item state these tests settle: the row's item jobs still queued."""
    stmt = select(Job).where(Job.subject_id == row.id, Job.status == "queued")
    return len((await session.execute(stmt)).scalars().all())


async def test_the_last_item_to_settle_concludes_once_however_they_interleave(
    db: Database, tenant: Tenant
) -> None:
    row_id = await _start(db, tenant, items=3)
    async with db.read() as session:
        job_ids = list(
            (await session.execute(select(Job.id).where(Job.subject_id == row_id))).scalars()
        )
    everyone_settled = asyncio.Event()
    settled = 0
    concluded: list[str] = []

    async def settle_item(job_id: str) -> None:
        nonlocal settled
        async with db.write() as session:
            # this item's outcome, written before asking for the row's lock
            await session.execute(update(Job).where(Job.id == job_id).values(status="succeeded"))
            settled += 1
            if settled == len(job_ids):
                everyone_settled.set()
            # on PostgreSQL every item now holds its outcome uncommitted before any counts
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(everyone_settled.wait(), timeout=0.3)
            row = await paid.claim_last(
                session, ITEMS, row_id, unsettled=lambda r: _unsettled_jobs(session, r)
            )
            if row is not None:
                await paid.succeed(session, ITEMS, row, charged=PRICE, event_data=_event_data)
                concluded.append(job_id)

    await asyncio.gather(*(settle_item(job_id) for job_id in job_ids))
    assert len(concluded) == 1
    assert await _ledger(db, row_id) == [("hold", -12), ("release", 8)]
    assert len(await _events(db, row_id)) == 1
    assert (await _get(db, row_id)).status == "completed"


async def test_claim_last_waits_for_every_item(db: Database, tenant: Tenant) -> None:
    row_id = await _start(db, tenant, items=2)
    async with db.write() as session:
        assert (
            await paid.claim_last(
                session, ITEMS, row_id, unsettled=lambda r: _unsettled_jobs(session, r)
            )
            is None
        )
    assert (await _get(db, row_id)).status == "processing"


async def test_a_custom_hold_reference_and_a_failure_that_releases(
    db: Database, tenant: Tenant
) -> None:
    async with db.write() as session:
        row = _row(tenant, 5)
        await paid.start(session, RELEASING, _actor(tenant), row, amount=5, reason="a round")
    reference = f"test_round:{row.id}:round:1"
    assert RELEASING.reference_of(row) == reference
    async with db.write() as session:
        claimed = await paid.claim(session, RELEASING, row.id)
        assert claimed is not None
        assert (
            await paid.fail(session, RELEASING, claimed, message="none", event_data=_event_data)
            == 0
        )
    async with db.read() as session:
        rows = (
            await session.execute(
                select(
                    CreditLedgerEntry.kind, CreditLedgerEntry.amount, CreditLedgerEntry.reference
                )
                .where(CreditLedgerEntry.reference.startswith(reference))
                .order_by(CreditLedgerEntry.created_at)
            )
        ).all()
    # released, not refunded: the hold closed as settled with nothing captured
    assert [tuple(r) for r in rows] == [
        ("hold", -5, f"{reference}:hold"),
        ("release", 5, f"{reference}:release"),
    ]
    assert await _balance(db, tenant) == 50

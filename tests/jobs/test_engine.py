"""The job engine in one process: claims, retries, failures, leases, shutdown."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from powerpost.config import Settings
from powerpost.credits import service as credits
from powerpost.jobs import JobEngine, LeaseLost, backoff_delay, enqueue, repository
from powerpost.jobs import engine as engine_module
from powerpost.jobs.engine import ON_FAILURE_RETRIES, error_from_record
from powerpost.kit.clock import utcnow
from powerpost.kit.db import Database
from powerpost.models import CreditLedgerEntry, Job, WebhookEvent
from tests.jobs import handlers
from tests.jobs.support import (
    FAST,
    EngineFactory,
    FakeClock,
    Tenant,
    add_job,
    load,
    wait_for_status,
)


def calls(what: str, job_id: str) -> list[int]:
    return [attempt for kind, jid, attempt in handlers.CALLS if kind == what and jid == job_id]


async def events(db: Database, subject: str, event: str) -> list[WebhookEvent]:
    async with db.read() as session:
        return await handlers.events_for(session, subject, event)


async def balance(db: Database, tenant: Tenant) -> int:
    async with db.read() as session:
        return await credits.balance(session, tenant.account_id)


def tuned(settings: Settings, **changes: Any) -> Settings:
    return dataclasses.replace(settings, jobs=dataclasses.replace(FAST, **changes))


# ---------------------------------------------------------------- backoff


def test_backoff_is_capped_exponential_with_full_jitter() -> None:
    ceilings = [min(30.0, 0.5 * 2 ** (attempt - 1)) for attempt in range(1, 11)]
    assert ceilings == [0.5, 1, 2, 4, 8, 16, 30, 30, 30, 30]
    for attempt, ceiling in enumerate(ceilings, start=1):
        top = backoff_delay(attempt, base=0.5, cap=30, rand=lambda: 1.0)
        assert top == ceiling
        assert backoff_delay(attempt, base=0.5, cap=30, rand=lambda: 0.0) == 0
        samples = [backoff_delay(attempt, base=0.5, cap=30) for _ in range(300)]
        assert all(0 <= s <= ceiling for s in samples)
        # Full jitter spreads over the whole range, not just near the ceiling.
        assert min(samples) < ceiling * 0.25
        assert max(samples) > ceiling * 0.75
    assert backoff_delay(10_000, base=1, cap=60, rand=lambda: 1.0) == 60


# ---------------------------------------------------------------- running


async def test_a_job_runs_after_its_transaction_commits(
    make_engine: EngineFactory, db: Database, tenant: Tenant
) -> None:
    engine = make_engine()
    await engine.start()
    async with db.write() as session:
        job_id, subject = await add_job(session, tenant, {"x": 1})
        await asyncio.sleep(0.1)
        assert handlers.CALLS == []  # nothing runs before commit
    # No dispatcher here: only the after-commit kick can have started it.
    job = await wait_for_status(db, job_id, "succeeded")
    assert job.attempts == 1
    assert job.lease_until is None
    assert job.finished_at is not None
    assert job.claimed_by == engine.worker_id
    assert calls("run", job_id) == [1]
    (event,) = await events(db, subject, "generation.completed")
    assert event.payload["event"] == "generation.completed"
    assert event.payload["workspace_id"] == tenant.workspace_id
    assert event.payload["data"]["generation_id"] == subject


async def test_without_a_kick_nothing_runs_until_kicked(
    make_engine: EngineFactory, settings: Settings, tenant: Tenant, db: Database
) -> None:
    engine = make_engine()
    await engine.start()
    # Enqueued through another Database: no engine hears this commit, the kick is "lost".
    other = Database(settings.database_url)
    try:
        async with other.write() as session:
            job_id, _ = await add_job(session, tenant)
    finally:
        await other.dispose()
    await asyncio.sleep(0.2)
    assert (await load(db, job_id)).status == "queued"
    await engine.kick(job_id)
    assert (await wait_for_status(db, job_id, "succeeded")).attempts == 1


async def test_a_rolled_back_enqueue_leaves_no_job(
    make_engine: EngineFactory, db: Database, tenant: Tenant
) -> None:
    engine = make_engine()
    await engine.start()

    async def failing_request() -> None:
        async with db.write() as session:
            await add_job(session, tenant)
            raise RuntimeError("the request failed")

    with pytest.raises(RuntimeError):
        await failing_request()
    await asyncio.sleep(0.1)
    async with db.read() as session:
        assert (await session.execute(select(Job))).first() is None
    assert handlers.CALLS == []


async def test_enqueue_refuses_bad_arguments(db: Database, tenant: Tenant) -> None:
    async with db.write() as session:

        async def attempt(kind: str = "k", **kwargs: Any) -> str:
            return await enqueue(
                session,
                kind=kind,
                account_id=tenant.account_id,
                workspace_id=None,
                subject_id=None,
                **kwargs,
            )

        with pytest.raises(ValueError, match="kind"):
            await attempt("", payload={})
        with pytest.raises(ValueError, match="max_attempts"):
            await attempt(payload={}, max_attempts=0)
        with pytest.raises(ValueError, match="delay"):
            await attempt(payload={}, delay=-1)
        with pytest.raises(TypeError):
            await attempt(payload={"when": object()})


async def test_a_kind_this_worker_does_not_know_is_left_alone(
    make_engine: EngineFactory, db: Database, tenant: Tenant
) -> None:
    engine = make_engine()
    await engine.start()
    async with db.write() as session:
        job_id, _ = await add_job(session, tenant, kind="test.nobody_handles_this", delay=0)
    assert not await engine.process(job_id)
    job = await load(db, job_id)
    assert (job.status, job.attempts, job.claimed_by) == ("queued", 0, None)


# ---------------------------------------------------------------- retries


async def test_retries_back_off_exponentially_up_to_the_cap_then_succeed(
    make_engine: EngineFactory, job_settings: Settings, db: Database, tenant: Tenant
) -> None:
    clock = FakeClock(utcnow() + timedelta(seconds=5))
    engine = make_engine(
        settings=tuned(job_settings, backoff_base=1.0, backoff_cap=3.0),
        clock=clock,
        jitter=lambda: 1.0,
    )
    await engine.start()
    async with db.write() as session:  # delayed: no kick, we drive it by hand
        job_id, subject = await add_job(
            session, tenant, {"fail_on": [1, 2, 3, 4]}, max_attempts=6, delay=1
        )
    delays = []
    for attempt in range(1, 5):
        assert await engine.process(job_id)
        job = await load(db, job_id)
        assert (job.status, job.attempts, job.lease_until) == ("queued", attempt, None)
        assert job.last_error == f"FLAKY: flaky on attempt {attempt}"
        delays.append((job.next_attempt_at - job.updated_at).total_seconds())
        # Not due yet: no one may claim it.
        clock.now = job.next_attempt_at - timedelta(milliseconds=10)
        assert not await engine.process(job_id)
        clock.now = job.next_attempt_at
    assert delays == pytest.approx([1.0, 2.0, 3.0, 3.0])
    assert await engine.process(job_id)
    job = await load(db, job_id)
    assert (job.status, job.attempts) == ("succeeded", 5)
    assert calls("run", job_id) == [1, 2, 3, 4, 5]
    assert calls("on_failure", job_id) == []
    assert len(await events(db, subject, "generation.completed")) == 1


async def test_retry_delays_are_jittered_within_the_backoff_bounds(
    make_engine: EngineFactory, job_settings: Settings, db: Database, tenant: Tenant
) -> None:
    clock = FakeClock(utcnow() + timedelta(seconds=5))
    engine = make_engine(
        settings=tuned(job_settings, backoff_base=10.0, backoff_cap=40.0), clock=clock
    )
    await engine.start()
    async with db.write() as session:
        jobs = [
            (await add_job(session, tenant, {"fail_on": [1, 2, 3, 4]}, delay=1))[0]
            for _ in range(6)
        ]
    seen: dict[int, list[float]] = {}
    for job_id in jobs:
        for attempt in range(1, 5):
            assert await engine.process(job_id)
            job = await load(db, job_id)
            seen.setdefault(attempt, []).append(
                (job.next_attempt_at - job.updated_at).total_seconds()
            )
            clock.now = max(clock.now, job.next_attempt_at)
    for attempt, delays in seen.items():
        ceiling = min(40.0, 10.0 * 2 ** (attempt - 1))
        assert all(0 <= d <= ceiling for d in delays), (attempt, delays)
    assert len({round(d, 6) for d in seen[4]}) > 1  # jittered, not one fixed value


async def test_retry_after_from_the_error_replaces_the_backoff(
    make_engine: EngineFactory, db: Database, tenant: Tenant
) -> None:
    clock = FakeClock(utcnow() + timedelta(seconds=5))
    engine = make_engine(clock=clock)
    await engine.start()
    async with db.write() as session:
        job_id, _ = await add_job(session, tenant, {"fail_on": [1], "retry_after": 42}, delay=1)
    assert await engine.process(job_id)
    job = await load(db, job_id)
    assert (job.next_attempt_at - job.updated_at).total_seconds() == pytest.approx(42)


# ---------------------------------------------------------------- failures


async def test_a_permanent_error_fails_at_once_and_calls_on_failure_once(
    make_engine: EngineFactory, db: Database, tenant: Tenant
) -> None:
    engine = make_engine(dispatch=True)
    await engine.start()
    async with db.write() as session:
        job_id, subject = await add_job(session, tenant, {"raise": "permanent"}, hold=10)
    # (the job may already have run: the hold shows in the ledger, not in the balance now)
    job = await wait_for_status(db, job_id, "failed")
    assert job.attempts == 1
    assert job.last_error == "BAD_INPUT: the input can never work"
    await asyncio.sleep(0.3)  # several dispatcher scans: nothing runs it again
    assert calls("run", job_id) == [1]
    assert calls("on_failure", job_id) == [1]
    assert await balance(db, tenant) == 50
    async with db.read() as session:
        moves = (
            await session.execute(
                select(CreditLedgerEntry.kind, CreditLedgerEntry.amount).where(
                    CreditLedgerEntry.reference.startswith(f"job:{subject}")
                )
            )
        ).all()
    assert sorted(tuple(m) for m in moves) == [("hold", -10), ("refund", 10)]
    (event,) = await events(db, subject, "generation.failed")
    assert event.payload["data"] == {
        "generation_id": subject,
        "status": "failed",
        "error_code": "BAD_INPUT",
        "error_message": "the input can never work",
    }


async def test_max_attempts_reached_calls_on_failure_once_and_fails(
    make_engine: EngineFactory, db: Database, tenant: Tenant
) -> None:
    engine = make_engine(dispatch=True)
    await engine.start()
    async with db.write() as session:
        job_id, subject = await add_job(
            session, tenant, {"raise": "runtime"}, max_attempts=3, hold=10
        )
    job = await wait_for_status(db, job_id, "failed")
    await asyncio.sleep(0.3)
    assert job.attempts == 3
    assert job.last_error == "JOB_FAILED: RuntimeError: boom"
    assert calls("run", job_id) == [1, 2, 3]
    assert calls("on_failure", job_id) == [3]
    assert await balance(db, tenant) == 50
    assert len(await events(db, subject, "generation.failed")) == 1


async def test_an_on_failure_that_raises_is_retried_then_the_job_fails_anyway(
    make_engine: EngineFactory, db: Database, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "ON_FAILURE_RETRIES", 3)  # hours of tries by default
    engine = make_engine(dispatch=True)
    await engine.start()
    async with db.write() as session:
        job_id, _ = await add_job(session, tenant, kind="test.broken_on_failure", max_attempts=1)
    job = await wait_for_status(db, job_id, "failed")
    assert calls("on_failure", job_id) == list(range(1, 2 + 3))
    assert ON_FAILURE_RETRIES >= 50  # the default keeps trying through a long outage
    assert job.last_error is not None
    assert job.last_error.startswith("JOB_FAILED: nope (on_failure kept failing")


async def test_an_attempt_that_runs_over_its_timeout_is_retried(
    make_engine: EngineFactory, db: Database, tenant: Tenant
) -> None:
    engine = make_engine(dispatch=True)
    await engine.start()
    async with db.write() as session:
        job_id, _ = await add_job(session, tenant, kind="test.slow")
    job = await wait_for_status(db, job_id, "succeeded")
    assert job.attempts == 2
    assert job.last_error is not None
    assert job.last_error.startswith("JOB_TIMEOUT")
    assert calls("run", job_id) == [1, 2]


async def test_the_error_a_dead_workers_job_fails_with() -> None:
    assert error_from_record(None).code == "WORKER_LOST"
    recorded = error_from_record("FLAKY: provider said 503")
    assert (recorded.code, recorded.message) == ("FLAKY", "provider said 503")
    assert error_from_record("no code here").code == "JOB_FAILED"


# ---------------------------------------------------------------- claims and leases


@pytest.mark.parametrize("state", ["queued", "expired lease"])
async def test_concurrent_claims_have_exactly_one_winner(
    db: Database, tenant: Tenant, state: str
) -> None:
    async with db.write() as session:
        job_id, _ = await add_job(session, tenant)
    now = utcnow()
    if state == "expired lease":
        async with db.write() as session:
            await session.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(status="running", attempts=1, claimed_by="dead", lease_until=now)
            )
        now += timedelta(seconds=1)

    async def claim(i: int) -> repository.JobInfo | None:
        async with db.write() as session:
            return await repository.claim(
                session,
                job_id,
                worker=f"worker-{i}",
                now=now,
                lease_until=now + timedelta(seconds=60),
                kinds={"test.job"},
            )

    results = await asyncio.gather(*(claim(i) for i in range(20)))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    job = await load(db, job_id)
    expected_attempts = 1 if state == "queued" else 2
    assert (job.status, job.claimed_by, job.attempts) == (
        "running",
        winners[0].claimed_by,
        expected_attempts,
    )
    assert winners[0].attempts == expected_attempts


async def test_a_worker_whose_lease_was_taken_over_cannot_write(
    make_engine: EngineFactory, db: Database, tenant: Tenant
) -> None:
    clock = FakeClock(utcnow() + timedelta(seconds=5))
    first = make_engine(clock=clock, worker_id="first")
    second = make_engine(clock=clock, worker_id="second")
    await first.start()
    await second.start()
    async with db.write() as session:
        job_id, subject = await add_job(session, tenant, delay=1)
    old = await first.claim(job_id)
    assert old is not None
    assert old.attempts == 1
    assert await second.claim(job_id) is None  # the lease holds
    clock.advance(FAST.lease_seconds + 0.5)  # the first worker stalls past its lease
    new = await second.claim(job_id)
    assert new is not None
    assert new.attempts == 2

    async with db.write() as session:
        now = clock()
        owner: dict[str, Any] = {"worker": "first", "attempts": 1, "now": now}
        assert not await repository.renew(session, job_id, lease_until=now, **owner)
        assert not await repository.finish(session, job_id, status="succeeded", **owner)
        assert not await repository.schedule_retry(
            session, job_id, next_attempt_at=now, error="x", **owner
        )
        assert not await repository.release(session, job_id, **owner)
    stale = first.context(old)
    with pytest.raises(LeaseLost):
        async with stale.transaction():
            pytest.fail("a fenced transaction must not start for a lost claim")
    with pytest.raises(LeaseLost):
        async with db.write() as session:
            await stale.finish(session)
    # Same worker name, older attempt: still refused (the guard includes attempts).
    async with db.write() as session:
        assert not await repository.finish(
            session, job_id, worker="second", attempts=1, status="failed", now=clock()
        )

    job = await load(db, job_id)
    assert (job.status, job.claimed_by, job.attempts) == ("running", "second", 2)
    current = second.context(new)
    async with current.transaction() as session:
        await current.finish(session)
    assert (await load(db, job_id)).status == "succeeded"
    assert await events(db, subject, "generation.completed") == []


async def test_the_heartbeat_stops_a_handler_whose_job_was_taken_over(
    make_engine: EngineFactory, db: Database, tenant: Tenant
) -> None:
    engine = make_engine()
    await engine.start()
    async with db.write() as session:
        job_id, subject = await add_job(session, tenant, {"sleep_first": 30})
    await wait_for_status(db, job_id, "running")
    async with db.write() as session:  # another worker claims it
        await session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(claimed_by="thief", attempts=Job.attempts + 1)
        )
    for _ in range(100):
        if handlers.CANCELLED:
            break
        await asyncio.sleep(0.02)
    assert [job_id] == handlers.CANCELLED
    await engine.stop()
    after = await load(db, job_id)
    assert (after.status, after.claimed_by, after.attempts) == ("running", "thief", 2)
    assert await events(db, subject, "generation.completed") == []


async def test_a_long_handler_keeps_its_lease(
    make_engine: EngineFactory, job_settings: Settings, db: Database, tenant: Tenant
) -> None:
    fast = tuned(job_settings, lease_seconds=1.2)
    engine = make_engine(settings=fast)
    watcher = make_engine(settings=fast, dispatch=True)  # would take over a stalled job
    await watcher.start()
    await engine.start()  # started last: it hears the commit and takes the kick
    async with db.write() as session:
        job_id, _ = await add_job(session, tenant, {"sleep_first": 2.6})
    job = await wait_for_status(db, job_id, "succeeded", within=10)
    assert job.attempts == 1
    assert job.claimed_by == engine.worker_id
    assert handlers.CANCELLED == []


async def test_retrying_after_a_crash_does_not_repeat_the_side_effect(
    make_engine: EngineFactory, db: Database, tenant: Tenant
) -> None:
    engine = make_engine(dispatch=True)
    await engine.start()
    async with db.write() as session:
        job_id, subject = await add_job(session, tenant, {"crash_after_commit_on": [1]})
    job = await wait_for_status(db, job_id, "succeeded")
    assert job.attempts == 2
    assert calls("run", job_id) == [1, 2]
    (event,) = await events(db, subject, "generation.completed")
    assert event.payload["data"]["outputs"] == {"attempt": 1}


async def test_finishing_inside_the_handlers_transaction_is_atomic(
    make_engine: EngineFactory, db: Database, tenant: Tenant
) -> None:
    engine = make_engine(dispatch=True)
    await engine.start()
    async with db.write() as session:
        job_id, subject = await add_job(
            session, tenant, {"finish_in_transaction": True, "crash_after_commit_on": [1]}
        )
    job = await wait_for_status(db, job_id, "succeeded")
    await asyncio.sleep(0.3)
    # Done with its side effect in one commit: the crash after it changes nothing.
    assert job.attempts == 1
    assert calls("run", job_id) == [1]
    assert len(await events(db, subject, "generation.completed")) == 1


async def test_a_dead_workers_last_attempt_goes_to_on_failure(
    make_engine: EngineFactory, db: Database, tenant: Tenant
) -> None:
    clock = FakeClock(utcnow() + timedelta(seconds=5))
    engine = make_engine(clock=clock)
    await engine.start()
    async with db.write() as session:
        job_id, subject = await add_job(session, tenant, max_attempts=1, delay=1, hold=10)
    async with db.write() as session:  # a worker claims it and dies
        assert await repository.claim(
            session,
            job_id,
            worker="dead",
            now=clock(),
            lease_until=clock() + timedelta(seconds=1),
            kinds={"test.job"},
        )
    clock.advance(2)
    assert await engine.process(job_id)
    job = await load(db, job_id)
    assert job.status == "failed"
    assert job.last_error is not None
    assert job.last_error.startswith("WORKER_LOST")
    assert calls("run", job_id) == []
    assert len(calls("on_failure", job_id)) == 1
    assert await balance(db, tenant) == 50
    (event,) = await events(db, subject, "generation.failed")
    assert event.payload["data"]["error_code"] == "WORKER_LOST"


# ---------------------------------------------------------------- dispatcher and shutdown


async def test_the_dispatcher_rekicks_a_job_whose_kick_was_lost(
    make_engine: EngineFactory, settings: Settings, db: Database, tenant: Tenant
) -> None:
    other = Database(settings.database_url)
    try:
        async with other.write() as session:
            job_id, _ = await add_job(session, tenant)
    finally:
        await other.dispose()
    engine = make_engine(dispatch=True)
    await engine.start()
    job = await wait_for_status(db, job_id, "succeeded")
    assert job.attempts == 1
    assert job.kicked_at is not None


async def test_the_dispatcher_kicks_due_and_stalled_rows_and_not_twice(
    job_settings: Settings, db: Database, tenant: Tenant
) -> None:
    from powerpost.jobs.dispatcher import Dispatcher

    kicked: list[list[str]] = []

    async def kick(ids: Sequence[str]) -> None:
        kicked.append(list(ids))

    start = utcnow()
    clock = FakeClock(start + timedelta(seconds=1))
    async with db.write() as session:
        due, _ = await add_job(session, tenant)
        later, _ = await add_job(session, tenant, delay=60)
        stalled, _ = await add_job(session, tenant)
        healthy, _ = await add_job(session, tenant)
        done, _ = await add_job(session, tenant)
    async with db.write() as session:
        running = {"status": "running", "attempts": 1, "claimed_by": "w"}
        await session.execute(
            update(Job).where(Job.id == stalled).values(lease_until=start, **running)
        )
        await session.execute(
            update(Job)
            .where(Job.id == healthy)
            .values(lease_until=start + timedelta(hours=1), **running)
        )
        await session.execute(update(Job).where(Job.id == done).values(status="succeeded"))
    dispatcher = Dispatcher(db, kick, interval=1, rekick_seconds=10, clock=clock)
    assert await dispatcher.tick() == [due, stalled]
    assert await dispatcher.tick() == []  # just kicked: give the workers time
    clock.advance(11)
    assert await dispatcher.tick() == [due, stalled]  # still unclaimed: kick again
    clock.advance(60)
    assert await dispatcher.tick() == [due, later, stalled]  # oldest first
    assert kicked == [[due, stalled], [due, stalled], [due, later, stalled]]


async def test_shutdown_hands_a_running_job_back_and_another_worker_finishes_it(
    make_engine: EngineFactory, db: Database, tenant: Tenant
) -> None:
    first = make_engine()
    await first.start()
    async with db.write() as session:
        job_id, subject = await add_job(session, tenant, {"sleep_first": 30})
    await wait_for_status(db, job_id, "running")
    await first.stop()
    assert [job_id] == handlers.CANCELLED
    job = await load(db, job_id)
    assert (job.status, job.attempts, job.lease_until) == ("queued", 1, None)
    assert job.next_attempt_at <= utcnow()
    second = make_engine(dispatch=True)
    await second.start()
    job = await wait_for_status(db, job_id, "succeeded")
    assert job.attempts == 2
    assert job.claimed_by == second.worker_id
    assert len(await events(db, subject, "generation.completed")) == 1


async def test_a_stopped_engine_ignores_kicks(
    make_engine: EngineFactory, db: Database, tenant: Tenant
) -> None:
    engine: JobEngine = make_engine()
    await engine.start()
    await engine.stop()
    async with db.write() as session:
        job_id, _ = await add_job(session, tenant)
    await engine.kick(job_id)
    await asyncio.sleep(0.1)
    assert (await load(db, job_id)).status == "queued"


async def test_a_job_kicked_on_commit_is_not_kicked_again_by_the_dispatcher(
    make_engine: EngineFactory, db: Database, tenant: Tenant
) -> None:
    engine = make_engine(dispatch=True)
    kicked: list[str] = []
    real_kick_many = engine.kick_many

    async def counting_kick_many(job_ids: Sequence[str]) -> None:
        kicked.extend(job_ids)
        await real_kick_many(job_ids)

    engine.kick_many = counting_kick_many  # type: ignore[method-assign]
    await engine.start()
    async with db.write() as session:
        job_id, _ = await add_job(session, tenant, {"sleep_first": 0.3})
    assert (await load(db, job_id)).kicked_at is not None  # stamped with the enqueue
    await wait_for_status(db, job_id, "succeeded")
    assert kicked.count(job_id) == 1  # the after-commit kick only, no dispatcher duplicate

"""How the engine is deployed: inside the server (embedded) and split across processes
that talk through the Redis stream (scaled)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time

import pytest
from fastapi import FastAPI

from powerpost.accounts import service as accounts
from powerpost.app import create_app
from powerpost.config import Settings
from powerpost.jobs.broker import (
    CONSUMER_GROUP,
    QUEUE_NAME,
    XREAD_BLOCK_MS,
    prune_dead_consumers,
)
from powerpost.kit.db import Database
from tests.fixtures import db as testdb
from tests.jobs.support import FAST, EngineFactory, Tenant, add_job, load, wait_for_status


async def new_tenant(db: Database) -> Tenant:
    async with db.write() as session:
        created = await accounts.create_account(
            session,
            email="modes@example.com",
            password=None,
            signup_credits=50,
            storage_quota_bytes=10**9,
        )
    return Tenant(created.account.id, created.workspace.id)


async def test_the_server_runs_jobs_in_process(app: FastAPI) -> None:
    engine = app.state.jobs
    assert (engine.execute, engine.dispatch, engine.running) == (True, True, True)
    db: Database = app.state.db
    tenant = await new_tenant(db)
    async with db.write() as session:
        job_id, _ = await add_job(session, tenant, {"fail_on": [1]})
    job = await wait_for_status(db, job_id, "succeeded", within=15)
    assert job.attempts == 2  # the retry came from the in-process dispatcher
    assert job.claimed_by == engine.worker_id


async def test_a_server_with_embedded_jobs_off_only_enqueues(settings: Settings) -> None:
    off = dataclasses.replace(settings, jobs=dataclasses.replace(FAST, embedded=False))
    application = create_app(off)
    async with application.router.lifespan_context(application):
        engine = application.state.jobs
        assert (engine.execute, engine.dispatch) == (False, False)
        db: Database = application.state.db
        tenant = await new_tenant(db)
        async with db.write() as session:
            job_id, _ = await add_job(session, tenant)
        await asyncio.sleep(0.3)
        job = await load(db, job_id)
        assert (job.status, job.attempts) == ("queued", 0)


@pytest.mark.skipif(not testdb.REDIS_URL, reason="needs POWERPOST_TEST_REDIS_URL")
async def test_scaled_roles_talk_through_the_redis_stream(
    make_engine: EngineFactory, db: Database, tenant: Tenant
) -> None:
    worker = make_engine(broker=None, execute=True, dispatch=False)
    dispatcher = make_engine(broker=None, execute=False, dispatch=True)
    api = make_engine(broker=None, execute=False, dispatch=False)
    for engine in (worker, dispatcher, api):
        await engine.start()  # the API engine, started last, hears the commits
    async with db.write() as session:
        first, _ = await add_job(session, tenant)
        retried, _ = await add_job(session, tenant, {"fail_on": [1]})
    job = await wait_for_status(db, first, "succeeded", within=15)
    assert (job.attempts, job.claimed_by) == (1, worker.worker_id)
    job = await wait_for_status(db, retried, "succeeded", within=15)
    assert (job.attempts, job.claimed_by) == (2, worker.worker_id)


async def test_an_unreachable_redis_does_not_stop_the_server(
    make_engine: EngineFactory, job_settings: Settings, db: Database, tenant: Tenant
) -> None:
    broken = dataclasses.replace(job_settings, redis_url="redis://127.0.0.1:1/0")
    engine = make_engine(settings=broken, broker=None, execute=True, dispatch=True)
    await engine.start()  # logs, does not raise
    async with db.write() as session:
        job_id, _ = await add_job(session, tenant)
    await engine.kick(job_id)  # lost: logged, not raised
    await asyncio.sleep(0.3)
    job = await load(db, job_id)
    assert (job.status, job.attempts) == ("queued", 0)
    assert job.kicked_at is not None  # the dispatcher tried, and will again
    await engine.stop()


@pytest.mark.skipif(not testdb.REDIS_URL, reason="needs POWERPOST_TEST_REDIS_URL")
async def test_an_idle_worker_still_hears_kicks(
    make_engine: EngineFactory, db: Database, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    """A receiver waits in XREADGROUP for XREAD_BLOCK_MS at a time; idling through more
    than one such wait must not break it (it did when the socket timeout equalled it)."""
    caplog.set_level(logging.ERROR, logger="powerpost.jobs")
    worker = make_engine(broker=None, execute=True, dispatch=False)
    api = make_engine(broker=None, execute=False, dispatch=False)
    await worker.start()
    await api.start()
    await asyncio.sleep(XREAD_BLOCK_MS / 1000 * 1.5)  # idle through a full block and more
    async with db.write() as session:
        job_id, _ = await add_job(session, tenant)
    started = time.monotonic()
    job = await wait_for_status(db, job_id, "succeeded", within=15)
    # No dispatcher here: only the kick through the stream can have started it, at once.
    assert time.monotonic() - started < 3
    assert job.claimed_by == worker.worker_id
    assert not [r for r in caplog.records if "job receiver failed" in r.getMessage()]


@pytest.mark.skipif(not testdb.REDIS_URL, reason="needs POWERPOST_TEST_REDIS_URL")
async def test_dead_workers_consumers_are_pruned_and_live_ones_keep_working(
    make_engine: EngineFactory, db: Database, tenant: Tenant
) -> None:
    from redis.asyncio import Redis

    worker = make_engine(broker=None, execute=True, dispatch=False)
    await worker.start()
    broker = worker._broker
    assert broker is not None
    async with Redis(connection_pool=broker.connection_pool) as redis:  # type: ignore[attr-defined]
        await redis.xgroup_createconsumer(QUEUE_NAME, CONSUMER_GROUP, "killed-worker-1")
        removed = await prune_dead_consumers(broker, min_idle_ms=0)
        left = [c["name"] for c in await redis.xinfo_consumers(QUEUE_NAME, CONSUMER_GROUP)]
    assert "killed-worker-1" in removed
    assert all(name not in (b"killed-worker-1", "killed-worker-1") for name in left)
    # Pruning may have removed the live worker's consumer too: its next read recreates it.
    async with db.write() as session:
        job_id, _ = await add_job(session, tenant)
    assert (await wait_for_status(db, job_id, "succeeded", within=15)).attempts == 1

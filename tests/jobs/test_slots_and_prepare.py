"""The engine's two pools of slots (network-bound handlers apart from the rest) and a
handler's `prepare`, run in the claim's own transaction."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.config import Settings
from powerpost.jobs import JobContext, JobError, register
from powerpost.jobs.registry import unregister
from powerpost.kit.db import Database
from powerpost.models import WebhookEvent
from powerpost.webhooks.events import record_event
from tests.jobs.support import EngineFactory, Tenant, add_job, wait_for_status

RUNNING: dict[str, int] = {"now": 0, "most": 0}
RELEASE = asyncio.Event()


class _Waits:
    """Runs until RELEASE is set, counting how many run at once."""

    async def run(self, ctx: JobContext) -> None:
        RUNNING["now"] += 1
        RUNNING["most"] = max(RUNNING["most"], RUNNING["now"])
        try:
            await asyncio.wait_for(RELEASE.wait(), timeout=5)
        finally:
            RUNNING["now"] -= 1
        async with ctx.transaction() as session:
            await ctx.finish(session)

    async def on_failure(self, ctx: JobContext, error: JobError) -> None:
        async with ctx.transaction() as session:
            await ctx.finish(session)


class _NetworkWaits(_Waits):
    network_bound = True


async def _run_three(
    make_engine: EngineFactory, settings: Settings, db: Database, tenant: Tenant, kind: str
) -> int:
    RUNNING.update(now=0, most=0)
    RELEASE.clear()
    engine = make_engine(settings=settings, dispatch=True)
    await engine.start()
    async with db.write() as session:
        ids = [(await add_job(session, tenant, kind=kind))[0] for _ in range(3)]
    await asyncio.sleep(0.5)
    most = RUNNING["most"]
    RELEASE.set()
    for job_id in ids:
        await wait_for_status(db, job_id, "succeeded")
    return most


async def test_network_bound_jobs_do_not_wait_for_the_general_slots(
    make_engine: EngineFactory, job_settings: Settings, db: Database, tenant: Tenant
) -> None:
    settings = dataclasses.replace(
        job_settings,
        jobs=dataclasses.replace(job_settings.jobs, concurrency=1, network_concurrency=3),
    )
    register("test.waits")(_Waits)
    register("test.network_waits")(_NetworkWaits)
    try:
        assert await _run_three(make_engine, settings, db, tenant, "test.waits") == 1
        assert await _run_three(make_engine, settings, db, tenant, "test.network_waits") == 3
    finally:
        unregister("test.waits")
        unregister("test.network_waits")


PREPARED: list[Any] = []


class _Prepares:
    """`prepare` writes an event with the claim; `run` sees what it left."""

    async def prepare(self, ctx: JobContext, session: AsyncSession) -> None:
        await record_event(
            session,
            workspace_id=ctx.workspace_id or "",
            mode="live",
            event="generation.completed",
            data={"generation_id": ctx.subject_id, "prepared": True},
        )
        if ctx.payload.get("fail_prepare"):
            raise RuntimeError("prepare broke after writing")
        ctx.prepared = "ready"

    async def run(self, ctx: JobContext) -> None:
        PREPARED.append(ctx.prepared)
        async with ctx.transaction() as session:
            await ctx.finish(session)

    async def on_failure(self, ctx: JobContext, error: JobError) -> None:
        async with ctx.transaction() as session:
            await ctx.finish(session)


async def _prepared_events(db: Database, subject: str) -> int:
    async with db.read() as session:
        rows = (await session.execute(select(WebhookEvent))).scalars()
        return sum(1 for r in rows if r.payload["data"].get("generation_id") == subject)


async def test_prepare_commits_with_the_claim_or_not_at_all(
    make_engine: EngineFactory, db: Database, tenant: Tenant
) -> None:
    PREPARED.clear()
    register("test.prepares")(_Prepares)
    try:
        engine = make_engine()
        await engine.start()
        async with db.write() as session:
            ok_id, ok_subject = await add_job(session, tenant, kind="test.prepares")
            bad_id, bad_subject = await add_job(
                session, tenant, {"fail_prepare": True}, kind="test.prepares"
            )
        # (kicked by the commit)
        assert (await wait_for_status(db, ok_id, "succeeded")).attempts == 1
        assert (await wait_for_status(db, bad_id, "succeeded")).attempts == 1
    finally:
        unregister("test.prepares")
    # the good prepare's write committed with its claim; the broken one's was undone, and
    # its job still ran, without what prepare would have left
    assert await _prepared_events(db, ok_subject) == 1
    assert await _prepared_events(db, bad_subject) == 0
    assert sorted(PREPARED, key=str) == [None, "ready"]

"""Job handlers used by the engine tests (and by worker subprocesses, through
POWERPOST_JOB_MODULES=tests.jobs.handlers).

`test.job` does what its payload says, and leaves its traces in the database so a test can
check them even when the job ran in another process:
- success writes one `generation.completed` event for the subject (checked first, inside a
  fenced transaction, so running twice still writes one);
- on_failure refunds the hold `job:<subject>` and writes one `generation.failed` event.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.credits import service as credits
from powerpost.jobs import (
    JobContext,
    JobError,
    PermanentJobError,
    RetryableJobError,
    register,
)
from powerpost.models import WebhookEvent
from powerpost.webhooks.events import record_event

# In-process observations: (what, job id, attempt).
CALLS: list[tuple[str, str, int]] = []
CANCELLED: list[str] = []


async def events_for(session: AsyncSession, subject_id: str, event: str) -> list[WebhookEvent]:
    rows = await session.execute(select(WebhookEvent).where(WebhookEvent.event == event))
    return [r for r in rows.scalars() if r.payload["data"].get("generation_id") == subject_id]


def _attempts(payload: dict[str, Any], key: str) -> list[int]:
    value = payload.get(key, [])
    return [int(v) for v in value]


@register("test.job")
class ScriptedJob:
    async def run(self, ctx: JobContext) -> None:
        payload = ctx.payload
        CALLS.append(("run", ctx.id, ctx.attempt))
        if ctx.attempt == 1 and payload.get("sleep_first"):
            try:
                await asyncio.sleep(float(payload["sleep_first"]))
            except asyncio.CancelledError:
                CANCELLED.append(ctx.id)
                raise
        if ctx.attempt in _attempts(payload, "fail_on"):
            raise RetryableJobError(
                f"flaky on attempt {ctx.attempt}",
                code="FLAKY",
                retry_after=payload.get("retry_after"),
            )
        if payload.get("raise") == "permanent":
            raise PermanentJobError("the input can never work", code="BAD_INPUT")
        if payload.get("raise") == "runtime":
            raise RuntimeError("boom")
        assert ctx.subject_id is not None
        assert ctx.workspace_id is not None
        async with ctx.transaction() as session:
            if not await events_for(session, ctx.subject_id, "generation.completed"):
                await record_event(
                    session,
                    workspace_id=ctx.workspace_id,
                    mode="live",
                    event="generation.completed",
                    data={
                        "generation_id": ctx.subject_id,
                        "status": "completed",
                        "outputs": {"attempt": ctx.attempt},
                    },
                )
            if payload.get("finish_in_transaction"):
                await ctx.finish(session)
        # A crash after the side effect committed, before the job is marked done.
        if ctx.attempt in _attempts(payload, "crash_after_commit_on"):
            raise RuntimeError("worker crashed after committing")

    async def on_failure(self, ctx: JobContext, error: JobError) -> None:
        CALLS.append(("on_failure", ctx.id, ctx.attempt))
        assert ctx.subject_id is not None
        assert ctx.workspace_id is not None
        async with ctx.transaction() as session:
            await credits.refund(session, f"job:{ctx.subject_id}", reason="test job failed")
            await record_event(
                session,
                workspace_id=ctx.workspace_id,
                mode="live",
                event="generation.failed",
                data={
                    "generation_id": ctx.subject_id,
                    "status": "failed",
                    "error_code": error.code,
                    "error_message": error.message,
                },
            )
            await ctx.finish(session)


@register("test.broken_on_failure")
class BrokenOnFailure:
    """Fails permanently, and its on_failure fails too (until the payload says not to)."""

    async def run(self, ctx: JobContext) -> None:
        raise PermanentJobError("nope")

    async def on_failure(self, ctx: JobContext, error: JobError) -> None:
        CALLS.append(("on_failure", ctx.id, ctx.attempt))
        raise RuntimeError("database hiccup")


@register("test.slow")
class SlowFirstTime:
    """Runs over its per-attempt timeout the first time."""

    timeout = 0.2

    async def run(self, ctx: JobContext) -> None:
        CALLS.append(("run", ctx.id, ctx.attempt))
        if ctx.attempt == 1:
            await asyncio.sleep(30)

    async def on_failure(self, ctx: JobContext, error: JobError) -> None:
        CALLS.append(("on_failure", ctx.id, ctx.attempt))

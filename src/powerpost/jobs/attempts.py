"""One attempt of one job: claim the row, run its handler beside a lease heartbeat, and
conclude (succeed, retry with backoff, or fail through the handler's on_failure).

The handler runs inside a supervised task next to a heartbeat that renews the lease every
third of it. If the heartbeat finds the claim gone (another worker took the job after this
one stalled), the handler is cancelled: its writes are fenced (`ctx.transaction()`) and its
completion is guarded, so nothing it does after that point lands. If the attempt itself is
cancelled (the engine stopping), the claim is handed back before the cancellation goes on.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.config import Settings
from powerpost.jobs import registry, repository
from powerpost.jobs.context import JobContext
from powerpost.jobs.errors import JobError, LeaseLost, PermanentJobError, RetryableJobError
from powerpost.jobs.registry import JobHandler
from powerpost.jobs.repository import FAILED, SUCCEEDED, JobInfo
from powerpost.jobs.service import backoff_delay
from powerpost.kit.db import Database

log = logging.getLogger("powerpost.jobs")

# on_failure refunds and reports; if it raises (a database outage) it is tried again, with
# the same capped backoff as attempts, this many more times before the job is marked
# failed without it: with the default 5-minute cap that is hours, so an outage of that
# length still ends in the refund rather than credits held for good.
ON_FAILURE_RETRIES = 100
# A server asking us to wait longer than this is treated as asking for this.
MAX_RETRY_AFTER = 3600.0
WORKER_LOST = "WORKER_LOST"
_CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")


def error_from_record(last_error: str | None) -> JobError:
    """The error a dead worker's job fails with: the last one recorded, else WORKER_LOST."""
    if not last_error:
        return JobError("the worker running this job stopped before it finished", code=WORKER_LOST)
    code, sep, message = last_error.partition(": ")
    if sep and _CODE_RE.match(code):
        return JobError(message, code=code)
    return JobError(last_error)


@dataclass
class _Outcome:
    error: BaseException | None = None
    lease_lost: bool = False


class AttemptRunner:
    """Runs single attempts for one engine: `run(job_id)` claims and runs one; `claim`,
    `context` and `backoff` are the engine's public pieces of it.

    `http` returns the engine's outbound client (it exists from the engine's start());
    `on_failure_retries` bounds how often a raising on_failure is tried again."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        worker_id: str,
        clock: Callable[[], datetime],
        jitter: Callable[[], float] | None,
        state: dict[str, Any],
        http: Callable[[], httpx.AsyncClient | None],
        on_failure_retries: int = ON_FAILURE_RETRIES,
    ) -> None:
        self.settings = settings
        self.config = settings.jobs
        self.db = db
        self.worker_id = worker_id
        self.clock = clock
        self.state = state
        self.on_failure_retries = on_failure_retries
        self._jitter = jitter
        self._http = http

    async def run(self, job_id: str) -> bool:
        """Claim `job_id` and run one attempt of it if it can be claimed; True when this
        call ran it."""
        try:
            async with self.db.write() as session:
                job = await self._claim_in(session, job_id)
                if job is None:
                    return False
                handler = registry.get_handler(job.kind)
                if handler is None:  # unregistered since the claim; let the lease run out
                    return False
                ctx = self.context(job)
                await self._prepare(ctx, handler, session)
        except Exception:
            log.warning("could not claim job %s", job_id, exc_info=True)
            return False
        await self._execute(ctx, handler)
        return True

    async def _prepare(self, ctx: JobContext, handler: JobHandler, session: AsyncSession) -> None:
        """The handler's optional `prepare`, in the claim's transaction (one write
        transaction less per attempt). Under a savepoint: if it fails, its writes are undone,
        the claim still commits and `run` starts without what it would have left."""
        prepare = getattr(handler, "prepare", None)
        if prepare is None or ctx.job.attempts > ctx.job.max_attempts:
            return
        try:
            async with session.begin_nested():
                await prepare(ctx, session)
        except Exception:
            log.warning("prepare of job %s (%s) failed", ctx.id, ctx.kind, exc_info=True)
            ctx.prepared = None

    async def kind_of(self, job_id: str) -> str | None:
        """The job's kind (None if there is no such job), without a transaction."""
        try:
            row = await self.db.fetch_one("SELECT kind FROM jobs WHERE id = :id", {"id": job_id})
        except Exception:
            log.warning("could not read the kind of job %s", job_id, exc_info=True)
            return None
        return None if row is None else str(row[0])

    async def claim(self, job_id: str) -> JobInfo | None:
        async with self.db.write() as session:
            return await self._claim_in(session, job_id)

    async def _claim_in(self, session: AsyncSession, job_id: str) -> JobInfo | None:
        now = self.clock()
        return await repository.claim(
            session,
            job_id,
            worker=self.worker_id,
            now=now,
            lease_until=now + timedelta(seconds=self.config.lease_seconds),
            kinds=registry.registered_kinds(),
        )

    def context(self, job: JobInfo) -> JobContext:
        http = self._http()
        if http is None:
            raise RuntimeError("start() the job engine first")
        return JobContext(
            job=job,
            db=self.db,
            http=http,
            settings=self.settings,
            state=self.state,
            lease_seconds=self.config.lease_seconds,
            clock=self.clock,
            log=log,
        )

    async def _execute(self, ctx: JobContext, handler: JobHandler) -> None:
        job = ctx.job
        if job.attempts > job.max_attempts:
            # Its last attempt's worker died holding it: no tries left, only the failure.
            await self._final_failure(ctx, handler, error_from_record(job.last_error))
            return
        outcome = await self._supervise(ctx, lambda: self._run(handler, ctx))
        if ctx.finished or outcome.lease_lost:
            if outcome.lease_lost:
                log.warning("job %s attempt %s lost its lease; stopped", job.id, job.attempts)
            return
        exc = outcome.error
        if exc is None:
            await self._finish(ctx, SUCCEEDED, None)
            return
        if isinstance(exc, LeaseLost):
            log.warning("job %s attempt %s: %s", job.id, job.attempts, exc)
            return
        if isinstance(exc, JobError):
            error = exc
        else:
            log.warning("job %s (%s) raised", job.id, job.kind, exc_info=exc)
            error = JobError(f"{type(exc).__name__}: {exc}"[:500])
        if isinstance(exc, PermanentJobError) or job.attempts >= job.max_attempts:
            await self._final_failure(ctx, handler, error)
            return
        retry_after = exc.retry_after if isinstance(exc, RetryableJobError) else None
        if retry_after is not None:
            delay = min(max(retry_after, 0.0), MAX_RETRY_AFTER)
        else:
            delay = self.backoff(job.attempts)
        await self._retry(ctx, delay, str(error))

    async def _run(self, handler: JobHandler, ctx: JobContext) -> None:
        timeout: float | None = getattr(handler, "timeout", None)
        scope = asyncio.timeout(timeout)
        try:
            async with scope:
                await handler.run(ctx)
        except TimeoutError:
            if not scope.expired():
                raise  # the handler's own timeout, not ours
            raise RetryableJobError(
                f"the handler did not finish within {timeout} seconds", code="JOB_TIMEOUT"
            ) from None

    def backoff(self, attempt: int) -> float:
        if self._jitter is None:
            return backoff_delay(
                attempt, base=self.config.backoff_base, cap=self.config.backoff_cap
            )
        return backoff_delay(
            attempt, base=self.config.backoff_base, cap=self.config.backoff_cap, rand=self._jitter
        )

    async def _final_failure(self, ctx: JobContext, handler: JobHandler, error: JobError) -> None:
        job = ctx.job
        ctx.phase = "failure"
        ctx.error = error
        ctx.finished = False
        outcome = await self._supervise(ctx, lambda: handler.on_failure(ctx, error))
        if ctx.finished or outcome.lease_lost or isinstance(outcome.error, LeaseLost):
            return
        if outcome.error is None:
            await self._finish(ctx, FAILED, str(error))
            return
        log.error("on_failure of job %s (%s) raised", job.id, job.kind, exc_info=outcome.error)
        if job.attempts < job.max_attempts + self.on_failure_retries:
            # The next claim finds no attempts left and goes straight to on_failure again,
            # with the same error (it is kept in last_error).
            await self._retry(ctx, self.backoff(job.attempts), str(error))
        else:
            await self._finish(ctx, FAILED, f"{error} (on_failure kept failing: {outcome.error!r})")

    async def _supervise(self, ctx: JobContext, call: Callable[[], Awaitable[None]]) -> _Outcome:
        """Run `call` beside a lease heartbeat. If this task is cancelled (shutdown), the
        call is interrupted and the claim handed back before the cancellation goes on."""
        work: asyncio.Task[None] = asyncio.create_task(_await(call))
        lost = asyncio.Event()
        beat = asyncio.create_task(self._heartbeat(ctx, work, lost))
        try:
            await asyncio.wait({work})
        except asyncio.CancelledError:
            work.cancel()
            await asyncio.gather(work, return_exceptions=True)
            beat.cancel()
            await asyncio.gather(beat, return_exceptions=True)
            if not ctx.finished:
                await asyncio.shield(self._release(ctx))
            raise
        beat.cancel()
        await asyncio.gather(beat, return_exceptions=True)
        if work.cancelled():
            if lost.is_set():
                return _Outcome(lease_lost=True)
            return _Outcome(error=JobError("the handler was cancelled", code="JOB_CANCELLED"))
        return _Outcome(error=work.exception())

    async def _heartbeat(
        self, ctx: JobContext, work: asyncio.Task[None], lost: asyncio.Event
    ) -> None:
        interval = max(self.config.lease_seconds / 3, 0.05)
        job = ctx.job
        while True:
            await asyncio.sleep(interval)
            if ctx.finished:
                return
            now = self.clock()
            try:
                async with self.db.write() as session:
                    ok = await repository.renew(
                        session,
                        job.id,
                        worker=job.claimed_by,
                        attempts=job.attempts,
                        now=now,
                        lease_until=now + timedelta(seconds=self.config.lease_seconds),
                    )
            except Exception:
                log.warning("could not renew the lease of job %s", job.id, exc_info=True)
                continue
            if not ok and not ctx.finished:
                lost.set()
                work.cancel()
                return

    async def _finish(self, ctx: JobContext, status: str, error: str | None) -> None:
        job = ctx.job
        async with self.db.write() as session:
            ok = await repository.finish(
                session,
                job.id,
                worker=job.claimed_by,
                attempts=job.attempts,
                status=status,
                now=self.clock(),
                error=error,
            )
        if not ok:
            log.warning("job %s attempt %s: result dropped, claim lost", job.id, job.attempts)

    async def _retry(self, ctx: JobContext, delay: float, error: str) -> None:
        job = ctx.job
        now = self.clock()
        async with self.db.write() as session:
            ok = await repository.schedule_retry(
                session,
                job.id,
                worker=job.claimed_by,
                attempts=job.attempts,
                now=now,
                next_attempt_at=now + timedelta(seconds=delay),
                error=error,
            )
        if ok:
            log.info(
                "job %s attempt %s failed (%s); retry in %.1fs", job.id, job.attempts, error, delay
            )
        else:
            log.warning("job %s attempt %s: retry dropped, claim lost", job.id, job.attempts)

    async def _release(self, ctx: JobContext) -> None:
        job = ctx.job
        try:
            async with self.db.write() as session:
                await repository.release(
                    session, job.id, worker=job.claimed_by, attempts=job.attempts, now=self.clock()
                )
        except Exception:
            # The lease runs out on its own; the dispatcher recovers the job then.
            log.warning("could not hand job %s back", job.id, exc_info=True)


async def _await(call: Callable[[], Awaitable[None]]) -> None:
    await call()

"""The job engine: claims rows, runs handlers, retries, and gives work back on shutdown.

One JobEngine per process. Roles, chosen by the caller:
- execute: take kicks from the broker, claim the row, run its handler (embedded server,
  `powerpost worker`);
- dispatch: run the dispatcher loop (embedded server, `powerpost dispatcher`, and a worker
  without Redis, which has no one else to kick it);
- neither: only send kicks (a scaled API process).

A handler runs inside a supervised task next to a heartbeat that renews the lease every
third of it. If the heartbeat finds the claim gone (another worker took the job after this
one stalled), the handler is cancelled: its writes are fenced (`ctx.transaction()`) and its
completion is guarded, so nothing it does after that point lands.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import secrets
import socket
import time
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from taskiq import AsyncBroker
from taskiq.acks import AcknowledgeType
from taskiq.decor import AsyncTaskiqDecoratedTask
from taskiq.receiver import Receiver

from powerpost.config import Settings
from powerpost.jobs import registry, repository
from powerpost.jobs.broker import (
    CONSUMER_GROUP,
    TASK_NAME,
    is_in_memory,
    make_broker,
    prune_dead_consumers,
)
from powerpost.jobs.context import JobContext
from powerpost.jobs.dispatcher import Dispatcher
from powerpost.jobs.errors import JobError, LeaseLost, PermanentJobError, RetryableJobError
from powerpost.jobs.registry import JobHandler
from powerpost.jobs.repository import FAILED, SUCCEEDED, JobInfo
from powerpost.jobs.service import attach_kicker, backoff_delay, detach_kicker
from powerpost.kit.clock import utcnow
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
# The stream receiver's reconnect delay: doubling from the first to the cap, and back to
# the first once a receiver has listened this long before failing.
RECEIVER_RETRY_FIRST = 0.5
RECEIVER_RETRY_CAP = 30.0
RECEIVER_HEALTHY_AFTER = 60.0
PRUNE_INTERVAL = 600.0
RECEIVER_STOP_TIMEOUT = 2.0
_CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")


def default_worker_id() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


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


class JobEngine:
    """Start it once per process (`await start()`, `await stop()`); enqueuers need nothing
    from it but `kick(job_id)`, which happens by itself after an enqueuing commit.

    `clock` and `jitter` are injectable for tests; `http` is the shared outbound client
    (one is created and owned if none is given)."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        execute: bool = True,
        dispatch: bool = True,
        http: httpx.AsyncClient | None = None,
        broker: AsyncBroker | None = None,
        worker_id: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        jitter: Callable[[], float] | None = None,
        shutdown_grace: float | None = None,
        load_modules: bool = True,
    ) -> None:
        self.settings = settings
        self.config = settings.jobs
        self.db = db
        self.execute = execute
        self.dispatch = dispatch
        self.http: httpx.AsyncClient | None = http
        self.worker_id = (worker_id or default_worker_id())[:100]
        self.clock = clock
        self.shutdown_grace = (
            settings.jobs.shutdown_grace if shutdown_grace is None else shutdown_grace
        )
        # Per-process resources handlers may cache (ctx.state).
        self.state: dict[str, Any] = {}
        self._jitter = jitter
        self._load_modules = load_modules
        self._broker_given = broker
        self._broker: AsyncBroker | None = None
        self._task: AsyncTaskiqDecoratedTask[[str], Coroutine[Any, Any, None]] | None = None
        self._owns_http = False
        self._broker_up = False
        self._started = False
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots = asyncio.Semaphore(self.config.concurrency)
        self._inflight: set[str] = set()
        self._running: set[asyncio.Task[bool]] = set()
        self._background: set[asyncio.Task[None]] = set()
        self._receiver_task: asyncio.Task[None] | None = None
        self._receiver_stop = asyncio.Event()
        self._dispatcher_task: asyncio.Task[None] | None = None
        self._dispatcher_stop = asyncio.Event()
        self._pruner_task: asyncio.Task[None] | None = None
        self.dispatcher: Dispatcher | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def running(self) -> bool:
        return self._started and not self._stopping

    async def start(self) -> None:
        if self._started:
            return
        if self.execute and self._load_modules:
            registry.load_handler_modules(self.config.modules)
        self._loop = asyncio.get_running_loop()
        broker = self._broker_given or make_broker(self.settings)
        self._broker = broker
        self._task = broker.register_task(_task_body(self), task_name=TASK_NAME)
        in_memory = is_in_memory(broker)
        if self.execute and not in_memory:
            broker.is_worker_process = True
        if self.http is None:
            self.http = httpx.AsyncClient(timeout=httpx.Timeout(30.0), follow_redirects=False)
            self._owns_http = True
        try:
            await broker.startup()
            self._broker_up = True
        except Exception as exc:
            # Serve anyway: the rows wait in the database and are kicked once it is back.
            log.error("job broker unavailable (%s); jobs wait until it is back", exc)
        if self.execute and not in_memory:
            self._receiver_task = asyncio.create_task(self._consume(broker))
        if self.dispatch:
            self.dispatcher = Dispatcher(
                self.db,
                self.kick_many,
                interval=self.config.dispatch_interval,
                rekick_seconds=self.config.rekick_seconds,
                clock=self.clock,
            )
            self._dispatcher_task = asyncio.create_task(self.dispatcher.run(self._dispatcher_stop))
            if not in_memory:
                self._pruner_task = asyncio.create_task(self._prune_consumers(broker))
        if self.execute or not in_memory:
            # Kicks from here reach a worker: this process, or the Redis stream. An API
            # process with neither leaves its jobs to the workers' own dispatchers.
            attach_kicker(self.db, self._kick_soon)
        self._started = True
        log.info(
            "job engine %s started (execute=%s dispatch=%s broker=%s)",
            self.worker_id,
            self.execute,
            self.dispatch,
            type(broker).__name__,
        )

    async def stop(self) -> None:
        """Stop taking work, give running jobs `shutdown_grace` seconds, then interrupt
        them and hand their rows back (due now) so another worker continues at once."""
        if not self._started or self._stopping:
            return
        self._stopping = True
        detach_kicker(self.db, self._kick_soon)
        self._dispatcher_stop.set()
        self._receiver_stop.set()
        if self._dispatcher_task is not None:
            await self._dispatcher_task
        if self._pruner_task is not None:
            await self._pruner_task
        if self._running:
            await asyncio.wait(set(self._running), timeout=self.shutdown_grace)
        for task in list(self._running):
            task.cancel()
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
        if self._receiver_task is not None:
            await self._stop_receiver(self._receiver_task)
        for kick in list(self._background):
            kick.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self._broker is not None:
            await self._forget_consumer(self._broker)
            try:
                await self._broker.shutdown()
            except Exception:
                log.warning("the job broker did not shut down cleanly", exc_info=True)
        if self._owns_http and self.http is not None:
            await self.http.aclose()
        log.info("job engine %s stopped", self.worker_id)

    async def _stop_receiver(self, receiver: asyncio.Task[None]) -> None:
        """Wait for the stream receiver to finish its running kicks, then stop it; never
        wait forever. (Seen under load: a read cancelled mid-XREADGROUP that never
        finished cancelling, which hung shutdown; the broker's shutdown then closes its
        connections.)"""
        done, _ = await asyncio.wait({receiver}, timeout=self.shutdown_grace + 5)
        if not done:
            receiver.cancel()
            done, _ = await asyncio.wait({receiver}, timeout=RECEIVER_STOP_TIMEOUT)
        if not done:
            log.warning("the job receiver did not stop; closing the broker under it")
        elif not receiver.cancelled() and receiver.exception() is not None:
            log.warning("the job receiver did not stop cleanly", exc_info=receiver.exception())

    async def _consume(self, broker: AsyncBroker) -> None:
        """Take kicks from the stream until stop(); if Redis goes away, keep trying to
        reconnect rather than leave a worker that silently consumes nothing."""
        delay = RECEIVER_RETRY_FIRST
        while not self._receiver_stop.is_set():
            started = time.monotonic()
            try:
                if not self._broker_up:
                    await broker.startup()
                    self._broker_up = True
                receiver = Receiver(
                    broker,
                    max_async_tasks=self.config.concurrency,
                    max_prefetch=0,
                    propagate_exceptions=False,
                    run_startup=False,
                    # The row is the record of the work; the message only says "look at it".
                    ack_type=AcknowledgeType.WHEN_RECEIVED,
                    wait_tasks_timeout=self.shutdown_grace,
                )
                await receiver.listen(self._receiver_stop)
                return
            except Exception as exc:
                if time.monotonic() - started > RECEIVER_HEALTHY_AFTER:
                    # It worked for a while: a fresh failure, not a run of them.
                    delay = RECEIVER_RETRY_FIRST
                log.error("job receiver failed (%s); reconnecting in %.1fs", exc, delay)
            try:
                await asyncio.wait_for(self._receiver_stop.wait(), timeout=delay)
            except TimeoutError:
                delay = min(delay * 2, RECEIVER_RETRY_CAP)

    async def _prune_consumers(self, broker: AsyncBroker) -> None:
        """The dispatching process removes dead workers' consumers from the Redis group
        now and then, so killed workers do not pile up there."""
        while not self._dispatcher_stop.is_set():
            try:
                removed = await prune_dead_consumers(broker)
                if removed:
                    log.info("removed %d dead stream consumers", len(removed))
            except Exception as exc:
                log.warning("could not prune stream consumers: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._dispatcher_stop.wait(), timeout=PRUNE_INTERVAL)

    async def _forget_consumer(self, broker: AsyncBroker) -> None:
        """Every worker start adds a named consumer to the Redis group; remove ours so a
        long-lived deployment does not collect thousands of dead names."""
        if self._receiver_task is None or is_in_memory(broker):
            return
        consumer = getattr(broker, "consumer_name", None)
        pool = getattr(broker, "connection_pool", None)
        if consumer is None or pool is None:
            return
        from redis.asyncio import Redis

        async def forget() -> None:
            async with Redis(connection_pool=pool) as redis:
                await redis.xgroup_delconsumer(
                    getattr(broker, "queue_name", ""), CONSUMER_GROUP, consumer
                )

        try:
            await asyncio.wait_for(forget(), timeout=2)
        except Exception:
            log.debug("could not remove the stream consumer %s", consumer, exc_info=True)

    # ------------------------------------------------------------------ kicks

    async def kick(self, job_id: str) -> None:
        """Tell a worker to look at `job_id` now. Best effort: a lost kick only delays the
        job until the dispatcher's next scan."""
        await self.kick_many([job_id])

    async def kick_many(self, job_ids: Sequence[str]) -> None:
        if not self.running or self._task is None or self._broker is None:
            return
        # An in-memory broker only reaches this process; with nothing executing here the
        # kick could reach no one (a worker elsewhere finds the row with its dispatcher).
        in_memory = is_in_memory(self._broker)
        if in_memory and not self.execute:
            return
        for job_id in job_ids:
            if in_memory and job_id in self._inflight:
                continue
            try:
                await self._task.kiq(job_id)
            except Exception:
                log.warning("could not kick job %s; the dispatcher will", job_id, exc_info=True)

    def _kick_soon(self, job_ids: Sequence[str]) -> None:
        """Called synchronously right after an enqueuing transaction commits."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if loop is not self._loop or not self.running:
            return
        task = loop.create_task(self.kick_many(list(job_ids)))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _on_message(self, job_id: str) -> None:
        # The taskiq task body: the message is only a job id.
        if self.execute and self.running:
            await self.process(job_id)

    # ------------------------------------------------------------------ running jobs

    async def process(self, job_id: str) -> bool:
        """Claim `job_id` and run it if it can be claimed; True when this call ran it."""
        if job_id in self._inflight or self._stopping:
            return False
        self._inflight.add(job_id)
        task = asyncio.create_task(self._process(job_id))
        self._running.add(task)
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if task.cancelled() and current is not None and not current.cancelling():
                return False  # interrupted by stop(), which already handed the job back
            raise
        finally:
            self._running.discard(task)
            self._inflight.discard(job_id)

    async def _process(self, job_id: str) -> bool:
        async with self._slots:
            if self._stopping:
                return False
            try:
                job = await self.claim(job_id)
            except Exception:
                log.warning("could not claim job %s", job_id, exc_info=True)
                return False
            if job is None:
                return False
            handler = registry.get_handler(job.kind)
            if handler is None:  # unregistered since the claim; let the lease run out
                return False
            await self._execute(job, handler)
            return True

    async def claim(self, job_id: str) -> JobInfo | None:
        now = self.clock()
        async with self.db.write() as session:
            job = await repository.claim(
                session,
                job_id,
                worker=self.worker_id,
                now=now,
                lease_until=now + timedelta(seconds=self.config.lease_seconds),
                kinds=registry.registered_kinds(),
            )
        return job

    def context(self, job: JobInfo) -> JobContext:
        if self.http is None:
            raise RuntimeError("start() the job engine first")
        return JobContext(
            job=job,
            db=self.db,
            http=self.http,
            settings=self.settings,
            state=self.state,
            lease_seconds=self.config.lease_seconds,
            clock=self.clock,
            log=log,
        )

    async def _execute(self, job: JobInfo, handler: JobHandler) -> None:
        ctx = self.context(job)
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
        if job.attempts < job.max_attempts + ON_FAILURE_RETRIES:
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


def _task_body(engine: JobEngine) -> Callable[[str], Coroutine[Any, Any, None]]:
    """The taskiq task: a plain function (taskiq cannot register bound methods) holding
    the engine weakly (taskiq parks the function on this module)."""
    ref = weakref.ref(engine)

    async def run_job(job_id: str) -> None:
        target = ref()
        if target is not None:
            await target._on_message(job_id)

    return run_job

"""The job engine: claims rows, runs handlers, retries, and gives work back on shutdown.

One JobEngine per process. Roles, chosen by the caller:
- execute: take kicks from the broker, claim the row, run its handler (embedded server,
  `powerpost worker`);
- dispatch: run the dispatcher loop (embedded server, `powerpost dispatcher`, and a worker
  without Redis, which has no one else to kick it);
- neither: only send kicks (a scaled API process).

This module is the engine's lifecycle: starting and stopping, the stream receiver, the
dispatcher and the consumer pruner, kicks, and the concurrency slots; each attempt itself
(claim, the handler beside its lease heartbeat, retry or on_failure) is an AttemptRunner's
(`powerpost.jobs.attempts`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
import weakref
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any

import httpx
from taskiq import AsyncBroker
from taskiq.acks import AcknowledgeType
from taskiq.decor import AsyncTaskiqDecoratedTask
from taskiq.receiver import Receiver

from powerpost.config import Settings
from powerpost.jobs import registry
from powerpost.jobs.attempts import (
    MAX_RETRY_AFTER,
    ON_FAILURE_RETRIES,
    WORKER_LOST,
    AttemptRunner,
    error_from_record,
)
from powerpost.jobs.broker import (
    CONSUMER_GROUP,
    TASK_NAME,
    is_in_memory,
    make_broker,
    prune_dead_consumers,
)
from powerpost.jobs.context import JobContext
from powerpost.jobs.dispatcher import Dispatcher
from powerpost.jobs.repository import JobInfo
from powerpost.jobs.service import attach_kicker, detach_kicker
from powerpost.kit.clock import utcnow
from powerpost.kit.db import Database

# the attempt's names stay importable from here, where they were first defined
__all__ = [
    "MAX_RETRY_AFTER",
    "ON_FAILURE_RETRIES",
    "WORKER_LOST",
    "JobEngine",
    "default_worker_id",
    "error_from_record",
]

log = logging.getLogger("powerpost.jobs")

# The stream receiver's reconnect delay: doubling from the first to the cap, and back to
# the first once a receiver has listened this long before failing.
RECEIVER_RETRY_FIRST = 0.5
RECEIVER_RETRY_CAP = 30.0
RECEIVER_HEALTHY_AFTER = 60.0
PRUNE_INTERVAL = 600.0
RECEIVER_STOP_TIMEOUT = 2.0


def default_worker_id() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


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
        self._network_slots = asyncio.Semaphore(self.config.network_concurrency)
        self._inflight: set[str] = set()
        self._running: set[asyncio.Task[bool]] = set()
        self._background: set[asyncio.Task[None]] = set()
        self._receiver_task: asyncio.Task[None] | None = None
        self._receiver_stop = asyncio.Event()
        self._dispatcher_task: asyncio.Task[None] | None = None
        self._dispatcher_stop = asyncio.Event()
        self._pruner_task: asyncio.Task[None] | None = None
        self.dispatcher: Dispatcher | None = None
        self.attempts = AttemptRunner(
            settings,
            db,
            worker_id=self.worker_id,
            clock=clock,
            jitter=jitter,
            state=self.state,
            http=lambda: self.http,
            # read from this module when the engine is made, where a test may lower it
            on_failure_retries=ON_FAILURE_RETRIES,
        )

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
        await self._close_state()
        log.info("job engine %s stopped", self.worker_id)

    async def _close_state(self) -> None:
        """Close the per-process clients handlers cached in `state` (webhook delivery's
        guarded client, storage), once no job can use them any more."""
        for name, value in list(self.state.items()):
            close = getattr(value, "aclose", None)
            if callable(close):
                del self.state[name]  # a restarted engine opens a fresh one
                try:
                    await close()
                except Exception:
                    log.warning("could not close %r", type(value).__name__, exc_info=True)

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
                    max_async_tasks=self.config.concurrency + self.config.network_concurrency,
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
            if in_memory:
                # This process runs it: start it here rather than through taskiq's message
                # round trip (serialise, validate, parse), which the in-memory broker would
                # end in the same call.
                if job_id not in self._inflight:
                    self._spawn(self._on_message(job_id))
                continue
            try:
                await self._task.kiq(job_id)
            except Exception:
                log.warning("could not kick job %s; the dispatcher will", job_id, exc_info=True)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _kick_soon(self, job_ids: Sequence[str]) -> None:
        """Called synchronously right after an enqueuing transaction commits."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if loop is not self._loop or not self.running:
            return
        self._spawn(self.kick_many(list(job_ids)))

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
        # The slot is taken before the claim (a claimed job's lease runs), so the kind is
        # read first: one indexed read of a row that is not locked.
        kind = await self.attempts.kind_of(job_id)
        slots = self._network_slots if registry.is_network_bound(kind) else self._slots
        async with slots:
            if self._stopping:
                return False
            return await self.attempts.run(job_id)

    async def claim(self, job_id: str) -> JobInfo | None:
        return await self.attempts.claim(job_id)

    def context(self, job: JobInfo) -> JobContext:
        return self.attempts.context(job)

    def backoff(self, attempt: int) -> float:
        return self.attempts.backoff(attempt)


def _task_body(engine: JobEngine) -> Callable[[str], Coroutine[Any, Any, None]]:
    """The taskiq task: a plain function (taskiq cannot register bound methods) holding
    the engine weakly (taskiq parks the function on this module)."""
    ref = weakref.ref(engine)

    async def run_job(job_id: str) -> None:
        target = ref()
        if target is not None:
            await target._on_message(job_id)

    return run_job

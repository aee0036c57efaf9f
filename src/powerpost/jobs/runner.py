"""Process entry points for `powerpost worker` and `powerpost dispatcher`."""

from __future__ import annotations

import asyncio
import logging
import signal

from powerpost.config import Settings
from powerpost.idempotency import PeriodicKeySweep
from powerpost.jobs.engine import JobEngine
from powerpost.kit.db import Database
from powerpost.media.storage import storage_for
from powerpost.media.sweep import PeriodicSweep
from powerpost.webhooks.sweep import periodic_sweep as webhook_sweep

log = logging.getLogger("powerpost.jobs")


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)


async def _run_engine(settings: Settings, *, execute: bool, dispatch: bool) -> None:
    stop = asyncio.Event()
    _stop_on_signals(stop)
    db = Database(settings.database_url)
    engine = JobEngine(settings, db, execute=execute, dispatch=dispatch)
    # The process that dispatches also sweeps what crashed uploads and jobs left behind.
    storage = storage_for(settings)
    sweeper = PeriodicSweep(
        db,
        storage,
        interval=settings.media_sweep_interval if dispatch else 0,
        grace_hours=settings.media_sweep_grace_hours,
    )
    key_sweeper = PeriodicKeySweep(db)
    hook_sweeper = webhook_sweep(db, settings)
    try:
        await engine.start()
        sweeper.start()
        if dispatch:
            key_sweeper.start()
            hook_sweeper.start()
        await stop.wait()
    finally:
        await hook_sweeper.stop()
        await key_sweeper.stop()
        await sweeper.stop()
        await engine.stop()
        await storage.aclose()
        await db.dispose()


def run_worker(settings: Settings, *, with_dispatcher: bool | None = None) -> None:
    """Run jobs until SIGTERM/SIGINT. With Redis the kicks come from the stream; without
    it nothing can reach this process, so it scans the table itself (its own dispatcher)."""
    dispatch = settings.redis_url is None if with_dispatcher is None else with_dispatcher
    asyncio.run(_run_engine(settings, execute=True, dispatch=dispatch))


def run_dispatcher(settings: Settings) -> None:
    """Kick due and stalled jobs to the Redis stream until SIGTERM/SIGINT."""
    if settings.redis_url is None:
        raise ValueError(
            "the dispatcher kicks workers through Redis: set POWERPOST_REDIS_URL "
            "(without Redis, every `powerpost worker` runs its own dispatcher)"
        )
    asyncio.run(_run_engine(settings, execute=False, dispatch=True))

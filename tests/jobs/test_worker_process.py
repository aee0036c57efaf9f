"""`powerpost worker` killed with SIGKILL in the middle of its jobs loses nothing.

Without Redis each worker is self-contained (in-memory broker and its own dispatcher);
with POWERPOST_TEST_REDIS_URL the workers take kicks from the Redis stream and a separate
`powerpost dispatcher` process re-kicks the jobs whose lease ran out.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from powerpost.credits import service as credits
from powerpost.kit.db import Database
from powerpost.models import CreditLedgerEntry
from tests.fixtures import db as testdb
from tests.jobs import handlers
from tests.jobs.support import Tenant, add_job, load, wait_for_status

pytestmark = pytest.mark.multiprocess

ROOT = Path(__file__).resolve().parents[2]
POWERPOST = Path(sys.executable).parent / "powerpost"

Start = Callable[[str, str], Awaitable[asyncio.subprocess.Process]]


@pytest.fixture
async def start(env: dict[str, str], tmp_path: Path) -> AsyncIterator[Start]:
    """Start `powerpost <command>` against the test database; killed at teardown."""
    started: list[tuple[asyncio.subprocess.Process, Path]] = []
    process_env = {
        **os.environ,
        **env,
        "POWERPOST_JOB_MODULES": "tests.jobs.handlers",
        "POWERPOST_JOB_LEASE_SECONDS": "1",
        "POWERPOST_JOB_DISPATCH_INTERVAL": "0.1",
        "POWERPOST_JOB_REKICK_SECONDS": "2",
        "POWERPOST_JOB_BACKOFF_BASE": "0.05",
        "POWERPOST_JOB_BACKOFF_CAP": "0.2",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }

    async def launch(command: str, name: str) -> asyncio.subprocess.Process:
        log = tmp_path / f"{name}.log"
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                str(POWERPOST),
                command,
                env=process_env,
                cwd=str(ROOT),
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )
        started.append((process, log))
        return process

    try:
        yield launch
    finally:
        for process, log in started:
            if process.returncode is None:
                process.kill()
                await process.wait()
            sys.stderr.write(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}\n")


async def wait_until_both_running(db: Database, ids: list[str]) -> str:
    """The worker that claimed both jobs; fails after about 60 s."""
    for _ in range(3000):
        jobs = [await load(db, job_id) for job_id in ids]
        owners = {j.claimed_by for j in jobs}
        if all(j.status == "running" and j.attempts == 1 for j in jobs) and len(owners) == 1:
            owner = owners.pop()
            assert owner is not None
            return owner
        await asyncio.sleep(0.02)
    raise AssertionError(f"jobs not running: {[(j.status, j.attempts) for j in jobs]}")


async def test_a_worker_killed_mid_job_loses_nothing(
    start: Start, db: Database, tenant: Tenant
) -> None:
    async with db.write() as session:
        # Both sleep through their first attempt, long enough to be killed in it.
        survivor, survivor_subject = await add_job(session, tenant, {"sleep_first": 60})
        last_try, last_try_subject = await add_job(
            session, tenant, {"sleep_first": 60}, max_attempts=1, hold=10
        )
    if testdb.REDIS_URL:
        await start("dispatcher", "dispatcher")
    first = await start("worker", "worker-1")
    dead_worker = await wait_until_both_running(db, [survivor, last_try])

    first.send_signal(signal.SIGKILL)
    assert await first.wait() == -signal.SIGKILL
    second = await start("worker", "worker-2")

    # Once the dead worker's lease runs out the new worker takes both over: the one with
    # attempts left runs again and succeeds, the one without fails, refunded, exactly once.
    done = await wait_for_status(db, survivor, "succeeded", within=60)
    assert done.attempts == 2
    assert done.claimed_by not in (None, dead_worker)
    failed = await wait_for_status(db, last_try, "failed", within=60)
    assert failed.last_error is not None
    assert failed.last_error.startswith("WORKER_LOST")
    assert failed.claimed_by not in (None, dead_worker)

    async with db.read() as session:
        completed = await handlers.events_for(session, survivor_subject, "generation.completed")
        failures = await handlers.events_for(session, last_try_subject, "generation.failed")
        refunds = (
            await session.execute(
                select(CreditLedgerEntry).where(
                    CreditLedgerEntry.account_id == tenant.account_id,
                    CreditLedgerEntry.kind == "refund",
                )
            )
        ).all()
        balance = await credits.balance(session, tenant.account_id)
    assert len(completed) == 1
    assert completed[0].payload["data"]["outputs"] == {"attempt": 2}
    assert len(failures) == 1
    assert failures[0].payload["data"]["error_code"] == "WORKER_LOST"
    assert len(refunds) == 1
    assert balance == 50

    # A worker asked to stop (SIGTERM) stops cleanly.
    second.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(second.wait(), timeout=20) == 0

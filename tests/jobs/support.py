"""Helpers shared by the job engine tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.config import JobSettings
from powerpost.credits import service as credits
from powerpost.jobs import JobEngine, enqueue
from powerpost.kit.clock import utcnow
from powerpost.kit.db import Database
from powerpost.kit.ids import new_id
from powerpost.models import Job

FAST = JobSettings(
    embedded=True,
    concurrency=8,
    lease_seconds=1.0,
    dispatch_interval=0.05,
    rekick_seconds=0.3,
    backoff_base=0.01,
    backoff_cap=0.05,
)


EngineFactory = Callable[..., JobEngine]


@dataclass
class Tenant:
    account_id: str
    workspace_id: str


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def add_job(
    session: AsyncSession,
    tenant: Tenant,
    payload: dict[str, Any] | None = None,
    *,
    kind: str = "test.job",
    max_attempts: int = 5,
    delay: float = 0,
    hold: int = 0,
) -> tuple[str, str]:
    """Enqueue a job on a fresh subject (holding `hold` credits for it); (job id, subject)."""
    subject = new_id()
    if hold:
        await credits.hold(
            session, tenant.account_id, hold, reference=f"job:{subject}", reason="test job"
        )
    job_id = await enqueue(
        session,
        kind=kind,
        account_id=tenant.account_id,
        workspace_id=tenant.workspace_id,
        subject_id=subject,
        payload=payload or {},
        max_attempts=max_attempts,
        delay=delay,
    )
    return job_id, subject


async def load(db: Database, job_id: str) -> Job:
    async with db.read() as session:
        job = await session.get(Job, job_id)
    assert job is not None
    return job


async def wait_for_status(db: Database, job_id: str, *statuses: str, within: float = 10) -> Job:
    deadline = utcnow() + timedelta(seconds=within)
    while True:
        job = await load(db, job_id)
        if job.status in statuses:
            return job
        if utcnow() > deadline:
            raise AssertionError(f"job {job_id} still {job.status} (attempts {job.attempts})")
        await asyncio.sleep(0.02)

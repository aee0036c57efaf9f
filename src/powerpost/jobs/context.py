"""What a handler gets: the job, shared resources, and fenced transactions."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, Literal

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.config import Settings
from powerpost.jobs import repository
from powerpost.jobs.errors import JobError, LeaseLost
from powerpost.jobs.repository import FAILED, SUCCEEDED, JobInfo
from powerpost.kit.db import Database

Phase = Literal["run", "failure"]


class JobContext:
    """One attempt at one job.

    `db`, `http` (the process's shared client), `settings` and `state` (a per-process dict
    features may use to cache their own clients) are shared by every job in the process;
    the rest belongs to this attempt."""

    def __init__(
        self,
        *,
        job: JobInfo,
        db: Database,
        http: httpx.AsyncClient,
        settings: Settings,
        state: dict[str, Any],
        lease_seconds: float,
        clock: Callable[[], datetime],
        log: logging.Logger,
    ) -> None:
        self.job = job
        self.db = db
        self.http = http
        self.settings = settings
        self.state = state
        self.log = log
        self.phase: Phase = "run"
        self.error: JobError | None = None
        self.finished = False
        # what the handler's `prepare` (run in the claim's transaction) left for `run`
        self.prepared: Any = None
        self._lease = timedelta(seconds=lease_seconds)
        self._clock = clock

    @property
    def id(self) -> str:
        return self.job.id

    @property
    def kind(self) -> str:
        return self.job.kind

    @property
    def account_id(self) -> str:
        return self.job.account_id

    @property
    def workspace_id(self) -> str | None:
        return self.job.workspace_id

    @property
    def subject_id(self) -> str | None:
        return self.job.subject_id

    @property
    def payload(self) -> dict[str, Any]:
        return self.job.payload

    @property
    def attempt(self) -> int:
        """1 for the first try."""
        return self.job.attempts

    @property
    def is_last_attempt(self) -> bool:
        return self.job.attempts >= self.job.max_attempts

    def now(self) -> datetime:
        return self._clock()

    async def still_owned(self, session: AsyncSession) -> None:
        """Extend the lease inside `session`'s transaction, or raise LeaseLost.

        On PostgreSQL the UPDATE keeps the job row locked until the transaction ends, and
        on SQLite the whole write transaction is exclusive, so no other worker can take the
        job over between this check and the commit: the writes that follow are fenced."""
        now = self._clock()
        if not await repository.renew(
            session,
            self.job.id,
            worker=self.job.claimed_by,
            attempts=self.job.attempts,
            now=now,
            lease_until=now + self._lease,
        ):
            raise LeaseLost(f"job {self.job.id} attempt {self.job.attempts} is no longer ours")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A write transaction that commits only while this attempt still owns the job."""
        async with self.db.write() as session:
            await self.still_owned(session)
            yield session

    async def finish(self, session: AsyncSession) -> None:
        """Mark the job done in `session`'s transaction, together with the handler's final
        writes: succeeded from `run`, failed from `on_failure`. Raises LeaseLost (rolling
        the caller's transaction back) when this attempt no longer owns the job."""
        status = SUCCEEDED if self.phase == "run" else FAILED
        ok = await repository.finish(
            session,
            self.job.id,
            worker=self.job.claimed_by,
            attempts=self.job.attempts,
            status=status,
            now=self._clock(),
            error=str(self.error) if self.error is not None else None,
        )
        if not ok:
            raise LeaseLost(f"job {self.job.id} attempt {self.job.attempts} is no longer ours")
        self.finished = True

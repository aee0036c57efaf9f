"""All SQL of the job engine. Every write a worker makes is one guarded UPDATE."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.models import Job

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
# Long enough for an operator to read, short enough not to bloat the row.
MAX_ERROR_CHARS = 2000


@dataclass(frozen=True)
class JobInfo:
    """A job as one claim saw it. `attempts` includes the current attempt."""

    id: str
    kind: str
    account_id: str
    workspace_id: str | None
    subject_id: str | None
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    claimed_by: str
    created_at: datetime
    # The error recorded by an earlier attempt, if any.
    last_error: str | None = None


def _clip(error: str | None) -> str | None:
    return None if error is None else error[:MAX_ERROR_CHARS]


def _owned(job_id: str, worker: str, attempts: int) -> ColumnElement[bool]:
    # The fencing condition: this worker's claim, this attempt, still running.
    return and_(
        Job.id == job_id,
        Job.status == RUNNING,
        Job.claimed_by == worker,
        Job.attempts == attempts,
    )


async def get(session: AsyncSession, job_id: str) -> Job | None:
    return await session.get(Job, job_id)


async def claim(
    session: AsyncSession,
    job_id: str,
    *,
    worker: str,
    now: datetime,
    lease_until: datetime,
    kinds: Collection[str],
) -> JobInfo | None:
    """Take the job if it is due (or its holder's lease ran out); None if someone else has
    it, it is finished, not due, or of a kind this worker cannot run.

    One UPDATE whose WHERE is the whole claim rule: SQLite runs it under the write lock,
    PostgreSQL re-checks the WHERE on the locked row after a concurrent claimer commits, so
    exactly one of any number of concurrent claimers gets a row back."""
    if not kinds:
        return None
    stmt = (
        update(Job)
        .where(
            Job.id == job_id,
            Job.kind.in_(sorted(kinds)),
            or_(
                and_(Job.status == QUEUED, Job.next_attempt_at <= now),
                and_(Job.status == RUNNING, Job.lease_until < now),
            ),
        )
        .values(
            status=RUNNING,
            attempts=Job.attempts + 1,
            lease_until=lease_until,
            claimed_by=worker,
            updated_at=now,
        )
        .returning(
            Job.id,
            Job.kind,
            Job.account_id,
            Job.workspace_id,
            Job.subject_id,
            Job.payload,
            Job.attempts,
            Job.max_attempts,
            Job.created_at,
            Job.last_error,
        )
        .execution_options(synchronize_session=False)
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        return None
    return JobInfo(
        id=row.id,
        kind=row.kind,
        account_id=row.account_id,
        workspace_id=row.workspace_id,
        subject_id=row.subject_id,
        payload=dict(row.payload or {}),
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        claimed_by=worker,
        created_at=row.created_at,
        last_error=row.last_error,
    )


async def _guarded(
    session: AsyncSession, job_id: str, worker: str, attempts: int, values: dict[str, Any]
) -> bool:
    stmt = (
        update(Job)
        .where(_owned(job_id, worker, attempts))
        .values(**values)
        .returning(Job.id)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(stmt)).first() is not None


async def renew(
    session: AsyncSession,
    job_id: str,
    *,
    worker: str,
    attempts: int,
    now: datetime,
    lease_until: datetime,
) -> bool:
    """Extend this claim's lease; False if the claim is no longer ours."""
    return await _guarded(
        session, job_id, worker, attempts, {"lease_until": lease_until, "updated_at": now}
    )


async def finish(
    session: AsyncSession,
    job_id: str,
    *,
    worker: str,
    attempts: int,
    status: str,
    now: datetime,
    error: str | None = None,
) -> bool:
    """Write the final status (succeeded or failed); False if the claim is not ours."""
    values: dict[str, Any] = {
        "status": status,
        "lease_until": None,
        "updated_at": now,
        "finished_at": now,
    }
    if error is not None:
        values["last_error"] = _clip(error)
    return await _guarded(session, job_id, worker, attempts, values)


async def schedule_retry(
    session: AsyncSession,
    job_id: str,
    *,
    worker: str,
    attempts: int,
    now: datetime,
    next_attempt_at: datetime,
    error: str,
) -> bool:
    """Back to the queue, due at `next_attempt_at`; the dispatcher kicks it then."""
    return await _guarded(
        session,
        job_id,
        worker,
        attempts,
        {
            "status": QUEUED,
            "next_attempt_at": next_attempt_at,
            "lease_until": None,
            "kicked_at": None,
            "last_error": _clip(error),
            "updated_at": now,
        },
    )


async def release(
    session: AsyncSession, job_id: str, *, worker: str, attempts: int, now: datetime
) -> bool:
    """Give an interrupted claim back (worker shutting down): due now, not failed. The
    attempt still counts, so a job that keeps getting interrupted cannot run forever."""
    return await _guarded(
        session,
        job_id,
        worker,
        attempts,
        {
            "status": QUEUED,
            "next_attempt_at": now,
            "lease_until": None,
            "kicked_at": None,
            "updated_at": now,
        },
    )


def _kickable(now: datetime, rekick_before: datetime) -> ColumnElement[bool]:
    not_recently_kicked = or_(Job.kicked_at.is_(None), Job.kicked_at <= rekick_before)
    return and_(
        or_(
            and_(Job.status == QUEUED, Job.next_attempt_at <= now),
            and_(Job.status == RUNNING, Job.lease_until < now),
        ),
        not_recently_kicked,
    )


async def due_for_kick(
    session: AsyncSession, *, now: datetime, rekick_before: datetime, limit: int
) -> list[str]:
    """Ids of due queued rows and expired leases not kicked since `rekick_before`, oldest
    first. Two queries so each can walk its (status, time) index."""
    not_recently_kicked = or_(Job.kicked_at.is_(None), Job.kicked_at <= rekick_before)
    queued = await session.execute(
        select(Job.id)
        .where(Job.status == QUEUED, Job.next_attempt_at <= now, not_recently_kicked)
        .order_by(Job.next_attempt_at)
        .limit(limit)
    )
    ids = list(queued.scalars())
    if len(ids) < limit:
        stalled = await session.execute(
            select(Job.id)
            .where(Job.status == RUNNING, Job.lease_until < now, not_recently_kicked)
            .order_by(Job.lease_until)
            .limit(limit - len(ids))
        )
        ids.extend(stalled.scalars())
    return ids


async def mark_kicked(
    session: AsyncSession, ids: Sequence[str], *, now: datetime, rekick_before: datetime
) -> list[str]:
    """Stamp `kicked_at` on those of `ids` that still need a kick; returns them. Re-checking
    the rule here keeps two dispatchers from both kicking the same row."""
    if not ids:
        return []
    result = await session.execute(
        update(Job)
        .where(Job.id.in_(list(ids)), _kickable(now, rekick_before))
        .values(kicked_at=now)
        .returning(Job.id)
        .execution_options(synchronize_session=False)
    )
    return list(result.scalars())

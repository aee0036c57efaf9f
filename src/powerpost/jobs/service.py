"""Putting work on the queue: `enqueue` writes a job row in the caller's transaction.

Nothing runs before the caller commits. When a JobEngine is running on the same database
in this process, the ids enqueued in a transaction are kicked to the broker right after it
commits (an SQLAlchemy `after_commit` hook), so routes using the request's WriteSession need
not do anything; otherwise, or if the kick is lost, the dispatcher finds the due row.
"""

from __future__ import annotations

import json
import secrets
import weakref
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from powerpost.jobs.repository import QUEUED
from powerpost.kit.clock import utcnow
from powerpost.kit.db import Database
from powerpost.kit.ids import new_id
from powerpost.models import Job

# Scheduled posts fire up to 60 days ahead (§7); a day more leaves room for a retry.
MAX_DELAY = timedelta(days=61)
MAX_ATTEMPTS_LIMIT = 100
_PENDING = "powerpost.jobs.pending_kicks"
_system_random = secrets.SystemRandom()

Kicker = Callable[[Sequence[str]], None]
_kickers: weakref.WeakKeyDictionary[Engine, Kicker] = weakref.WeakKeyDictionary()


async def enqueue(
    session: AsyncSession,
    *,
    kind: str,
    account_id: str,
    workspace_id: str | None,
    subject_id: str | None,
    payload: Mapping[str, Any],
    max_attempts: int = 5,
    delay: float = 0,
) -> str:
    """Write a queued job in the caller's transaction and return its id.

    `subject_id` is the row the job works on (a generation id, a post id); `payload` is
    what the handler needs besides it (JSON). `delay` seconds postpone the first attempt.
    """
    if not kind or len(kind) > 64:
        raise ValueError("kind must be 1-64 characters")
    if subject_id is not None and len(subject_id) > 36:
        raise ValueError("subject_id must be an id (at most 36 characters)")
    if not 1 <= max_attempts <= MAX_ATTEMPTS_LIMIT:
        raise ValueError(f"max_attempts must be between 1 and {MAX_ATTEMPTS_LIMIT}")
    if not 0 <= delay <= MAX_DELAY.total_seconds():
        raise ValueError("delay must be between 0 seconds and 61 days")
    body = dict(payload)
    json.dumps(body, allow_nan=False)  # refuse at the call site, not at commit
    now = utcnow()
    job_id = new_id()
    # This process will kick it the moment the transaction commits: stamp it as kicked,
    # so the dispatcher's next scan does not send a second kick for it. Were that kick
    # lost, the dispatcher re-kicks it after `rekick_seconds` as for any other.
    kicked_on_commit = delay == 0 and _kicker_for(session.sync_session) is not None
    session.add(
        Job(
            id=job_id,
            kind=kind,
            account_id=account_id,
            workspace_id=workspace_id,
            subject_id=subject_id,
            payload=body,
            status=QUEUED,
            attempts=0,
            max_attempts=max_attempts,
            next_attempt_at=now + timedelta(seconds=delay),
            lease_until=None,
            claimed_by=None,
            kicked_at=now if kicked_on_commit else None,
            last_error=None,
            created_at=now,
            updated_at=now,
            finished_at=None,
        )
    )
    if delay == 0:
        session.sync_session.info.setdefault(_PENDING, []).append(job_id)
    return job_id


def backoff_delay(
    attempt: int,
    *,
    base: float,
    cap: float,
    rand: Callable[[], float] = _system_random.random,
) -> float:
    """Seconds before the next try after `attempt` failed: capped exponential backoff with
    full jitter, uniform in [0, min(cap, base * 2**(attempt-1))], so retries of many jobs
    that failed together spread out instead of returning together."""
    ceiling = min(cap, base * 2.0 ** min(max(attempt - 1, 0), 60))
    return ceiling * min(max(rand(), 0.0), 1.0)


def attach_kicker(db: Database, kicker: Kicker) -> None:
    """Send the ids enqueued by `db`'s write sessions to `kicker` once they commit."""
    _kickers[db.write_engine.sync_engine] = kicker


def detach_kicker(db: Database, kicker: Kicker) -> None:
    engine = db.write_engine.sync_engine
    if _kickers.get(engine) is kicker:
        del _kickers[engine]


def _kicker_for(session: Session) -> Kicker | None:
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    return _kickers.get(engine)


@event.listens_for(Session, "after_commit")
def _kick_after_commit(session: Session) -> None:
    ids: list[str] | None = session.info.pop(_PENDING, None)
    if not ids:
        return
    kicker = _kicker_for(session)
    if kicker is not None:
        kicker(ids)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)

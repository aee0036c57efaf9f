"""Delivery rows and their jobs: created in the transaction that writes the event.

An outcome, its event, one delivery row per subscribed endpoint and a queued job for each
commit together, so a crash right after that commit loses nothing: the dispatcher finds
the queued jobs. Each job makes one HTTP attempt and, when it fails, queues the next one
per RETRY_SCHEDULE in the same transaction that records the attempt.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.jobs.service import enqueue
from powerpost.kit.ids import new_id
from powerpost.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from powerpost.webhooks import repository

DELIVER_KIND = "webhooks.deliver"
PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"
# Seconds to wait before attempt n+1 (the first goes at once): 5 s, 5 min, 30 min, 2 h,
# 5 h, 10 h, 14 h, 20 h, 24 h — ten attempts over about three and a half days.
RETRY_SCHEDULE: tuple[int, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
MAX_ATTEMPTS = len(RETRY_SCHEDULE)
JITTER = 0.1
# A delivery job's own retries cover a database hiccup while recording an attempt; an
# HTTP failure is never one of them (it queues the next scheduled job instead).
JOB_ATTEMPTS = 5
_random = secrets.SystemRandom()


def next_delay(attempts_made: int, rand: Callable[[], float] = _random.random) -> float | None:
    """Seconds until the next attempt after `attempts_made` attempts, ±10 % so endpoints
    that failed together do not all come back together; None when the schedule is spent."""
    if attempts_made >= MAX_ATTEMPTS:
        return None
    base = RETRY_SCHEDULE[attempts_made]
    return base * (1 - JITTER + 2 * JITTER * rand())


async def queue_job(
    session: AsyncSession,
    delivery: WebhookDelivery,
    account_id: str,
    *,
    delay: float,
    now: datetime,
    retries: bool = True,
) -> str:
    """Queue the job for `delivery`'s next attempt and make it the only one allowed to
    run. `retries=False` (a test event, a manual redelivery) makes that attempt the last."""
    job_id = await enqueue(
        session,
        kind=DELIVER_KIND,
        account_id=account_id,
        workspace_id=delivery.workspace_id,
        subject_id=delivery.id,
        payload={"retries": retries},
        max_attempts=JOB_ATTEMPTS,
        delay=delay,
    )
    delivery.job_id = job_id
    delivery.status = PENDING
    delivery.next_attempt_at = now + timedelta(seconds=delay)
    delivery.finished_at = None
    delivery.updated_at = now
    return job_id


async def create_delivery(
    session: AsyncSession,
    endpoint: WebhookEndpoint,
    event: WebhookEvent,
    *,
    now: datetime,
    retries: bool = True,
) -> WebhookDelivery:
    delivery = WebhookDelivery(
        id=new_id(),
        endpoint_id=endpoint.id,
        workspace_id=endpoint.workspace_id,
        event_id=event.id,
        event=event.event,
        status=PENDING,
        attempts=0,
        next_attempt_at=now,
        last_status_code=None,
        last_error=None,
        job_id=None,
        created_at=now,
        updated_at=now,
        finished_at=None,
    )
    session.add(delivery)
    await queue_job(session, delivery, endpoint.account_id, delay=0, now=now, retries=retries)
    return delivery


async def fan_out(session: AsyncSession, event: WebhookEvent) -> int:
    """A delivery (and its job) for every enabled endpoint of the event's workspace and
    mode that takes this event; how many."""
    endpoints = await repository.subscribed(session, event.workspace_id, event.mode, event.event)
    if not endpoints:
        return 0  # delivered_at stays empty: it was never sent anywhere
    # The event row must exist before rows that reference it.
    await session.flush()
    for endpoint in endpoints:
        await create_delivery(session, endpoint, event, now=event.created_at)
    return len(endpoints)

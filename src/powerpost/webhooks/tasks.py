"""The delivery job: one HTTP attempt of one delivery, then its bookkeeping.

Safe to run twice: it acts only while the delivery is pending and names this job
(`job_id`), and records the attempt, the delivery's new state, the endpoint's health and
the next attempt's job in one fenced transaction that also finishes the job. A worker
killed mid-attempt leaves the job to the dispatcher, which runs it again: the receiver may
then see the same `webhook-id` twice, which is what the id is for.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.jobs import JobContext, JobError, register
from powerpost.kit.ids import new_id
from powerpost.kit.netguard import Resolver
from powerpost.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from powerpost.webhooks import repository, signing
from powerpost.webhooks.deliveries import (
    DELIVER_KIND,
    FAILED,
    PENDING,
    SUCCEEDED,
    next_delay,
    queue_job,
)

CLIENT_STATE = "webhooks.client"
# ctx.state key: the DNS resolver deliveries use (tests point names at chosen addresses).
RESOLVER_STATE = "webhooks.resolver"
INFLIGHT_STATE = "webhooks.inflight"
# At most this many attempts to one endpoint run at once in a process; more wait their
# turn in the queue (a short delay, no attempt counted), so a burst of events for an
# endpoint that hangs holds two job slots, never all of them.
PER_ENDPOINT_INFLIGHT = 2
BUSY_DELAY = 1.0


def _client(ctx: JobContext) -> httpx.AsyncClient:
    client = ctx.state.get(CLIENT_STATE)
    if not isinstance(client, httpx.AsyncClient):
        resolver: Resolver | None = ctx.state.get(RESOLVER_STATE)
        client = signing.build_client(ctx.settings, resolver)
        ctx.state[CLIENT_STATE] = client
    return client


def _signing_secrets(endpoint: WebhookEndpoint, ctx: JobContext) -> list[str]:
    keys = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > ctx.now():
        keys.append(endpoint.previous_secret)
    return keys


@register(DELIVER_KIND)
class DeliverWebhook:
    # Far above the receiver's own limit: only a stuck database makes an attempt this long.
    timeout = 300.0

    async def run(self, ctx: JobContext) -> None:
        delivery_id = ctx.subject_id or ""
        async with ctx.db.read() as session:
            delivery = await repository.delivery(session, delivery_id)
            endpoint = (
                await repository.endpoint_by_id(session, delivery.endpoint_id)
                if delivery is not None
                else None
            )
            event = await repository.event(session, delivery.event_id) if delivery else None
        if (
            delivery is None
            or endpoint is None
            or event is None
            or delivery.status != PENDING
            or delivery.job_id != ctx.id
        ):
            async with ctx.transaction() as session:
                await ctx.finish(session)  # deleted, settled, or redelivered by another job
            return
        manual = not ctx.payload.get("retries", True)
        if not endpoint.enabled and not manual:
            await self._settle(
                ctx, FAILED, f"the endpoint is disabled ({endpoint.disabled_reason})"
            )
            return
        inflight: Counter[str] = ctx.state.setdefault(INFLIGHT_STATE, Counter())
        if inflight[endpoint.id] >= PER_ENDPOINT_INFLIGHT:
            await self._requeue(ctx, endpoint.account_id)
            return
        inflight[endpoint.id] += 1
        try:
            now = ctx.now()
            body = signing.body_bytes(event.payload)
            result = await signing.post(
                _client(ctx),
                endpoint.url,
                policy=signing.address_policy(ctx.settings),
                body=body,
                headers=signing.signed_headers(
                    message_id=event.id,
                    body=body,
                    at=now,
                    signing_secrets=_signing_secrets(endpoint, ctx),
                ),
                timeout=ctx.settings.webhooks.timeout,
            )
        finally:
            inflight[endpoint.id] -= 1
            if inflight[endpoint.id] <= 0:
                del inflight[endpoint.id]
        async with ctx.transaction() as session:
            await self._record(ctx, session, delivery_id, now, result, manual=manual)
            await ctx.finish(session)

    async def _record(
        self,
        ctx: JobContext,
        session: AsyncSession,
        delivery_id: str,
        attempted_at: datetime,
        result: signing.AttemptResult,
        *,
        manual: bool,
    ) -> None:
        delivery = await repository.delivery(session, delivery_id, for_update=True)
        if delivery is None or delivery.status != PENDING or delivery.job_id != ctx.id:
            return
        endpoint = await repository.endpoint_by_id(session, delivery.endpoint_id, for_update=True)
        if endpoint is None:
            return
        now = ctx.now()
        session.add(
            WebhookAttempt(
                id=new_id(),
                delivery_id=delivery.id,
                endpoint_id=endpoint.id,
                attempted_at=attempted_at,
                status_code=result.status_code,
                latency_ms=result.latency_ms,
                response_body=result.response_body,
                error=result.error,
                succeeded=result.succeeded,
            )
        )
        delivery.attempts += 1
        delivery.last_status_code = result.status_code
        delivery.last_error = result.error
        delivery.updated_at = now
        if result.succeeded:
            endpoint.failing_since = None
            _conclude(delivery, SUCCEEDED, now)
        elif result.status_code == 410:
            # The receiver says the endpoint is gone for good: stop at once.
            _disable(endpoint, "gone", now)
            _conclude(delivery, FAILED, now)
        else:
            if endpoint.failing_since is None:
                endpoint.failing_since = attempted_at
            disable_after = timedelta(hours=ctx.settings.webhooks.disable_after_hours)
            if endpoint.enabled and now - endpoint.failing_since >= disable_after:
                _disable(endpoint, "failing", now)
            delay = None if manual or not endpoint.enabled else next_delay(delivery.attempts)
            if delay is None:
                _conclude(delivery, FAILED, now)
            else:
                await queue_job(session, delivery, endpoint.account_id, delay=delay, now=now)
        endpoint.updated_at = now
        if delivery.status != PENDING:
            await session.flush()
            await repository.mark_event_delivered(session, delivery.event_id, now)

    async def _settle(self, ctx: JobContext, status: str, error: str) -> None:
        async with ctx.transaction() as session:
            delivery = await repository.delivery(session, ctx.subject_id or "", for_update=True)
            if delivery is not None and delivery.status == PENDING and delivery.job_id == ctx.id:
                now = ctx.now()
                delivery.last_error = error[:500]
                _conclude(delivery, status, now)
                await session.flush()
                await repository.mark_event_delivered(session, delivery.event_id, now)
            await ctx.finish(session)

    async def _requeue(self, ctx: JobContext, account_id: str) -> None:
        async with ctx.transaction() as session:
            delivery = await repository.delivery(session, ctx.subject_id or "", for_update=True)
            if delivery is not None and delivery.status == PENDING and delivery.job_id == ctx.id:
                await queue_job(
                    session,
                    delivery,
                    account_id,
                    delay=BUSY_DELAY,
                    now=ctx.now(),
                    retries=bool(ctx.payload.get("retries", True)),
                )
            await ctx.finish(session)

    async def on_failure(self, ctx: JobContext, error: JobError) -> None:
        # Not an HTTP failure (those never raise): the attempt could not be recorded.
        await self._settle(ctx, FAILED, f"delivery stopped: {error}")


def _conclude(delivery: WebhookDelivery, status: str, now: datetime) -> None:
    delivery.status = status
    delivery.next_attempt_at = None
    delivery.finished_at = now


def _disable(endpoint: WebhookEndpoint, reason: str, now: datetime) -> None:
    endpoint.enabled = False
    endpoint.disabled_reason = reason
    endpoint.disabled_at = now

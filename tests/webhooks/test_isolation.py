"""A hanging endpoint does not hold up another endpoint's deliveries, and old rows go."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from powerpost.kit.clock import utcnow
from powerpost.models import WebhookAttempt, WebhookDelivery, WebhookEvent
from powerpost.webhooks.sweep import sweep_old
from tests.fixtures.factories import Factory
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import add_endpoint, attempts, emit, settled, tenant_headers

HANG = 5.0


@pytest.fixture
def webhook_timeout() -> float:
    return HANG


async def test_one_endpoint_hanging_does_not_slow_another(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, receiver: Receiver
) -> None:
    receiver.behaviour["/stuck"] = "hang"
    tenant, h = await tenant_headers(factory)
    stuck = await add_endpoint(client, h, receiver.base + "/stuck")
    await add_endpoint(client, h, receiver.base + "/fine")
    started = time.monotonic()
    # More events than the engine has job slots: the stuck endpoint may hold only two.
    for _ in range(12):
        await emit(app.state.db, tenant.workspace_id)
    await receiver.wait_for("/fine", 12, within=HANG)
    elapsed = time.monotonic() - started
    assert elapsed < HANG - 1, elapsed
    assert await attempts(app, stuck["webhook_id"]) == []  # still hanging, none concluded
    assert len(receiver.on("/stuck")) <= 2


async def test_the_sweep_removes_rows_older_than_30_days(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, receiver: Receiver
) -> None:
    tenant, h = await tenant_headers(factory)
    hook = await add_endpoint(client, h, receiver.base + "/hook")
    old_event = await emit(app.state.db, tenant.workspace_id)
    new_event = await emit(app.state.db, tenant.workspace_id)
    await settled(app, hook["webhook_id"], 2)
    long_ago = utcnow() - timedelta(days=31)
    async with app.state.db.write() as session:
        await session.execute(
            update(WebhookEvent).where(WebhookEvent.id == old_event).values(created_at=long_ago)
        )
        old_delivery = select(WebhookDelivery.id).where(WebhookDelivery.event_id == old_event)
        await session.execute(
            update(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(old_delivery))
            .values(attempted_at=long_ago)
        )
    assert await sweep_old(app.state.db, 30) == 1
    async with app.state.db.read() as session:
        events = (await session.execute(select(WebhookEvent.id))).scalars().all()
        deliveries = (await session.execute(select(func.count(WebhookDelivery.id)))).scalar()
        kept = (await session.execute(select(func.count(WebhookAttempt.id)))).scalar()
    assert list(events) == [new_event]
    assert deliveries == 1
    assert kept == 1

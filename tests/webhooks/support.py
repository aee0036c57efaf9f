"""Helpers: a tenant with a key, an endpoint made through the API, an outcome's event."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from powerpost.kit.db import Database
from powerpost.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from powerpost.webhooks.events import record_event
from tests.fixtures.factories import Factory, Tenant, headers

URL = "/api/v1/webhooks"


async def tenant_headers(factory: Factory, **key: Any) -> tuple[Tenant, dict[str, str]]:
    tenant = await factory.account()
    _, secret = await factory.key(tenant, **key)
    return tenant, headers(secret, tenant.workspace_id)


async def add_endpoint(
    client: httpx.AsyncClient, h: dict[str, str], url: str, **extra: Any
) -> dict[str, Any]:
    response = await client.post(URL, headers=h, json={"url": url, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def emit(
    db: Database,
    workspace_id: str,
    event: str = "generation.completed",
    *,
    mode: str = "live",
    **data: Any,
) -> str:
    """Commit an outcome's event the way features do (record_event in their transaction)."""
    payload = {"generation_id": "g-1", "status": "completed", "outputs": {}, **data}
    async with db.write() as session:
        return await record_event(
            session, workspace_id=workspace_id, mode=mode, event=event, data=payload
        )


async def deliveries(app: FastAPI, endpoint_id: str) -> list[WebhookDelivery]:
    async with app.state.db.read() as session:
        stmt = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
        return list((await session.execute(stmt)).scalars())


async def attempts(app: FastAPI, endpoint_id: str) -> list[WebhookAttempt]:
    async with app.state.db.read() as session:
        stmt = (
            select(WebhookAttempt)
            .where(WebhookAttempt.endpoint_id == endpoint_id)
            .order_by(WebhookAttempt.attempted_at)
        )
        return list((await session.execute(stmt)).scalars())


async def endpoint_row(app: FastAPI, endpoint_id: str) -> WebhookEndpoint:
    async with app.state.db.read() as session:
        row = await session.get(WebhookEndpoint, endpoint_id)
        assert row is not None
        return row


async def settled(
    app: FastAPI, endpoint_id: str, count: int = 1, within: float = 20.0
) -> list[WebhookDelivery]:
    """Wait until `count` deliveries of the endpoint are no longer pending."""
    deadline = time.monotonic() + within
    while True:
        rows = [d for d in await deliveries(app, endpoint_id) if d.status != "pending"]
        if len(rows) >= count:
            return rows
        if time.monotonic() > deadline:
            raise AssertionError(f"only {len(rows)} deliveries settled")
        await asyncio.sleep(0.05)

"""Delivery end to end: the embedded job engine posts to a local receiver that verifies
with the `standardwebhooks` library exactly as a customer would."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from powerpost.kit.clock import utcnow
from powerpost.kit.db import Database
from powerpost.models import WebhookEndpoint
from powerpost.webhooks.signing import RESPONSE_KEEP
from tests.fixtures.factories import Factory
from tests.webhooks.conftest import TIMEOUT
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import (
    URL,
    add_endpoint,
    attempts,
    deliveries,
    emit,
    endpoint_row,
    settled,
    tenant_headers,
)


async def test_a_customer_receiver_verifies_the_delivery(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, receiver: Receiver
) -> None:
    tenant, h = await tenant_headers(factory)
    hook = await add_endpoint(client, h, receiver.base + "/hook")
    event_id = await emit(app.state.db, tenant.workspace_id, outputs={"x": {"caption": "hé"}})

    (got,) = await receiver.wait_for("/hook", 1)
    payload = Webhook(hook["secret"]).verify(got.body, got.headers)
    assert payload["event"] == "generation.completed"
    assert payload["workspace_id"] == tenant.workspace_id
    assert payload["data"] == {
        "generation_id": "g-1",
        "status": "completed",
        "outputs": {"x": {"caption": "hé"}},
    }
    assert set(payload) == {"event", "timestamp", "workspace_id", "data"}
    assert got.headers["webhook-id"] == event_id
    assert got.headers["webhook-signature"].startswith("v1,")
    assert got.headers["content-type"] == "application/json"

    (delivery,) = await settled(app, hook["webhook_id"])
    assert delivery.status == "succeeded"
    assert delivery.attempts == 1
    (attempt,) = await attempts(app, hook["webhook_id"])
    assert attempt.status_code == 200
    assert attempt.response_body == "thanks"
    assert attempt.error is None
    assert attempt.latency_ms >= 0


async def test_a_tampered_body_does_not_verify(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, receiver: Receiver
) -> None:
    tenant, h = await tenant_headers(factory)
    hook = await add_endpoint(client, h, receiver.base + "/hook")
    await emit(app.state.db, tenant.workspace_id)
    (got,) = await receiver.wait_for("/hook", 1)
    forged = got.body.replace(b"g-1", b"g-2")
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook(hook["secret"]).verify(forged, got.headers)


async def test_a_receiver_that_is_down_gets_the_event_once_back_with_the_same_id(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    down = Receiver()
    await down.start()
    port = down.port
    await down.stop()
    tenant, h = await tenant_headers(factory)
    hook = await add_endpoint(client, h, f"http://127.0.0.1:{port}/hook")
    event_id = await emit(app.state.db, tenant.workspace_id)

    for _ in range(200):  # the first attempt fails: nothing listens
        if await attempts(app, hook["webhook_id"]):
            break
        await asyncio.sleep(0.02)
    (first,) = await attempts(app, hook["webhook_id"])
    assert first.status_code is None
    assert first.error == "could not connect to the receiver"
    (pending,) = await deliveries(app, hook["webhook_id"])
    assert pending.status == "pending"
    assert pending.next_attempt_at is not None

    back = Receiver(port=port)
    await back.start()
    try:
        (got,) = await back.wait_for("/hook", 1, within=15)  # the 5 s retry
        assert got.headers["webhook-id"] == event_id
        Webhook(hook["secret"]).verify(got.body, got.headers)
        (delivery,) = await settled(app, hook["webhook_id"])
        assert delivery.status == "succeeded"
        assert delivery.attempts == 2
    finally:
        await back.stop()


async def test_an_event_committed_before_a_crash_is_delivered_once(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, receiver: Receiver
) -> None:
    tenant, h = await tenant_headers(factory)
    hook = await add_endpoint(client, h, receiver.base + "/hook")
    # Another process commits the outcome and dies before it can kick the job: its
    # Database has no job engine attached, so nothing but the rows is left.
    dying = Database(app.state.settings.database_url)
    try:
        event_id = await emit(dying, tenant.workspace_id)
    finally:
        await dying.dispose()
    (got,) = await receiver.wait_for("/hook", 1)  # the dispatcher found the queued job
    assert got.headers["webhook-id"] == event_id
    await settled(app, hook["webhook_id"])
    await asyncio.sleep(1.5)  # past a re-kick: still exactly one
    assert len(receiver.on("/hook")) == 1


async def test_rotation_sends_both_signatures_each_verifying(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, receiver: Receiver
) -> None:
    tenant, h = await tenant_headers(factory)
    hook = await add_endpoint(client, h, receiver.base + "/hook")
    rotated = await client.post(f"{URL}/{hook['webhook_id']}/rotate", headers=h)
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret.startswith("whsec_")
    assert new_secret != hook["secret"]
    assert rotated.json()["previous_secret_expires_at"].endswith("Z")

    await emit(app.state.db, tenant.workspace_id)
    (got,) = await receiver.wait_for("/hook", 1)
    signatures = got.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2
    Webhook(new_secret).verify(got.body, got.headers)
    Webhook(hook["secret"]).verify(got.body, got.headers)

    # Once the overlap is over only the new secret signs.
    async with app.state.db.write() as session:
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == hook["webhook_id"])
            .values(previous_secret_expires_at=utcnow() - timedelta(seconds=1))
        )
    await emit(app.state.db, tenant.workspace_id)
    later = (await receiver.wait_for("/hook", 2))[1]
    assert len(later.headers["webhook-signature"].split(" ")) == 1
    Webhook(new_secret).verify(later.body, later.headers)


async def test_a_receiver_slower_than_the_timeout_fails_the_attempt_and_is_retried(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, receiver: Receiver
) -> None:
    receiver.behaviour["/slow"] = ["hang", "ok"]
    tenant, h = await tenant_headers(factory)
    hook = await add_endpoint(client, h, receiver.base + "/slow")
    event_id = await emit(app.state.db, tenant.workspace_id)
    got = await receiver.wait_for("/slow", 2, within=15)
    assert {r.headers["webhook-id"] for r in got} == {event_id}
    # each attempt has its own timestamp; both signatures verify
    for request in got:
        Webhook(hook["secret"]).verify(request.body, request.headers)
    (delivery,) = await settled(app, hook["webhook_id"])
    assert delivery.status == "succeeded"
    first, second = await attempts(app, hook["webhook_id"])
    assert first.error == f"no answer within {TIMEOUT:g} s"
    assert first.status_code is None
    assert second.status_code == 200


async def test_410_disables_the_endpoint_at_once(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, receiver: Receiver
) -> None:
    receiver.behaviour["/gone"] = "gone"
    tenant, h = await tenant_headers(factory)
    hook = await add_endpoint(client, h, receiver.base + "/gone")
    await emit(app.state.db, tenant.workspace_id)
    (delivery,) = await settled(app, hook["webhook_id"])
    assert delivery.status == "failed"
    assert delivery.last_status_code == 410
    endpoint = await endpoint_row(app, hook["webhook_id"])
    assert endpoint.enabled is False
    assert endpoint.disabled_reason == "gone"
    shown = (await client.get(f"{URL}/{hook['webhook_id']}", headers=h)).json()
    assert shown["enabled"] is False
    assert shown["disabled_reason"] == "gone"

    await emit(app.state.db, tenant.workspace_id)  # a disabled endpoint gets nothing new
    await asyncio.sleep(0.5)
    assert len(await deliveries(app, hook["webhook_id"])) == 1
    assert len(receiver.on("/gone")) == 1


async def test_failing_for_three_days_disables_and_flags(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, receiver: Receiver
) -> None:
    receiver.behaviour["/broken"] = "fail"
    tenant, h = await tenant_headers(factory)
    hook = await add_endpoint(client, h, receiver.base + "/broken")
    async with app.state.db.write() as session:
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == hook["webhook_id"])
            .values(failing_since=utcnow() - timedelta(hours=72, minutes=1))
        )
    await emit(app.state.db, tenant.workspace_id)
    (delivery,) = await settled(app, hook["webhook_id"])
    assert delivery.status == "failed"
    assert delivery.last_error == "HTTP 500"
    endpoint = await endpoint_row(app, hook["webhook_id"])
    assert (endpoint.enabled, endpoint.disabled_reason) == (False, "failing")

    # Enabling it again starts afresh.
    enabled = await client.patch(f"{URL}/{hook['webhook_id']}", headers=h, json={"enabled": True})
    assert enabled.json()["enabled"] is True
    assert enabled.json()["failing_since"] is None


async def test_a_failure_starts_the_failing_clock_and_a_success_clears_it(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, receiver: Receiver
) -> None:
    receiver.behaviour["/flaky"] = ["fail", "ok"]
    tenant, h = await tenant_headers(factory)
    hook = await add_endpoint(client, h, receiver.base + "/flaky")
    await emit(app.state.db, tenant.workspace_id)
    for _ in range(200):
        if (await endpoint_row(app, hook["webhook_id"])).failing_since is not None:
            break
        await asyncio.sleep(0.02)
    assert (await endpoint_row(app, hook["webhook_id"])).failing_since is not None
    await receiver.wait_for("/flaky", 2, within=15)
    await settled(app, hook["webhook_id"])
    assert (await endpoint_row(app, hook["webhook_id"])).failing_since is None


async def test_an_endless_answer_is_cut_off_at_2_kb(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, receiver: Receiver
) -> None:
    receiver.behaviour["/flood"] = "flood"
    tenant, h = await tenant_headers(factory)
    hook = await add_endpoint(client, h, receiver.base + "/flood")
    await emit(app.state.db, tenant.workspace_id)
    (delivery,) = await settled(app, hook["webhook_id"])
    assert delivery.status == "succeeded"
    (attempt,) = await attempts(app, hook["webhook_id"])
    assert attempt.status_code == 200
    assert attempt.response_body == "x" * RESPONSE_KEEP


async def test_only_subscribed_events_are_delivered(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, receiver: Receiver
) -> None:
    tenant, h = await tenant_headers(factory)
    hook = await add_endpoint(client, h, receiver.base + "/posts", events=["post.published"])
    await emit(app.state.db, tenant.workspace_id, "generation.completed")
    await emit(app.state.db, tenant.workspace_id, "post.published", post_id="p-1")
    (got,) = await receiver.wait_for("/posts", 1)
    assert json.loads(got.body)["event"] == "post.published"
    await asyncio.sleep(0.3)
    assert len(await deliveries(app, hook["webhook_id"])) == 1


async def test_test_event_and_redelivery(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, receiver: Receiver
) -> None:
    tenant, h = await tenant_headers(factory)
    hook = await add_endpoint(client, h, receiver.base + "/hook")
    sent = await client.post(f"{URL}/{hook['webhook_id']}/test", headers=h)
    assert sent.status_code == 200, sent.text
    assert sent.json()["event"] == "webhook.test"
    (got,) = await receiver.wait_for("/hook", 1)
    payload = Webhook(hook["secret"]).verify(got.body, got.headers)
    assert payload["event"] == "webhook.test"
    assert payload["data"]["endpoint_id"] == hook["webhook_id"]

    event_id = await emit(app.state.db, tenant.workspace_id)
    await receiver.wait_for("/hook", 2)
    await settled(app, hook["webhook_id"], 2)
    log = (await client.get(f"{URL}/{hook['webhook_id']}/deliveries", headers=h)).json()
    original = next(d for d in log["data"] if d["event_id"] == event_id)
    again = await client.post(
        f"{URL}/{hook['webhook_id']}/deliveries/{original['delivery_id']}/redeliver", headers=h
    )
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "pending"
    third = (await receiver.wait_for("/hook", 3))[2]
    assert third.headers["webhook-id"] == event_id  # the same id: receivers dedupe by it
    for _ in range(200):
        detail = (
            await client.get(
                f"{URL}/{hook['webhook_id']}/deliveries?event=generation.completed", headers=h
            )
        ).json()["data"][0]
        if detail["status"] == "succeeded" and detail["attempt_count"] == 2:
            break
        await asyncio.sleep(0.02)
    assert detail["attempt_count"] == 2
    assert [a["status_code"] for a in detail["attempts"]] == [200, 200]

    missing = await client.post(
        f"{URL}/{hook['webhook_id']}/deliveries/{hook['webhook_id']}/redeliver", headers=h
    )
    assert missing.status_code == 404

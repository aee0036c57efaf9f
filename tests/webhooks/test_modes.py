"""Webhook endpoints belong to a mode like every other workspace object: a test key
neither sees nor changes live endpoints (nor the other way round), and an event reaches
only the endpoints of its object's mode."""

from __future__ import annotations

import json

import httpx
from fastapi import FastAPI

from tests.fixtures.factories import Factory, headers
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import URL, add_endpoint, deliveries, emit, settled


async def test_each_key_manages_only_its_own_modes_endpoints(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.account()
    _, live_secret = await factory.key(tenant)
    _, test_secret = await factory.key(tenant, mode="test", name="test key 2")
    live = headers(live_secret, tenant.workspace_id)
    test = headers(test_secret, tenant.workspace_id)

    live_hook = await add_endpoint(client, live, "https://hooks.example.com/live")
    test_hook = await add_endpoint(client, test, "https://hooks.example.com/test")
    assert (live_hook["mode"], test_hook["mode"]) == ("live", "test")

    listed = {
        name: [e["webhook_id"] for e in (await client.get(URL, headers=h)).json()["data"]]
        for name, h in (("live", live), ("test", test))
    }
    assert listed == {"live": [live_hook["webhook_id"]], "test": [test_hook["webhook_id"]]}

    # The other mode's endpoint answers exactly as a missing one, on every route.
    other = f"{URL}/{live_hook['webhook_id']}"
    for method, path, body in [
        ("GET", other, None),
        ("PATCH", other, {"enabled": False}),
        ("POST", other + "/rotate", None),
        ("POST", other + "/test", None),
        ("GET", other + "/deliveries", None),
        ("DELETE", other, None),
    ]:
        answer = await client.request(method, path, headers=test, json=body)
        assert answer.status_code == 404, (method, path, answer.text)
        assert answer.json()["error"]["code"] == "NOT_FOUND"
    still = await client.get(other, headers=live)
    assert still.status_code == 200
    assert still.json()["enabled"] is True


async def test_events_reach_only_endpoints_of_their_mode(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, receiver: Receiver
) -> None:
    tenant = await factory.account()
    _, live_secret = await factory.key(tenant)
    _, test_secret = await factory.key(tenant, mode="test", name="test key 2")
    live_hook = await add_endpoint(
        client, headers(live_secret, tenant.workspace_id), receiver.base + "/live"
    )
    test_hook = await add_endpoint(
        client, headers(test_secret, tenant.workspace_id), receiver.base + "/test"
    )

    await emit(app.state.db, tenant.workspace_id, mode="test", generation_id="g-test")
    await emit(app.state.db, tenant.workspace_id, mode="live", generation_id="g-live")
    await settled(app, live_hook["webhook_id"])
    await settled(app, test_hook["webhook_id"])

    got = {
        path: [json.loads(r.body)["data"]["generation_id"] for r in receiver.on(path)]
        for path in ("/live", "/test")
    }
    assert got == {"/live": ["g-live"], "/test": ["g-test"]}
    assert len(await deliveries(app, live_hook["webhook_id"])) == 1
    assert len(await deliveries(app, test_hook["webhook_id"])) == 1

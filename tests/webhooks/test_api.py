"""The webhook endpoint API: every bad input is a 400 naming the field, secrets are shown
once, the cap holds under concurrency, and workspaces and scopes are kept apart."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from powerpost.app import create_app
from powerpost.config import ProviderSettings, Settings
from powerpost.kit.errors import ValidationError
from powerpost.webhooks import service
from powerpost.webhooks.events import WEBHOOK_EVENTS
from powerpost.webhooks.schemas import EndpointCreate
from powerpost.webhooks.tasks import RESOLVER_STATE
from tests.fixtures.factories import Factory, headers
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import URL, add_endpoint, attempts, emit, settled, tenant_headers


def _field(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    return str(error["details"][0]["field"])


async def test_create_read_update_delete(client: httpx.AsyncClient, factory: Factory) -> None:
    _, h = await tenant_headers(factory)
    created = await add_endpoint(client, h, "https://hooks.example.com/in", description="CRM")
    assert created["secret"].startswith("whsec_")
    assert created["events"] == list(WEBHOOK_EVENTS)
    assert created["enabled"] is True
    assert created["disabled_reason"] is None
    one = f"{URL}/{created['webhook_id']}"

    fetched = (await client.get(one, headers=h)).json()
    assert "secret" not in fetched  # shown once, never again
    assert fetched["url"] == "https://hooks.example.com/in"
    listed = (await client.get(URL, headers=h)).json()["data"]
    assert [e["webhook_id"] for e in listed] == [created["webhook_id"]]
    assert "secret" not in listed[0]

    changed = await client.patch(
        one, headers=h, json={"events": ["post.failed", "post.failed"], "enabled": False}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["events"] == ["post.failed"]
    assert changed.json()["enabled"] is False
    assert changed.json()["disabled_reason"] == "manual"

    assert (await client.delete(one, headers=h)).json() == {"success": True}
    assert (await client.get(one, headers=h)).status_code == 404
    assert (await client.delete(one, headers=h)).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "https://user:pw@hooks.example.com/in"}, "url"),
        ({"url": "https://token@hooks.example.com/in"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "hooks.example.com/in"}, "url"),
        ({"url": "ftp://hooks.example.com/in"}, "url"),
        ({"url": "https://10.0.0.5/in"}, "url"),
        ({"url": "https://169.254.169.254/latest"}, "url"),
        ({"url": "https://192.168.1.2/in"}, "url"),
        ({"url": "https://[fe80::1]/in"}, "url"),
        ({"url": "https://240.0.0.1/in"}, "url"),
        ({"url": "https://hooks.example.com:0/in"}, "url"),
        ({"url": "https://hooks.example.com:70000/in"}, "url"),
        ({"url": "https://hooks.example.com/" + "a" * 2100}, "url"),
        ({"url": "https://hooks.example.com/in", "events": ["generation.done"]}, "events"),
        ({"url": "https://hooks.example.com/in", "events": []}, "events"),
        ({"url": "https://hooks.example.com/in", "description": "d" * 201}, "description"),
        ({"url": 5}, "url"),
        ({}, "url"),
        ({"url": "https://hooks.example.com/in", "secret": "whsec_mine"}, "secret"),
    ],
)
async def test_bad_input_is_a_400_naming_the_field(
    client: httpx.AsyncClient, factory: Factory, body: dict[str, Any], field: str
) -> None:
    _, h = await tenant_headers(factory)
    assert _field(await client.post(URL, headers=h, json=body)) == field
    assert (await client.get(URL, headers=h)).json()["data"] == []  # nothing half-written


async def test_bad_updates_are_400s_and_change_nothing(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    _, h = await tenant_headers(factory)
    hook = await add_endpoint(client, h, "https://hooks.example.com/in")
    one = f"{URL}/{hook['webhook_id']}"
    assert _field(await client.patch(one, headers=h, json={})) == "body"
    assert _field(await client.patch(one, headers=h, json={"url": "http://10.1.1.1/"})) == "url"
    assert _field(await client.patch(one, headers=h, json={"events": ["nope"]})) == "events"
    assert _field(await client.patch(one, headers=h, json={"enabled": None})) == "enabled"
    assert (await client.get(one, headers=h)).json()["url"] == "https://hooks.example.com/in"
    bad_filter = await client.get(f"{one}/deliveries?status=lost", headers=h)
    assert _field(bad_filter) == "status"
    assert _field(await client.get(f"{one}/deliveries?event=nope", headers=h)) == "event"


async def test_at_most_ten_endpoints_even_when_created_at_once(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    _, h = await tenant_headers(factory)
    answers = await asyncio.gather(
        *(
            client.post(URL, headers=h, json={"url": f"https://hooks.example.com/{n}"})
            for n in range(13)
        )
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [200] * 10 + [400] * 3
    refused = next(a for a in answers if a.status_code == 400)
    assert _field(refused) == "url"
    assert "10 webhook endpoints" in refused.json()["error"]["message"]
    assert len((await client.get(URL, headers=h)).json()["data"]) == 10


async def test_workspaces_are_kept_apart(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, receiver: Receiver
) -> None:
    tenant, h = await tenant_headers(factory)
    other, oh = await tenant_headers(factory)
    second_ws = await factory.workspace(tenant)
    mine = await add_endpoint(client, h, receiver.base + "/mine")
    one = f"{URL}/{mine['webhook_id']}"
    # another account, and another workspace of the same account: not found
    for hh in (oh, {**h, "X-Workspace-Id": second_ws}):
        assert (await client.get(one, headers=hh)).status_code == 404
        assert (await client.patch(one, headers=hh, json={"enabled": False})).status_code == 404
        assert (await client.post(f"{one}/rotate", headers=hh)).status_code == 404
        assert (await client.get(f"{one}/deliveries", headers=hh)).status_code == 404
        assert (await client.delete(one, headers=hh)).status_code == 404
        assert (await client.get(URL, headers=hh)).json()["data"] == []
    # events of another workspace never reach this endpoint
    await emit(app.state.db, other.workspace_id)
    await emit(app.state.db, second_ws)
    await emit(app.state.db, tenant.workspace_id)
    await receiver.wait_for("/mine", 1)
    await settled(app, mine["webhook_id"])
    await asyncio.sleep(0.3)
    assert len(receiver.on("/mine")) == 1
    deliveries = (await client.get(f"{one}/deliveries", headers=oh)).status_code
    assert deliveries == 404
    # nor can they send on this endpoint or redeliver its deliveries
    delivered = (await client.get(f"{one}/deliveries", headers=h)).json()["data"]
    redeliver = f"{one}/deliveries/{delivered[0]['delivery_id']}/redeliver"
    for hh in (oh, {**h, "X-Workspace-Id": second_ws}):
        assert (await client.post(f"{one}/test", headers=hh)).status_code == 404
        assert (await client.post(redeliver, headers=hh)).status_code == 404


async def test_scopes(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant, h = await tenant_headers(factory)
    hook = await add_endpoint(client, h, "https://hooks.example.com/in")
    one = f"{URL}/{hook['webhook_id']}"
    _, draft = await factory.key(tenant, "read_draft")
    _, reader = await factory.key(tenant, "read_only")
    _, posts_only = await factory.key(tenant, scopes=["posts:read"])
    dh, rh, ph = (headers(k, tenant.workspace_id) for k in (draft, reader, posts_only))

    # Draft Only: everything but publishing, so webhooks both ways (the seed)
    assert (await client.get(URL, headers=dh)).status_code == 200
    assert (await client.patch(one, headers=dh, json={"description": "x"})).status_code == 200
    # Read Only: may look, not change
    assert (await client.get(one, headers=rh)).status_code == 200
    assert (await client.get(f"{one}/deliveries", headers=rh)).status_code == 200
    for call in (
        client.post(URL, headers=rh, json={"url": "https://hooks.example.com/2"}),
        client.patch(one, headers=rh, json={"enabled": False}),
        client.delete(one, headers=rh),
        client.post(f"{one}/rotate", headers=rh),
        client.post(f"{one}/test", headers=rh),
    ):
        denied = await call
        assert denied.status_code == 403
        assert denied.json()["error"]["required_scope"] == "webhooks:write"
    denied = await client.get(URL, headers=ph)
    assert denied.status_code == 403
    assert denied.json()["error"]["required_scope"] == "webhooks:read"


@pytest.fixture
async def strict_client(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app as an operator runs it: https only, no loopback."""
    strict = dataclasses.replace(settings, providers=ProviderSettings())
    application = create_app(strict)
    await application.state.limiter.reset()
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, client=("203.0.113.9", 5555))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield application, c


async def test_loopback_and_http_are_refused_unless_the_operator_allows(
    strict_client: tuple[FastAPI, httpx.AsyncClient], receiver: Receiver
) -> None:
    app, client = strict_client
    _, h = await tenant_headers(Factory(app))
    for url in (
        "https://127.0.0.1/in",
        "https://localhost/in",
        "https://[::1]/in",
        receiver.base + "/in",  # http and loopback
        "http://hooks.example.com/in",
    ):
        response = await client.post(URL, headers=h, json={"url": url})
        assert _field(response) == "url", url


async def test_a_name_resolving_inward_is_refused_when_saved(settings: Settings) -> None:
    strict = dataclasses.replace(settings, providers=ProviderSettings())

    async def inward(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "127.0.0.1"]

    with pytest.raises(ValidationError, match="private or internal") as caught:
        await service.check_url("https://hooks.example.com/in", strict, inward)
    assert caught.value.extra["details"][0]["field"] == "url"

    async def outward(host: str, port: int) -> list[str]:
        return ["93.184.216.34"]

    assert await service.check_url("https://hooks.example.com/in", strict, outward)
    assert EndpointCreate(url="https://hooks.example.com/in").events is None


async def test_dns_rebinding_is_refused_at_delivery(
    strict_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    """Saved while the name pointed outward; at delivery it answers 127.0.0.1."""
    app, _ = strict_client
    tenant, _ = await tenant_headers(Factory(app))
    answers = ["93.184.216.34"]

    async def rebinding(host: str, port: int) -> list[str]:
        return list(answers)

    async with app.state.db.write() as session:
        endpoint, _ = await service.create_endpoint(
            session,
            service.Scope(tenant.account_id, tenant.workspace_id),
            EndpointCreate(url="https://rebind.example.com/in"),
            app.state.settings,
            resolver=rebinding,
        )
    answers[:] = ["127.0.0.1"]
    app.state.jobs.state[RESOLVER_STATE] = rebinding
    await emit(app.state.db, tenant.workspace_id)
    for _ in range(250):
        if await attempts(app, endpoint.id):
            break
        await asyncio.sleep(0.02)
    (attempt,) = await attempts(app, endpoint.id)
    assert attempt.status_code is None
    assert attempt.error is not None
    assert "private or internal" in attempt.error

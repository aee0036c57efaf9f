"""Behind a reverse proxy: X-Forwarded-For/-Proto are believed from the listed proxies only."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from tests.dashboard.support import PASSWORD, csrf_of
from tests.fixtures.factories import Factory, headers

from powerpost.app import create_app
from powerpost.config import ConfigError, Settings, load_settings
from powerpost.dashboard.sessions import SESSION_COOKIE
from powerpost.models import ApiKey

FORWARDED = {"x-forwarded-for": "203.0.113.50", "x-forwarded-proto": "https"}


@pytest.fixture
async def proxied_app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(dataclasses.replace(settings, trusted_proxies=("10.0.0.0/8",)))
    await application.state.limiter.reset()
    async with application.router.lifespan_context(application):
        yield application


def _client(app: FastAPI, peer: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=FORWARDED)


async def _signup_cookie(client: httpx.AsyncClient, email: str) -> str:
    page = await client.get("/signup")
    # The proxy speaks plain http to us, so this client will not send a Secure cookie
    # back by itself; the browser on the https side would.
    sent_back = "; ".join(c.split(";", 1)[0] for c in page.headers.get_list("set-cookie"))
    response = await client.post(
        "/signup",
        headers={"cookie": sent_back},
        data={
            "csrf_token": csrf_of(page.text),
            "email": email,
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    assert response.status_code == 303, response.text
    return next(
        c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "=")
    )


async def _last_used_ip(app: FastAPI, client: httpx.AsyncClient, secret: str, key_id: str) -> str:
    assert (await client.get("/api/v1/account/credits", headers=headers(secret))).status_code == 200
    await app.state.usage.flush()
    async with app.state.db.read() as session:
        row = (await session.execute(select(ApiKey).where(ApiKey.id == key_id))).scalar_one()
    return str(row.last_used_ip)


async def test_a_listed_proxy_gives_the_client_address_and_https(proxied_app: FastAPI) -> None:
    factory = Factory(proxied_app)
    tenant = await factory.account()
    key_id, secret = await factory.key(tenant)
    async with _client(proxied_app, "10.1.2.3") as through_proxy:
        assert "Secure" in await _signup_cookie(through_proxy, "proxied@example.com")
        assert await _last_used_ip(proxied_app, through_proxy, secret, key_id) == "203.0.113.50"


async def test_anyone_else_cannot_claim_an_address_or_https(proxied_app: FastAPI) -> None:
    factory = Factory(proxied_app)
    tenant = await factory.account()
    key_id, secret = await factory.key(tenant)
    async with _client(proxied_app, "198.51.100.7") as direct:
        assert "Secure" not in await _signup_cookie(direct, "direct@example.com")
        assert await _last_used_ip(proxied_app, direct, secret, key_id) == "198.51.100.7"


async def test_without_trusted_proxies_forwarded_headers_are_ignored(app: FastAPI) -> None:
    factory = Factory(app)
    tenant = await factory.account()
    key_id, secret = await factory.key(tenant)
    async with _client(app, "10.1.2.3") as client:
        assert "Secure" not in await _signup_cookie(client, "plain@example.com")
        assert await _last_used_ip(app, client, secret, key_id) == "10.1.2.3"


def test_trusted_proxies_setting(env: dict[str, str]) -> None:
    assert load_settings(env).trusted_proxies == ()
    parsed = load_settings(env | {"POWERPOST_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1,::1"})
    assert parsed.trusted_proxies == ("10.0.0.0/8", "192.0.2.1", "::1")
    with pytest.raises(ConfigError, match="POWERPOST_TRUSTED_PROXIES"):
        load_settings(env | {"POWERPOST_TRUSTED_PROXIES": "proxy.internal"})

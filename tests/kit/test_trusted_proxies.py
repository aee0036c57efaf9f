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


async def _as_seen_from(app: FastAPI, peer: str, email: str) -> tuple[bool, str]:
    """(is the sign-up cookie Secure, the key's recorded last-used IP) for requests that
    arrive from ``peer`` carrying the forwarded headers."""
    factory = Factory(app)
    key_id, secret = await factory.key(await factory.account())
    async with _client(app, peer) as client:
        secure = "Secure" in await _signup_cookie(client, email)
        credits = await client.get("/api/v1/account/credits", headers=headers(secret))
        assert credits.status_code == 200
    await app.state.usage.flush()
    async with app.state.db.read() as session:
        row = (await session.execute(select(ApiKey).where(ApiKey.id == key_id))).scalar_one()
    return secure, str(row.last_used_ip)


async def test_a_listed_proxy_gives_the_client_address_and_https(proxied_app: FastAPI) -> None:
    seen = await _as_seen_from(proxied_app, "10.1.2.3", "proxied@example.com")
    assert seen == (True, "203.0.113.50")


async def test_anyone_else_cannot_claim_an_address_or_https(proxied_app: FastAPI) -> None:
    seen = await _as_seen_from(proxied_app, "198.51.100.7", "direct@example.com")
    assert seen == (False, "198.51.100.7")


async def test_without_trusted_proxies_forwarded_headers_are_ignored(app: FastAPI) -> None:
    assert await _as_seen_from(app, "10.1.2.3", "plain@example.com") == (False, "10.1.2.3")


def test_trusted_proxies_setting(env: dict[str, str]) -> None:
    assert load_settings(env).trusted_proxies == ()
    parsed = load_settings(env | {"POWERPOST_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1,::1"})
    assert parsed.trusted_proxies == ("10.0.0.0/8", "192.0.2.1", "::1")
    with pytest.raises(ConfigError, match="POWERPOST_TRUSTED_PROXIES"):
        load_settings(env | {"POWERPOST_TRUSTED_PROXIES": "proxy.internal"})

"""auth.md "Request path": header parsing, checksum before the database, one 401 body."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from tests.fixtures.factories import Factory, headers
from tests.fixtures.queries import count_queries

from powerpost.kit.clock import utcnow
from powerpost.kit.security import generate_key
from powerpost.models import Account, ApiKey

CREDITS = "/api/v1/account/credits"
UNAUTHORIZED = {"error": {"message": "Invalid or missing API key", "code": "INVALID_API_KEY"}}


async def _raw_get(
    app: FastAPI, raw_headers: list[tuple[bytes, bytes]], path: str = CREDITS
) -> tuple[int, bytes]:
    """Send exactly these header bytes (httpx would normalise or refuse some of them)."""
    sent: list[dict[str, object]] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *raw_headers],
        "client": ("198.51.100.1", 1234),
        "server": ("testserver", 80),
    }

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = int(sent[0]["status"])  # type: ignore[call-overload]
    body = b"".join(m.get("body", b"") for m in sent[1:])  # type: ignore[misc]
    return status, body


async def test_x_api_key_and_bearer_are_equivalent(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.account()
    _, secret = await factory.key(tenant)
    for hdrs in (
        {"x-api-key": secret},
        {"Authorization": f"Bearer {secret}"},
        {"Authorization": f"bearer {secret}"},
        {"Authorization": f"BEARER {secret}"},
        {"x-api-key": secret, "Authorization": f"Bearer {secret}"},
    ):
        response = await client.get(CREDITS, headers=hdrs)
        assert response.status_code == 200, hdrs
        assert response.json() == {"balance": 50}


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "empty",
        "wrong_scheme",
        "basic_scheme",
        "repeated_x_api_key",
        "repeated_authorization",
        "disagreeing",
        "non_ascii",
        "huge",
        "bearer_without_key",
        "truncated",
        "unknown_well_formed",
        "query_string_key",
    ],
)
async def test_every_bad_header_gets_the_same_401(
    app: FastAPI, factory: Factory, case: str
) -> None:
    tenant = await factory.account()
    _, secret = await factory.key(tenant)
    other = generate_key("live")
    cases: dict[str, list[tuple[bytes, bytes]]] = {
        "missing": [],
        "empty": [(b"x-api-key", b"")],
        "wrong_scheme": [(b"authorization", f"Token {secret}".encode())],
        "basic_scheme": [(b"authorization", b"Basic dXNlcjpwYXNz")],
        "repeated_x_api_key": [(b"x-api-key", secret.encode()), (b"x-api-key", secret.encode())],
        "repeated_authorization": [
            (b"authorization", f"Bearer {secret}".encode()),
            (b"authorization", f"Bearer {secret}".encode()),
        ],
        "disagreeing": [
            (b"x-api-key", secret.encode()),
            (b"authorization", f"Bearer {other}".encode()),
        ],
        "non_ascii": [(b"x-api-key", secret[:-1].encode() + "é".encode())],
        "huge": [(b"x-api-key", b"p" * 8192)],
        "bearer_without_key": [(b"authorization", b"Bearer ")],
        "truncated": [(b"x-api-key", secret[:-3].encode())],
        "unknown_well_formed": [(b"x-api-key", other.encode())],
        "query_string_key": [],
    }
    path = CREDITS + (f"?api_key={secret}" if case == "query_string_key" else "")
    if case == "query_string_key":
        status, body = await _raw_get_with_query(app, secret)
    else:
        status, body = await _raw_get(app, cases[case], path)
    assert status == 401
    assert httpx.Response(200, content=body).json() == UNAUTHORIZED


async def _raw_get_with_query(app: FastAPI, secret: str) -> tuple[int, bytes]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        # the key is also in the header: a key in the URL must still be refused
        response = await c.get(CREDITS, params={"api_key": secret}, headers={"x-api-key": secret})
    return response.status_code, response.content


def _percent(text: str) -> str:
    return "".join(f"%{ord(c):02X}" for c in text)


@pytest.mark.parametrize(
    "encode",
    [
        lambda k: "%70" + k[1:],  # %70 is "p"
        lambda k: k.replace("_", "%5F"),
        lambda k: k.replace("_", "%5f"),
        lambda k: _percent(k),
        lambda k: _percent(k).replace("%", "%25"),  # twice
        lambda k: _percent(_percent(k)).replace("%", "%25"),  # three times
        lambda k: k[:14] + "%" + f"{ord(k[14]):02x}" + k[15:],  # after 3 key chars
        lambda k: "+" + k + "+",
        lambda k: k.upper(),
    ],
    ids=["p", "underscores", "lower_hex", "all", "twice", "thrice", "middle", "plus", "upper"],
)
async def test_an_encoded_key_in_the_query_string_is_refused(
    app: FastAPI, factory: Factory, encode: Callable[[str], str]
) -> None:
    """Issue 8, B6: the check ran on the raw query string, so an encoded key passed."""
    tenant = await factory.account()
    _, secret = await factory.key(tenant)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        url = httpx.URL(CREDITS).copy_with(query=f"q=1&api_key={encode(secret)}".encode())
        response = await c.get(url, headers={"x-api-key": secret})
        assert response.status_code == 401
        assert response.json() == UNAUTHORIZED
        # An ordinary query string still works.
        plain = await c.get(CREDITS, params={"q": "pp_live 100%"}, headers={"x-api-key": secret})
        assert plain.status_code == 200


async def test_bad_checksum_is_rejected_without_any_query(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    key = generate_key("live")
    tampered = key[:-1] + ("0" if key[-1] != "0" else "1")
    with count_queries(app.state.db) as queries:
        for value in (tampered, "pp_live_sk_short", "x" * 49, key[:-6] + "zzzzzz"):
            response = await client.get(CREDITS, headers={"x-api-key": value})
            assert response.status_code == 401
    assert queries == []


async def test_a_valid_key_costs_one_lookup(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.account()
    _, secret = await factory.key(tenant)
    with count_queries(app.state.db) as queries:
        assert (await client.get("/api/v1/workspaces", headers=headers(secret))).status_code == 200
    # one key lookup (joined with the account) plus the route's own query
    assert len([q for q in queries if "api_keys" in q]) == 1


async def test_revoked_expired_and_disabled_are_401(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.account()
    revoked_id, revoked = await factory.key(tenant, name="revoked")
    expired_id, expired = await factory.key(tenant, name="expired", expires_in_days=1)
    _ok_id, ok = await factory.key(tenant, name="ok")
    async with app.state.db.write() as session:
        await session.execute(
            update(ApiKey).where(ApiKey.id == revoked_id).values(revoked_at=utcnow())
        )
        await session.execute(
            update(ApiKey)
            .where(ApiKey.id == expired_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    for secret in (revoked, expired):
        response = await client.get(CREDITS, headers=headers(secret))
        assert response.status_code == 401
        assert response.json() == UNAUTHORIZED
        assert response.headers["www-authenticate"] == 'Bearer realm="PowerPost API"'
    assert (await client.get(CREDITS, headers=headers(ok))).status_code == 200
    async with app.state.db.write() as session:
        await session.execute(
            update(Account).where(Account.id == tenant.account_id).values(disabled_at=utcnow())
        )
    assert (await client.get(CREDITS, headers=headers(ok))).json() == UNAUTHORIZED


async def test_test_mode_keys_work_and_mode_comes_from_the_row(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.account()
    _, secret = await factory.key(tenant, mode="test")
    assert secret.startswith("pp_test_sk_")
    assert (await client.get(CREDITS, headers=headers(secret))).status_code == 200


async def test_every_response_has_a_request_id(client: httpx.AsyncClient) -> None:
    first = await client.get("/healthz")
    assert len(first.headers["x-request-id"]) >= 16
    echoed = await client.get("/api/v1/nowhere", headers={"X-Request-Id": "client-abc-123"})
    assert echoed.headers["x-request-id"] == "client-abc-123"
    bad = await client.get(CREDITS, headers={"X-Request-Id": "bad id\twith space"})
    assert bad.headers["x-request-id"] != "bad id\twith space"


async def test_no_key_text_in_logs(
    client: httpx.AsyncClient, factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tenant = await factory.account()
    _, secret = await factory.key(tenant)
    wrong = generate_key("live")
    await client.get(CREDITS, headers=headers(secret))
    await client.get(CREDITS, headers=headers(wrong))
    await client.get(CREDITS, headers={"Authorization": f"Token {secret}"})
    await client.get(CREDITS, params={"key": secret}, headers=headers(secret))
    await client.get("/api/v1/unknown", headers=headers(secret))
    # everything the server side logged (httpx here is the test's own client)
    text = "\n".join(r.getMessage() for r in caplog.records if r.name != "httpx")
    assert "api key rejected" in text  # the logs do say why
    for leaked in (secret, wrong, secret[11:43], wrong[11:43]):
        assert leaked not in text

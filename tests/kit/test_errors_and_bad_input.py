"""Bad input always gets a clear 4xx in the envelope, never a 500, and writes nothing."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy import func, select
from tests.fixtures.factories import Factory, headers

from powerpost.auth.capabilities import AccountRead
from powerpost.kit.routing import ApiRoute
from powerpost.models import CreditLedgerEntry

PROBE = "/api/v1/_probe/known"


def _is_envelope(response: httpx.Response) -> bool:
    body = response.json()
    return (
        set(body) == {"error"}
        and isinstance(body["error"]["message"], str)
        and body["error"]["code"]
    )


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"\xff\xfe\x00garbage", "application/json", 400),
        (b'{"prompt": "\xff\xfe bad utf8"}', "application/json", 400),
        (b"[1, 2, 3]", "application/json", 400),
        (b'"just a string"', "application/json", 400),
        (b"null", "application/json", 400),
        (b'{"prompt": "ok ok"}', "text/plain", 400),
        (b"prompt=ok", "application/x-www-form-urlencoded", 400),
        (b"", "application/json", 400),
        (b'{"prompt": "hello", "surprise": 1}', "application/json", 400),
        (b'{"prompt": "hello", "quantity": -1}', "application/json", 400),
        (b'{"prompt": "hello", "quantity": 99999999999999999999999999}', "application/json", 400),
        (b'{"prompt": "hello", "quantity": 1e400}', "application/json", 400),
        (b'{"prompt": "hello", "quantity": "2"}', "application/json", 400),
        (b'{"prompt": "hello", "quantity": true}', "application/json", 400),
        (b'{"prompt": "hi"}', "application/json", 400),
        (b'{"prompt": "' + b"x" * 2001 + b'"}', "application/json", 400),
        (b'{"prompt": "hello"' + b" " * 10 + b"}", "application/json", 200),
        (b"[" * 10000 + b"]" * 10000, "application/json", 400),
    ],
)
async def test_bad_bodies_get_a_clear_400(
    app: FastAPI,
    probe_client: httpx.AsyncClient,
    factory: Factory,
    content: bytes,
    content_type: str,
    status: int,
) -> None:
    tenant = await factory.account()
    _, key = await factory.key(tenant)
    async with factory.db.read() as session:
        entries_before = (
            await session.execute(select(func.count(CreditLedgerEntry.id)))
        ).scalar_one()
    response = await probe_client.post(
        PROBE,
        content=content,
        headers={**headers(key, tenant.workspace_id), "content-type": content_type},
    )
    assert response.status_code == status, response.text
    if status == 400:
        assert _is_envelope(response)
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    async with factory.db.read() as session:
        entries_after = (
            await session.execute(select(func.count(CreditLedgerEntry.id)))
        ).scalar_one()
    assert entries_after == entries_before


async def test_validation_errors_name_the_field(
    probe_client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.account()
    _, key = await factory.key(tenant)
    response = await probe_client.post(
        PROBE, json={"quantity": 2}, headers=headers(key, tenant.workspace_id)
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "'prompt' is required"
    unknown = await probe_client.post(
        PROBE, json={"prompt": "abc", "colour": "red"}, headers=headers(key, tenant.workspace_id)
    )
    assert unknown.json()["error"]["message"] == "Unknown field 'colour'"
    assert unknown.json()["error"]["details"][0]["field"] == "colour"


async def test_body_too_large_is_413_before_reading(
    probe_client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.account()
    _, key = await factory.key(tenant)
    big = b'{"prompt": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    response = await probe_client.post(
        PROBE,
        content=big,
        headers={**headers(key, tenant.workspace_id), "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "FILE_TOO_LARGE"

    async def chunked() -> object:
        for _ in range(40):
            yield b"a" * 65536

    streamed = await probe_client.post(
        PROBE,
        content=chunked(),
        headers={**headers(key, tenant.workspace_id), "content-type": "application/json"},  # type: ignore[arg-type]
    )
    assert streamed.status_code == 413
    assert _is_envelope(streamed)


async def test_unknown_route_and_wrong_method(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/definitely/not/here")
    assert missing.status_code == 404
    assert missing.json() == {"error": {"message": "Not found", "code": "NOT_FOUND"}}
    for slashed in ("/api/v1/account/credits/", "/api/v1/workspaces/"):
        trailing = await client.get(slashed, follow_redirects=False)
        assert trailing.status_code == 404, slashed  # never a redirect
        assert trailing.json()["error"]["code"] == "NOT_FOUND"
    wrong = await client.delete("/api/v1/account/credits")
    assert wrong.status_code == 405
    assert _is_envelope(wrong)


async def test_unexpected_failure_is_500_without_trace(app: FastAPI, factory: Factory) -> None:
    router = APIRouter(route_class=ApiRoute)

    @router.get("/api/v1/_explode")
    async def explode(auth: AccountRead) -> dict[str, str]:
        secret_value = "pp_live_sk_should_never_leak"
        raise RuntimeError(f"database password hunter2 {secret_value}")

    app.include_router(router)
    tenant = await factory.account()
    _, key = await factory.key(tenant)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        response = await c.get("/api/v1/_explode", headers=headers(key))
    assert response.status_code == 500
    body = response.json()
    assert body["error"]["code"] == "INTERNAL_ERROR"
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert "pp_live_sk" not in response.text
    assert response.headers["x-request-id"] in body["error"]["message"]
    assert "x-ratelimit-limit" in response.headers


async def test_a_failing_dashboard_page_is_an_html_page_and_the_api_stays_json(
    app: FastAPI,
) -> None:
    router = APIRouter()

    @router.get("/settings/_explode")
    async def explode_page() -> dict[str, str]:
        raise RuntimeError("session secret hunter2")

    app.include_router(router)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        page = await c.get("/settings/_explode", headers={"accept": "text/html"})
        machine = await c.get("/settings/_explode", headers={"accept": "application/json"})
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "Something went wrong" in page.text
    assert page.headers["x-request-id"] in page.text
    assert "hunter2" not in page.text
    assert "Traceback" not in page.text
    assert machine.status_code == 500
    assert machine.json()["error"]["code"] == "INTERNAL_ERROR"

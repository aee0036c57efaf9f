"""Idempotency-Key (§14, IETF httpapi draft): replay, mismatch, in flight, scoping, lapsed
locks, expiry and bad headers, on the real creating routes and on a held test route."""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from PIL import Image
from sqlalchemy import select, update
from tests.fixtures.factories import Factory, Tenant, headers
from tests.fixtures.media import count_rows, wait_finished
from tests.idempotency.routes import Work
from tests.idempotency.routes import router as work_router

from powerpost.auth.capabilities import CalendarWrite
from powerpost.credits import service as credits
from powerpost.idempotency import IdempotencyGuard, PeriodicKeySweep, sweep_expired
from powerpost.idempotency.guard import Claim, KeyInUse
from powerpost.kit.clock import utcnow
from powerpost.kit.routing import ApiRoute, Idempotent, iter_api_routes
from powerpost.models import (
    ApiKey,
    CalendarEntry,
    CreditLedgerEntry,
    Generation,
    IdempotencyKey,
    ImageGeneration,
    Media,
    VideoGeneration,
)

GENERATE = "/api/v1/content/generate"
UPLOAD = "/api/v1/media/upload"
WORK = "/api/v1/_idem/work"
CAPTION = {"prompt": "Autumn menu launch", "post_types": ["x-post"], "research_mode": "regular"}


def _png(colour: str = "teal") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(buffer, "PNG")
    return buffer.getvalue()


async def _tenant(app: FastAPI, factory: Factory, credits_: int = 200) -> tuple[Tenant, str]:
    tenant = await factory.account()
    async with app.state.db.write() as session:
        await credits.grant(session, tenant.account_id, credits_, reason="idempotency test")
    _, secret = await factory.key(tenant)
    return tenant, secret


def _with_key(secret: str, workspace_id: str, key: str) -> dict[str, str]:
    return {**headers(secret, workspace_id), "Idempotency-Key": key}


async def _ledger_size(app: FastAPI, account_id: str) -> int:
    return await count_rows(app, CreditLedgerEntry, account_id=account_id)


@pytest.fixture
def work(app: FastAPI) -> Work:
    app.include_router(work_router, prefix="/api/v1")
    state = Work()
    app.state.idem_work = state
    return state


# --- replay -----------------------------------------------------------------------------------


async def test_replay_runs_nothing_again_and_moves_no_credits(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    tenant, secret = await _tenant(app, factory)
    h = _with_key(secret, tenant.workspace_id, "gen-1")
    first = await client.post(GENERATE, json=CAPTION, headers=h)
    assert first.status_code == 200, first.text
    assert "idempotent-replayed" not in first.headers
    generation_id = first.json()["generation_id"]
    await wait_finished(
        client, f"/api/v1/content/generations/{generation_id}", headers(secret, tenant.workspace_id)
    )
    balance = await credits.current_balance(app.state.db, tenant.account_id)
    ledger = await _ledger_size(app, tenant.account_id)

    again = await client.post(GENERATE, json=CAPTION, headers=h)
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"]
    assert await count_rows(app, Generation, account_id=tenant.account_id) == 1
    assert await credits.current_balance(app.state.db, tenant.account_id) == balance
    assert await _ledger_size(app, tenant.account_id) == ledger

    # without the header the same body is a new request, as always
    plain = await client.post(GENERATE, json=CAPTION, headers=headers(secret, tenant.workspace_id))
    assert plain.json()["generation_id"] != generation_id
    assert await count_rows(app, Generation, account_id=tenant.account_id) == 2


@pytest.mark.parametrize(
    ("url", "body", "model"),
    [
        ("/api/v1/images/generate", {"prompt": "autumn menu"}, ImageGeneration),
        ("/api/v1/videos/generate", {"prompt": "autumn menu", "duration": 5}, VideoGeneration),
        (
            "/api/v1/calendar/entries",
            {"title": "Launch", "scheduled_date": "2027-10-01"},
            CalendarEntry,
        ),
    ],
)
async def test_every_creating_route_replays(
    client: httpx.AsyncClient,
    app: FastAPI,
    factory: Factory,
    url: str,
    body: dict[str, Any],
    model: type[Any],
) -> None:
    tenant, secret = await _tenant(app, factory)
    h = _with_key(secret, tenant.workspace_id, "same")
    first = await client.post(url, json=body, headers=h)
    assert first.status_code == 200, first.text
    balance = await credits.current_balance(app.state.db, tenant.account_id)
    again = await client.post(url, json=body, headers=h)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert await count_rows(app, model, account_id=tenant.account_id) == 1
    assert await credits.current_balance(app.state.db, tenant.account_id) == balance


async def test_upload_replays_despite_a_new_multipart_boundary(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    tenant, secret = await _tenant(app, factory)
    h = _with_key(secret, tenant.workspace_id, "upload-1")
    files = {"file": ("a.png", _png(), "image/png")}
    first = await client.post(UPLOAD, headers=h, files=files, data={"type": "image"})
    assert first.status_code == 200, first.text
    # httpx picks a fresh random boundary for every request
    again = await client.post(UPLOAD, headers=h, files=files, data={"type": "image"})
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["media_id"] == first.json()["media_id"]
    assert await count_rows(app, Media, account_id=tenant.account_id) == 1

    other = await client.post(
        UPLOAD,
        headers=h,
        files={"file": ("a.png", _png("red"), "image/png")},
        data={"type": "image"},
    )
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "IDEMPOTENCY_KEY_MISMATCH"
    assert await count_rows(app, Media, account_id=tenant.account_id) == 1


async def test_quoted_and_bare_keys_are_the_same_key(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    tenant, secret = await _tenant(app, factory)
    first = await client.post(
        GENERATE, json=CAPTION, headers=_with_key(secret, tenant.workspace_id, '"k-1"')
    )
    again = await client.post(
        GENERATE, json=CAPTION, headers=_with_key(secret, tenant.workspace_id, "k-1")
    )
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()


# --- mismatch and scoping ------------------------------------------------------------------------


async def test_same_key_with_another_request_is_422(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    tenant, secret = await _tenant(app, factory)
    second_workspace = await factory.workspace(tenant, "Client B")
    h = _with_key(secret, tenant.workspace_id, "k")
    assert (await client.post(GENERATE, json=CAPTION, headers=h)).status_code == 200
    balance = await credits.current_balance(app.state.db, tenant.account_id)
    for response in (
        await client.post(GENERATE, json={**CAPTION, "prompt": "Winter menu"}, headers=h),
        await client.post(GENERATE, json=CAPTION, headers=_with_key(secret, second_workspace, "k")),
    ):
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "IDEMPOTENCY_KEY_MISMATCH"
        assert "idempotent-replayed" not in response.headers
    assert await count_rows(app, Generation, account_id=tenant.account_id) == 1
    assert await credits.current_balance(app.state.db, tenant.account_id) == balance


async def test_keys_are_scoped_per_api_key_and_per_route(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    tenant, secret = await _tenant(app, factory)
    _, other_secret = await factory.key(tenant, name="second key")
    first = await client.post(
        GENERATE, json=CAPTION, headers=_with_key(secret, tenant.workspace_id, "shared")
    )
    second = await client.post(
        GENERATE, json=CAPTION, headers=_with_key(other_secret, tenant.workspace_id, "shared")
    )
    assert second.status_code == 200
    assert "idempotent-replayed" not in second.headers
    assert second.json()["generation_id"] != first.json()["generation_id"]
    # and another account's key with the same value is a stranger too
    stranger, stranger_secret = await _tenant(app, factory)
    third = await client.post(
        GENERATE, json=CAPTION, headers=_with_key(stranger_secret, stranger.workspace_id, "shared")
    )
    assert third.status_code == 200
    assert "idempotent-replayed" not in third.headers
    # one key value on another route is another key
    image = await client.post(
        "/api/v1/images/generate",
        json={"prompt": "x"},
        headers=_with_key(secret, tenant.workspace_id, "shared"),
    )
    assert image.status_code == 200
    assert "idempotent-replayed" not in image.headers
    assert await count_rows(app, Generation, account_id=tenant.account_id) == 2


# --- what is stored ------------------------------------------------------------------------------


async def test_a_4xx_is_stored_but_402_is_not(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    tenant, secret = await _tenant(app, factory)
    h = _with_key(secret, tenant.workspace_id, "bad-body")
    bad = {**CAPTION, "research_mode": "shallow"}
    first = await client.post(GENERATE, json=bad, headers=h)
    assert first.status_code == 400
    again = await client.post(GENERATE, json=bad, headers=h)
    assert again.status_code == 400
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()

    poor = await factory.account()
    _, poor_secret = await factory.key(poor)
    async with app.state.db.write() as session:
        spendable = await credits.balance(session, poor.account_id)
        if spendable:
            await credits.hold(
                session, poor.account_id, spendable, reference="drain:all", reason="spend it all"
            )
    h = _with_key(poor_secret, poor.workspace_id, "topped-up")
    refused = await client.post(GENERATE, json=CAPTION, headers=h)
    assert refused.status_code == 402, refused.text
    async with app.state.db.write() as session:
        await credits.grant(session, poor.account_id, 50, reason="top-up")
    retried = await client.post(GENERATE, json=CAPTION, headers=h)
    assert retried.status_code == 200, retried.text
    assert "idempotent-replayed" not in retried.headers


async def test_a_5xx_is_not_stored_so_the_retry_runs(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory, work: Work
) -> None:
    tenant, secret = await _tenant(app, factory)
    h = _with_key(secret, tenant.workspace_id, "flaky")
    work.fail = True
    failed = await client.post(WORK, json={"name": "a"}, headers=h)
    assert failed.status_code == 500
    assert failed.json()["error"]["code"] == "INTERNAL_ERROR"
    work.fail = False
    retried = await client.post(WORK, json={"name": "a"}, headers=h)
    assert retried.status_code == 200
    assert "idempotent-replayed" not in retried.headers
    assert work.calls == 2
    replayed = await client.post(WORK, json={"name": "a"}, headers=h)
    assert replayed.headers["idempotent-replayed"] == "true"
    assert work.calls == 2


# --- in flight -----------------------------------------------------------------------------------


async def _until(condition: Any, within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while not await condition():  # noqa: ASYNC110 (a database row, not an event)
            await asyncio.sleep(0.01)


async def test_a_second_upload_while_the_first_streams_is_409(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    tenant, secret = await _tenant(app, factory)
    boundary = "held-upload-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="type"\r\n\r\nimage\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode() + _png()
    tail = f"\r\n--{boundary}--\r\n".encode()
    gate = asyncio.Event()

    async def held_body() -> AsyncIterator[bytes]:
        yield head
        await gate.wait()
        yield tail

    h = {
        **_with_key(secret, tenant.workspace_id, "up"),
        "content-type": f"multipart/form-data; boundary={boundary}",
    }
    first = asyncio.create_task(client.post(UPLOAD, headers=h, content=held_body()))

    async def claimed() -> bool:
        return await count_rows(app, IdempotencyKey, idempotency_key="up") == 1

    await _until(claimed)
    second = await client.post(UPLOAD, headers=h, content=head + tail)
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "IDEMPOTENCY_KEY_IN_USE"
    assert int(second.headers["retry-after"]) >= 1
    gate.set()
    done = await first
    assert done.status_code == 200, done.text
    third = await client.post(UPLOAD, headers=h, content=head + tail)
    assert third.headers["idempotent-replayed"] == "true"
    assert third.json()["media_id"] == done.json()["media_id"]
    assert await count_rows(app, Media, account_id=tenant.account_id) == 1


async def test_parallel_requests_one_runs_the_other_409(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory, work: Work
) -> None:
    tenant, secret = await _tenant(app, factory)
    h = _with_key(secret, tenant.workspace_id, "parallel")
    work.hold = True
    first = asyncio.create_task(client.post(WORK, json={"name": "a"}, headers=h))
    await asyncio.wait_for(work.entered.wait(), 10)
    second = await client.post(WORK, json={"name": "a"}, headers=h)
    assert second.status_code == 409
    # another body while in flight is also "in use": nothing can be compared yet
    other = await client.post(WORK, json={"name": "b"}, headers=h)
    assert other.status_code == 409
    work.release.set()
    assert (await first).status_code == 200
    assert work.calls == 1


async def test_concurrent_claims_have_one_winner(app: FastAPI, factory: Factory) -> None:
    """The claim itself, raced: on PostgreSQL these are truly concurrent transactions."""
    tenant = await factory.account()
    key_id, _ = await factory.key(tenant)
    guard: IdempotencyGuard = app.state.idempotency

    async def attempt() -> Claim | str:
        try:
            outcome = await guard._claim(key_id, "scope", "raced", "POST", "/x")
        except KeyInUse:
            return "in use"
        assert isinstance(outcome, Claim)
        return outcome

    outcomes = await asyncio.gather(*(attempt() for _ in range(12)))
    assert sum(isinstance(o, Claim) for o in outcomes) == 1
    assert outcomes.count("in use") == 11


async def test_a_running_request_keeps_its_claim_past_the_lock_ttl(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory, work: Work
) -> None:
    app.state.idempotency = IdempotencyGuard(
        app.state.db, lock_ttl=timedelta(seconds=1), heartbeat=0.2
    )
    tenant, secret = await _tenant(app, factory)
    h = _with_key(secret, tenant.workspace_id, "slow")
    work.hold = True
    first = asyncio.create_task(client.post(WORK, json={"name": "a"}, headers=h))
    await asyncio.wait_for(work.entered.wait(), 10)
    await asyncio.sleep(1.6)
    assert (await client.post(WORK, json={"name": "a"}, headers=h)).status_code == 409
    work.release.set()
    assert (await first).status_code == 200
    assert work.calls == 1


async def test_a_dead_processs_claim_lapses_and_is_taken_over(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    tenant, secret = await _tenant(app, factory)
    h = _with_key(secret, tenant.workspace_id, "orphan")
    # a process claimed the key and died: the row is there, its lock no longer renewed
    guard: IdempotencyGuard = app.state.idempotency
    key_id = await _key_id(app, tenant.account_id)
    scope = hashlib.sha256(f"POST {GENERATE}".encode()).hexdigest()
    claim = await guard._claim(key_id, scope, "orphan", "POST", GENERATE)
    assert isinstance(claim, Claim)
    blocked = await client.post(GENERATE, json=CAPTION, headers=h)
    assert blocked.status_code == 409
    async with app.state.db.write() as session:
        await session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.id == claim.row_id)
            .values(locked_until=utcnow() - timedelta(seconds=1))
        )
    taken = await client.post(GENERATE, json=CAPTION, headers=h)
    assert taken.status_code == 200, taken.text
    assert "idempotent-replayed" not in taken.headers
    replay = await client.post(GENERATE, json=CAPTION, headers=h)
    assert replay.headers["idempotent-replayed"] == "true"
    assert await count_rows(app, Generation, account_id=tenant.account_id) == 1


async def _key_id(app: FastAPI, account_id: str) -> str:
    async with app.state.db.read() as session:
        return str(
            (await session.execute(select(ApiKey.id).where(ApiKey.account_id == account_id)))
            .scalars()
            .one()
        )


# --- expiry --------------------------------------------------------------------------------------


async def _age(app: FastAPI, key: str, hours: float) -> None:
    earlier = utcnow() - timedelta(hours=hours)
    async with app.state.db.write() as session:
        await session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.idempotency_key == key)
            .values(created_at=earlier, expires_at=earlier + timedelta(hours=24))
        )


async def test_expired_keys_are_swept_and_run_afresh(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    tenant, secret = await _tenant(app, factory)
    for key in ("old", "recent"):
        h = _with_key(secret, tenant.workspace_id, key)
        assert (await client.post(GENERATE, json=CAPTION, headers=h)).status_code == 200
    await _age(app, "old", 25)
    await _age(app, "recent", 23)
    assert await sweep_expired(app.state.db) == 1
    assert await count_rows(app, IdempotencyKey, idempotency_key="old") == 0
    assert await count_rows(app, IdempotencyKey, idempotency_key="recent") == 1
    rerun = await client.post(
        GENERATE, json=CAPTION, headers=_with_key(secret, tenant.workspace_id, "old")
    )
    assert "idempotent-replayed" not in rerun.headers
    replay = await client.post(
        GENERATE, json=CAPTION, headers=_with_key(secret, tenant.workspace_id, "recent")
    )
    assert replay.headers["idempotent-replayed"] == "true"
    assert await count_rows(app, Generation, account_id=tenant.account_id) == 3


async def test_an_expired_key_not_yet_swept_is_free(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    tenant, secret = await _tenant(app, factory)
    h = _with_key(secret, tenant.workspace_id, "stale")
    first = await client.post(GENERATE, json=CAPTION, headers=h)
    await _age(app, "stale", 24.5)
    # even another body: the old request is forgotten, this is a new one
    fresh = await client.post(GENERATE, json={**CAPTION, "prompt": "New menu"}, headers=h)
    assert fresh.status_code == 200
    assert fresh.json()["generation_id"] != first.json()["generation_id"]
    assert await count_rows(app, IdempotencyKey, idempotency_key="stale") == 1


async def test_the_periodic_sweep_runs(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    tenant, secret = await _tenant(app, factory)
    h = _with_key(secret, tenant.workspace_id, "periodic")
    assert (await client.post(GENERATE, json=CAPTION, headers=h)).status_code == 200
    await _age(app, "periodic", 30)
    sweeper = PeriodicKeySweep(app.state.db, interval=0.05, first_delay=0.05)
    sweeper.start()
    try:

        async def gone() -> bool:
            return await count_rows(app, IdempotencyKey, idempotency_key="periodic") == 0

        await _until(gone)
    finally:
        await sweeper.stop()


def test_the_dispatching_app_runs_the_sweep(app: FastAPI) -> None:
    sweep = app.state.idempotency_sweep
    assert isinstance(sweep, PeriodicKeySweep)
    assert sweep._task is not None  # started beside the media sweep


# --- bad headers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [b"", b"   ", b"x" * 256, "clé".encode(), b"a\x01b", b'"unterminated\\"', b'"bad\\escape"'],
)
async def test_bad_header_is_400_and_nothing_runs(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory, value: bytes
) -> None:
    tenant, secret = await _tenant(app, factory)
    response = await client.post(
        GENERATE,
        json=CAPTION,
        headers=[
            (b"x-api-key", secret.encode()),
            (b"x-workspace-id", tenant.workspace_id.encode()),
            (b"idempotency-key", value),
        ],
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"][0]["field"] == "Idempotency-Key"
    assert await count_rows(app, Generation, account_id=tenant.account_id) == 0


async def test_repeated_header_is_400(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    tenant, secret = await _tenant(app, factory)
    response = await client.post(
        GENERATE,
        json=CAPTION,
        headers=[
            ("x-api-key", secret),
            ("x-workspace-id", tenant.workspace_id),
            ("idempotency-key", "a"),
            ("idempotency-key", "a"),
        ],
    )
    assert response.status_code == 400


async def test_boundary_lengths_are_accepted(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    tenant, secret = await _tenant(app, factory)
    for key in ("k", "x" * 255, "with spaces ~!@#$%^&*()"):
        response = await client.post(
            GENERATE, json=CAPTION, headers=_with_key(secret, tenant.workspace_id, key)
        )
        assert response.status_code == 200, (key, response.text)


async def test_auth_comes_first(client: httpx.AsyncClient, app: FastAPI, factory: Factory) -> None:
    tenant, _ = await _tenant(app, factory)
    response = await client.post(
        GENERATE,
        json=CAPTION,
        headers={"x-workspace-id": tenant.workspace_id, "Idempotency-Key": ""},
    )
    assert response.status_code == 401
    assert await count_rows(app, IdempotencyKey) == 0


# --- opting in -----------------------------------------------------------------------------------


def test_every_creating_post_opts_in(app: FastAPI) -> None:
    opted = {
        path for path, route in iter_api_routes(app.routes) if getattr(route, "idempotent", False)
    }
    assert opted == {
        "/api/v1/content/generate",
        "/api/v1/images/generate",
        "/api/v1/videos/generate",
        "/api/v1/media/upload",
        "/api/v1/calendar/entries",
        "/api/v1/posts",
        "/api/v1/posts/{post_id}/publish",
        "/api/v1/posts/{post_id}/schedule",
        "/api/v1/posts/{post_id}/retry",
        "/api/v1/webhooks",
        "/api/v1/webhooks/{webhook_id}/rotate",
        "/api/v1/webhooks/{webhook_id}/test",
        "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    }
    schema = app.openapi()
    parameters = schema["paths"]["/api/v1/media/upload"]["post"]["parameters"]
    assert any(p["name"] == "Idempotency-Key" for p in parameters)


def test_only_posts_can_opt_in() -> None:
    router = APIRouter(route_class=ApiRoute)
    with pytest.raises(RuntimeError, match="creating POSTs"):

        @router.patch("/thing", dependencies=[Idempotent])
        async def thing(auth: CalendarWrite) -> dict[str, str]:
            return {}


# --- dry runs -----------------------------------------------------------------------------------


async def test_a_dry_run_neither_claims_nor_stores_the_key(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    """Quoting first and then sending the real call with the same key works: the dry run
    creates nothing, so the key stands for the real call alone (and is still checked for
    form, as the real call would)."""
    tenant, secret = await _tenant(app, factory)
    h = _with_key(secret, tenant.workspace_id, "quote-then-go")
    stored = await count_rows(app, IdempotencyKey)
    for _ in range(2):
        dry = await client.post(f"{GENERATE}?dry_run=true", json=CAPTION, headers=h)
        assert dry.status_code == 200, dry.text
        assert dry.json()["dry_run"] is True
        assert "idempotent-replayed" not in dry.headers
    assert await count_rows(app, IdempotencyKey) == stored

    real = await client.post(GENERATE, json=CAPTION, headers=h)
    assert real.status_code == 200, real.text
    assert "generation_id" in real.json()
    assert "idempotent-replayed" not in real.headers
    # a dry run after it is still a dry run, not the stored answer
    after = await client.post(f"{GENERATE}?dry_run=true", json=CAPTION, headers=h)
    assert after.json()["dry_run"] is True
    assert "idempotent-replayed" not in after.headers
    replayed = await client.post(GENERATE, json=CAPTION, headers=h)
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.json() == real.json()
    assert await count_rows(app, Generation, account_id=tenant.account_id) == 1

    malformed = {**headers(secret, tenant.workspace_id), "Idempotency-Key": "k" * 256}
    dry_bad = await client.post(f"{GENERATE}?dry_run=true", json=CAPTION, headers=malformed)
    real_bad = await client.post(GENERATE, json=CAPTION, headers=malformed)
    assert dry_bad.status_code == real_bad.status_code == 400
    assert dry_bad.json() == real_bad.json()


async def test_dry_run_on_a_route_without_one_keeps_the_key(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    """Media upload has no dry run: `?dry_run=true` there is an ordinary upload, so it is
    run once per key like any other."""
    tenant, secret = await _tenant(app, factory)
    h = _with_key(secret, tenant.workspace_id, "upload-once")
    answers = [
        await client.post(
            f"{UPLOAD}?dry_run=true",
            headers=h,
            files={"file": ("a.png", _png(), "image/png")},
            data={"type": "image"},
        )
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [200, 200], answers[0].text
    assert answers[1].headers["idempotent-replayed"] == "true"
    assert answers[1].json() == answers[0].json()
    assert await count_rows(app, Media, account_id=tenant.account_id) == 1

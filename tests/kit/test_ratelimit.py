"""§11 rate limits: headers on every authenticated response, 429 with retryAfter, the
failed-auth limiter per IP, and fail-open when Redis is unreachable."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from tests.fixtures.factories import Factory, headers

from powerpost.app import create_app
from powerpost.config import ConfigError, RateLimits, Settings, load_settings
from powerpost.kit.security import generate_key

CREDITS = "/api/v1/account/credits"


async def _client_for(settings: Settings) -> tuple[FastAPI, httpx.AsyncClient]:
    app = create_app(settings)
    await app.state.limiter.reset()
    transport = httpx.ASGITransport(app=app, client=("198.51.100.20", 1000))
    return app, httpx.AsyncClient(transport=transport, base_url="http://t")


async def test_headers_on_success_and_on_errors(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.account()
    _, key = await factory.key(tenant)
    first = await client.get(CREDITS, headers=headers(key))
    second = await client.get("/api/v1/workspaces", headers=headers(key))
    assert first.headers["x-ratelimit-limit"] == "300"
    assert int(first.headers["x-ratelimit-remaining"]) == 299
    assert int(second.headers["x-ratelimit-remaining"]) == 298  # one budget per key and group
    assert abs(int(first.headers["x-ratelimit-reset"]) - time.time()) <= 61
    unauthenticated = await client.get(CREDITS)
    assert "x-ratelimit-limit" not in unauthenticated.headers


async def test_429_with_retry_after(settings: Settings, factory: Factory) -> None:
    small = replace(settings, rate_limits=RateLimits(read="3/minute"))
    app, client = await _client_for(small)
    async with app.router.lifespan_context(app), client:
        tenant = await Factory(app).account()
        _, key = await Factory(app).key(tenant)
        _, other_key = await Factory(app).key(tenant, name="other")
        statuses = [(await client.get(CREDITS, headers=headers(key))).status_code for _ in range(3)]
        assert statuses == [200, 200, 200]
        limited = await client.get(CREDITS, headers=headers(key))
        assert limited.status_code == 429
        error = limited.json()["error"]
        assert error["code"] == "RATE_LIMIT_EXCEEDED"
        assert 1 <= error["retryAfter"] <= 60
        assert limited.headers["retry-after"] == str(error["retryAfter"])
        assert limited.headers["x-ratelimit-remaining"] == "0"
        # per key: another key of the same account is unaffected
        assert (await client.get(CREDITS, headers=headers(other_key))).status_code == 200


async def test_failed_auth_is_limited_per_ip(settings: Settings, factory: Factory) -> None:
    small = replace(settings, rate_limits=RateLimits(failed_auth_per_ip="5/minute"))
    app, client = await _client_for(small)
    async with app.router.lifespan_context(app), client:
        tenant = await Factory(app).account()
        _, good = await Factory(app).key(tenant)
        for _ in range(5):
            assert (
                await client.get(CREDITS, headers={"x-api-key": generate_key("live")})
            ).status_code == 401
        blocked = await client.get(CREDITS, headers={"x-api-key": generate_key("live")})
        assert blocked.status_code == 429
        assert blocked.json()["error"]["retryAfter"] >= 1
        # a valid key from the same address (another client behind the same proxy) is
        # served; the next failure from it is still refused with 429
        assert (await client.get(CREDITS, headers=headers(good))).status_code == 200
        again = await client.get(CREDITS, headers={"x-api-key": "pp_live_sk_garbage"})
        assert again.status_code == 429
        assert again.headers["retry-after"] == str(again.json()["error"]["retryAfter"])
        other_ip = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("198.51.100.99", 1)), base_url="http://t"
        )
        async with other_ip:
            wrong = await other_ip.get(CREDITS, headers={"x-api-key": generate_key("live")})
            assert wrong.status_code == 401  # other addresses have their own budget


async def test_redis_down_serves_anyway_and_logs(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    broken = replace(settings, redis_url="redis://127.0.0.1:1/0")
    app, client = await _client_for_without_reset(broken)
    caplog.set_level(logging.ERROR, logger="powerpost.kit.ratelimit")
    async with app.router.lifespan_context(app), client:
        tenant = await Factory(app).account()
        _, key = await Factory(app).key(tenant)
        started = time.monotonic()
        for _ in range(5):
            response = await client.get(CREDITS, headers=headers(key))
            assert response.status_code == 200
            assert response.headers["x-ratelimit-limit"] == "300"
        # per-process limits meanwhile: the budget still counts down
        assert response.headers["x-ratelimit-remaining"] == "295"
        # only the first request waited for Redis; the rest skip it during the pause
        assert time.monotonic() - started < 3
    assert any("rate limiter storage unavailable" in r.getMessage() for r in caplog.records)


async def _client_for_without_reset(settings: Settings) -> tuple[FastAPI, httpx.AsyncClient]:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, client=("198.51.100.21", 1000))
    return app, httpx.AsyncClient(transport=transport, base_url="http://t")


async def test_an_accounts_keys_share_one_account_bucket(
    settings: Settings, factory: Factory
) -> None:
    """N keys of one account are not N budgets: a second, account-wide window per endpoint
    group (per-key amount x account_factor) refuses once the keys together used it up."""
    small = replace(settings, rate_limits=RateLimits(read="5/minute", account_factor=2))
    app, client = await _client_for(small)
    async with app.router.lifespan_context(app), client:
        tenant = await Factory(app).account()
        keys = [(await Factory(app).key(tenant, name=f"k{i}"))[1] for i in range(4)]
        for _ in range(5):
            assert (await client.get(CREDITS, headers=headers(keys[0]))).status_code == 200
        for _ in range(3):
            assert (await client.get(CREDITS, headers=headers(keys[1]))).status_code == 200
        # key 2 has 4 of its own 5 left, the account 1 of 10: the headers give the tighter
        fresh = await client.get(CREDITS, headers=headers(keys[2]))
        assert fresh.status_code == 200
        assert fresh.headers["x-ratelimit-limit"] == "10"
        assert fresh.headers["x-ratelimit-remaining"] == "1"
        assert (await client.get(CREDITS, headers=headers(keys[2]))).status_code == 200
        for key in (keys[2], keys[3]):
            limited = await client.get(CREDITS, headers=headers(key))
            assert limited.status_code == 429
            error = limited.json()["error"]
            assert error["code"] == "RATE_LIMIT_EXCEEDED"
            assert 1 <= error["retryAfter"] <= 60
            assert limited.headers["retry-after"] == str(error["retryAfter"])
            assert limited.headers["x-ratelimit-limit"] == "10"
            assert limited.headers["x-ratelimit-remaining"] == "0"
        # other endpoint groups and other accounts have their own account windows
        assert (
            await client.post("/api/v1/workspaces", headers=headers(keys[3]))
        ).status_code != 429
        other = await Factory(app).account()
        _, other_key = await Factory(app).key(other)
        assert (await client.get(CREDITS, headers=headers(other_key))).status_code == 200


async def test_a_key_over_its_own_limit_does_not_spend_the_accounts(
    settings: Settings, factory: Factory
) -> None:
    small = replace(settings, rate_limits=RateLimits(read="5/minute", account_factor=2))
    app, client = await _client_for(small)
    async with app.router.lifespan_context(app), client:
        tenant = await Factory(app).account()
        _, runaway = await Factory(app).key(tenant, name="runaway")
        _, calm = await Factory(app).key(tenant, name="calm")
        statuses = [
            (await client.get(CREDITS, headers=headers(runaway))).status_code for _ in range(12)
        ]
        assert statuses == [200] * 5 + [429] * 7
        # the refused requests were not charged to the account: 5 of its 10 are left
        for _ in range(5):
            assert (await client.get(CREDITS, headers=headers(calm))).status_code == 200
        limited = await client.get(CREDITS, headers=headers(calm))
        assert limited.status_code == 429
        assert limited.headers["x-ratelimit-limit"] in ("5", "10")


def test_account_factor_setting(tmp_path: Path) -> None:
    env = {"POWERPOST_DATA_DIR": str(tmp_path)}
    assert load_settings(env).rate_limits.account_factor == 3
    assert load_settings(env | {"POWERPOST_RATE_LIMIT_ACCOUNT_FACTOR": "5"}).rate_limits == (
        RateLimits(account_factor=5)
    )
    for bad in ("0", "-1", "two", "1.5"):
        with pytest.raises(ConfigError, match="POWERPOST_RATE_LIMIT_ACCOUNT_FACTOR"):
            load_settings(env | {"POWERPOST_RATE_LIMIT_ACCOUNT_FACTOR": bad})

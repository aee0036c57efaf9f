"""Settings → API: create (revealed once), roll, revoke, the limit, the re-prompt, usage."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from powerpost.api_keys import service as keys
from tests.dashboard.support import (
    PASSWORD,
    age_sessions,
    csrf_of,
    new_key_of,
    sign_in_tenant,
)
from tests.fixtures.factories import Factory, Tenant, headers


async def _key_ids(app: FastAPI, tenant: Tenant) -> list[str]:
    async with app.state.db.read() as session:
        return [k.id for k in await keys.list_keys(session, tenant.account_id)]


async def _create(
    client: httpx.AsyncClient, token: str, name: str, key_type: str, **extra: str | list[str]
) -> httpx.Response:
    return await client.post(
        "/settings/api/keys", data={"csrf_token": token, "name": name, "type": key_type, **extra}
    )


async def test_new_key_is_shown_once_and_never_again(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    tenant = await factory.account()
    token = await sign_in_tenant(client, tenant)
    created = await _create(client, token, "Production server", "read_draft")
    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    secret = new_key_of(created.text)
    assert "It will not be shown again" in created.text
    assert "Copy key" in created.text
    assert (await client.get("/api/v1/account/credits", headers=headers(secret))).status_code == 200
    await app.state.usage.flush()

    (key_id,) = await _key_ids(app, tenant)
    for path in (
        "/settings/api",
        f"/settings/api/keys/{key_id}",
        f"/settings/api?revoke={key_id}",
        f"/settings/api?roll={key_id}",
        "/settings/workspaces",
        "/settings/credits",
        "/settings/account",
    ):
        page = await client.get(path)
        assert page.status_code == 200, path
        assert secret not in page.text, path
        assert secret[11:30] not in page.text, path  # nor a large piece of it
    listing = (await client.get("/settings/api")).text
    assert secret[:15] + "…" + secret[-4:] in listing  # the display hint only
    assert "Draft Only" in listing


async def test_a_test_mode_key_can_be_created_and_works(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    tenant = await factory.account()
    token = await sign_in_tenant(client, tenant)
    created = await _create(client, token, "CI runner", "read_only", mode="test")
    assert created.status_code == 200
    secret = new_key_of(created.text)
    assert secret.startswith("pp_test_sk_")
    assert (await client.get("/api/v1/account/credits", headers=headers(secret))).status_code == 200
    async with app.state.db.read() as session:
        (record,) = await keys.list_keys(session, tenant.account_id)
    assert (record.mode, record.type) == ("test", "read_only")
    # unticked, the same form makes a live key
    live = new_key_of((await _create(client, token, "Server", "read_only")).text)
    assert live.startswith("pp_live_sk_")


async def test_key_text_never_reaches_the_logs(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tenant = await factory.account()
    token = await sign_in_tenant(client, tenant)
    first = new_key_of((await _create(client, token, "Logged?", "read_write")).text)
    await client.get("/api/v1/account/credits", headers=headers(first))
    (key_id,) = await _key_ids(app, tenant)
    rolled = await client.post(
        f"/settings/api/keys/{key_id}/roll", data={"csrf_token": token, "grace_hours": "1"}
    )
    second = new_key_of(rolled.text)
    await client.get("/api/v1/account/credits", headers=headers(second))
    await client.post(f"/settings/api/keys/{key_id}/revoke", data={"csrf_token": token})
    await client.get("/api/v1/account/credits", headers=headers(first))
    await app.state.usage.flush()
    assert caplog.records, "nothing was logged at all: the check would prove nothing"
    for secret in (first, second):
        assert secret not in caplog.text
        assert secret[11:] not in caplog.text


async def test_key_changes_ask_for_the_password_after_15_minutes(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    tenant = await factory.account()
    token = await sign_in_tenant(client, tenant)
    await age_sessions(app, tenant.account_id, authenticated=timedelta(minutes=16))
    form = {"name": "After lunch", "type": "custom", "scopes": ["posts:read", "media:write"]}
    prompt = await client.post("/settings/api/keys", data={"csrf_token": token, **form})
    assert prompt.status_code == 200
    assert "Confirm your password" in prompt.text
    assert 'name="reauth_password"' in prompt.text
    # The original form rides along, so the action continues after the password.
    assert 'name="name" value="After lunch"' in prompt.text
    assert 'name="scopes" value="media:write"' in prompt.text
    assert await _key_ids(app, tenant) == []

    wrong = await client.post(
        "/settings/api/keys",
        data={"csrf_token": token, **form, "reauth_password": "not my password"},
    )
    assert wrong.status_code == 400
    assert "not correct" in wrong.text
    assert await _key_ids(app, tenant) == []

    confirmed = await client.post(
        "/settings/api/keys", data={"csrf_token": token, **form, "reauth_password": PASSWORD}
    )
    assert confirmed.status_code == 200
    new_key_of(confirmed.text)
    assert "Custom scopes" in confirmed.text
    assert len(await _key_ids(app, tenant)) == 1
    # The password now counts as recent: no second prompt.
    again = await _create(client, token, "Right after", "read_only")
    new_key_of(again.text)


async def test_revoke_asks_again_then_revokes(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    tenant = await factory.account()
    key_id, secret = await factory.key(tenant, "read_draft")
    token = await sign_in_tenant(client, tenant)
    confirm = await client.get(f"/settings/api?revoke={key_id}")
    assert "Revoke “test key”?" in confirm.text
    assert "get <strong>401 Invalid API key</strong>" in confirm.text
    await age_sessions(app, tenant.account_id, authenticated=timedelta(minutes=20))
    prompt = await client.post(f"/settings/api/keys/{key_id}/revoke", data={"csrf_token": token})
    assert "Confirm your password" in prompt.text
    assert (await client.get("/api/v1/account/credits", headers=headers(secret))).status_code == 200
    done = await client.post(
        f"/settings/api/keys/{key_id}/revoke",
        data={"csrf_token": token, "reauth_password": PASSWORD},
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/settings/api?notice=key-revoked"
    assert (await client.get("/api/v1/account/credits", headers=headers(secret))).status_code == 401
    listing = (await client.get(done.headers["location"])).text
    assert "Revoked" in listing
    assert f'id="revoke-{key_id}"' not in listing


async def test_roll_keeps_the_old_key_for_the_grace_period(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    tenant = await factory.account()
    key_id, old_secret = await factory.key(tenant, "read_only", name="Reporting")
    token = await sign_in_tenant(client, tenant)
    rolled = await client.post(
        f"/settings/api/keys/{key_id}/roll", data={"csrf_token": token, "grace_hours": "2"}
    )
    assert rolled.status_code == 200
    assert rolled.headers["cache-control"] == "no-store"
    new_secret = new_key_of(rolled.text)
    assert "keeps working until" in rolled.text
    for secret in (old_secret, new_secret):
        response = await client.get("/api/v1/account/credits", headers=headers(secret))
        assert response.status_code == 200
    listing = (await client.get("/settings/api")).text
    assert "Rolling over" in listing
    assert listing.count('<td data-label="Type">Read Only</td>') == 2

    bad = await client.post(
        f"/settings/api/keys/{key_id}/roll", data={"csrf_token": token, "grace_hours": "1"}
    )
    assert bad.status_code == 400
    assert "Only an active key" in bad.text


async def test_the_ten_key_limit_is_explained(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    tenant = await factory.account()
    for n in range(keys.MAX_ACTIVE_KEYS):
        await factory.key(tenant, name=f"key {n}")
    token = await sign_in_tenant(client, tenant)
    page = (await client.get("/settings/api")).text
    assert "10 of 10 active keys" in page
    assert "the most an account can have" in page
    assert 'id="create-key-form"' not in page
    refused = await _create(client, token, "Eleventh", "read_write")
    assert refused.status_code == 400
    assert "the most an account can have" in refused.text
    assert len(await _key_ids(app, tenant)) == keys.MAX_ACTIVE_KEYS


async def test_create_form_errors_keep_the_input(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.account()
    token = await sign_in_tenant(client, tenant)
    no_type = await client.post(
        "/settings/api/keys", data={"csrf_token": token, "name": "Typeless"}
    )
    assert no_type.status_code == 400
    assert "Choose a key type" in no_type.text
    assert 'value="Typeless"' in no_type.text
    no_scopes = await _create(client, token, "Empty custom", "custom")
    assert no_scopes.status_code == 400
    assert "at least one scope" in no_scopes.text
    long_name = await _create(client, token, "x" * 65, "read_write")
    assert long_name.status_code == 400
    assert "1 to 64 characters" in long_name.text
    expiring = await _create(client, token, "Temporary", "read_only", expires_in_days="7")
    assert expiring.status_code == 200
    assert "expires" in expiring.text


async def test_usage_page_shows_the_requests_and_the_chart(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    tenant = await factory.account()
    key_id, secret = await factory.key(tenant, "read_draft", name="Usage")
    for _ in range(4):
        await client.get("/api/v1/account/credits", headers=headers(secret))
    await app.state.usage.flush()
    await sign_in_tenant(client, tenant)
    page = await client.get(f"/settings/api/keys/{key_id}")
    assert page.status_code == 200
    html = page.text
    assert html.count("<code>/api/v1/account/credits</code>") == 4
    assert "203.0.113.7" in html
    assert 'role="img"' in html
    assert "4 requests from" in html  # the chart's text alternative
    assert len(re.findall(r'<rect class="bar"', html)) == 1  # all on one day
    assert "Show the daily numbers as a table" in html
    assert "Day (UTC)" in html
    listing = (await client.get("/settings/api")).text
    assert "Just now" in listing  # last used


async def test_another_accounts_key_is_not_found(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    owner = await factory.account()
    key_id, secret = await factory.key(owner)
    intruder = await factory.account()
    token = await sign_in_tenant(client, intruder)
    page = await client.get(f"/settings/api/keys/{key_id}", headers={"accept": "text/html"})
    assert page.status_code == 404
    assert "Page not found" in page.text
    revoke = await client.post(f"/settings/api/keys/{key_id}/revoke", data={"csrf_token": token})
    assert revoke.status_code == 404
    assert (await client.get("/api/v1/account/credits", headers=headers(secret))).status_code == 200
    assert csrf_of((await client.get("/settings/api")).text) == token


async def test_a_key_sent_in_the_path_is_not_recorded_nor_shown(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    """Issue 8, B4: the usage recorder stored the path as sent, key included."""
    from sqlalchemy import select

    from powerpost.kit.clock import utcnow
    from powerpost.models import ApiRequest

    tenant = await factory.account()
    token = await sign_in_tenant(client, tenant)
    secret = new_key_of((await _create(client, token, "Path leak", "read_write")).text)
    (key_id,) = await _key_ids(app, tenant)
    for path in (
        f"/api/v1/content/generations/{secret}",
        f"/api/v1/content/generations/{secret.replace('pp_live', 'PP_LIVE')}",
        f"/api/v1/content/generations/x{secret}y",
    ):
        response = await client.get(path, headers=headers(secret, tenant.workspace_id))
        assert response.status_code == 404, response.text
    await app.state.usage.flush()

    async with app.state.db.read() as session:
        paths = list(
            (await session.execute(select(ApiRequest.path).where(ApiRequest.api_key_id == key_id)))
            .scalars()
            .all()
        )
    assert len(paths) == 3
    for path in paths:
        assert secret[11:] not in path
        assert "_sk_[redacted]" in path
    # A row stored before the masking existed is masked when shown.
    async with app.state.db.write() as session:
        session.add(
            ApiRequest(
                api_key_id=key_id,
                method="GET",
                path=f"/api/v1/old/{secret}",
                status=404,
                ip=None,
                created_at=utcnow(),
            )
        )
    page = (await client.get(f"/settings/api/keys/{key_id}")).text
    assert "/api/v1/old/pp_live_sk_[redacted]" in page
    assert "/api/v1/content/generations/pp_live_sk_[redacted]" in page
    assert secret[11:] not in page
    assert secret[11:30] not in page


async def test_an_oversized_form_field_is_refused_by_name_not_emptied(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    """Issue 8, B6: a 5,000-character expiry was read as "" and made a never-expiring key."""
    tenant = await factory.account()
    token = await sign_in_tenant(client, tenant)
    refused = await _create(client, token, "Forever?", "read_only", expires_in_days="1" * 5000)
    assert refused.status_code == 400
    assert "“expires_in_days” field" in refused.text
    assert "4,096 characters" in refused.text
    assert await _key_ids(app, tenant) == []

    long_name = await _create(client, token, "n" * 4097, "read_only")
    assert long_name.status_code == 400
    assert "“name” field" in long_name.text
    assert await _key_ids(app, tenant) == []

    # At the limit it is an ordinary field (here: a name the key rules then judge).
    ok = await _create(client, token, "Fine", "read_only", expires_in_days="30" + " " * 4094)
    assert ok.status_code == 200, ok.text
    assert len(await _key_ids(app, tenant)) == 1


async def test_an_oversized_sign_in_field_is_refused_by_name(client: httpx.AsyncClient) -> None:
    page = await client.get("/login")
    response = await client.post(
        "/login",
        data={"csrf_token": csrf_of(page.text), "email": "a" * 5000, "password": "x"},
    )
    assert response.status_code == 400
    assert "“email” field" in response.text


async def test_rolling_keys_count_and_a_roll_at_the_limit_is_explained(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    tenant = await factory.account()
    made = [await factory.key(tenant, name=f"key {n}") for n in range(keys.MAX_ACTIVE_KEYS - 1)]
    token = await sign_in_tenant(client, tenant)
    first_id, first_secret = made[0]
    rolled = await client.post(
        f"/settings/api/keys/{first_id}/roll", data={"csrf_token": token, "grace_hours": "2"}
    )
    assert rolled.status_code == 200
    # the old key still works in its grace period, so it still counts
    page = (await client.get("/settings/api")).text
    assert "10 of 10 active keys" in page
    assert 'id="create-key-form"' not in page
    second_id = made[1][0]
    panel = (await client.get(f"/settings/api?roll={second_id}")).text
    assert f'id="roll-limit-{second_id}"' in panel
    assert "roll with a grace period of 0" in panel
    refused = await client.post(
        f"/settings/api/keys/{second_id}/roll", data={"csrf_token": token, "grace_hours": "24"}
    )
    assert refused.status_code == 400
    assert "Revoke a key you no longer use, or roll with no grace period" in refused.text
    assert len(await _key_ids(app, tenant)) == keys.MAX_ACTIVE_KEYS
    assert (
        await client.get("/api/v1/account/credits", headers=headers(first_secret))
    ).status_code == 200
    # no grace: the old key stops at once, so the new one takes its slot
    at_once = await client.post(
        f"/settings/api/keys/{second_id}/roll", data={"csrf_token": token, "grace_hours": "0"}
    )
    assert at_once.status_code == 200
    assert "is revoked now" in at_once.text
    assert "10 of 10 active keys" in (await client.get("/settings/api")).text

"""Lockout by strangers: five wrong passwords from anyone lock an email for 15 minutes, but
a browser that signed in to the account before (the device cookie) still gets in with the
right password; unknown, forged and other-account cookies do not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from fastapi import FastAPI

from powerpost.dashboard.devices import DEVICE_COOKIE, LIFETIME, MAX_ACCOUNTS, DeviceCookies
from powerpost.dashboard.sessions import SESSION_COOKIE
from powerpost.kit.clock import utcnow
from tests.dashboard.support import age_sessions, csrf_of, sign_in_tenant
from tests.fixtures.factories import Factory, Tenant

COOKIE_DOMAIN = "testserver.local"  # where httpx files the test server's cookies


@asynccontextmanager
async def browser(
    app: FastAPI, ip: str, base_url: str = "http://testserver"
) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(ip, 4000))
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
        yield client


async def attempt(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    token = csrf_of((await client.get("/login")).text)
    return await client.post(
        "/login", data={"csrf_token": token, "email": email, "password": password}
    )


async def lock_out(app: FastAPI, tenant: Tenant) -> None:
    """A stranger (own address, no device cookie) uses up the email's five failures."""
    async with browser(app, "198.51.100.66") as stranger:
        for n in range(5):
            assert (await attempt(stranger, tenant.email, f"guess {n}")).status_code == 400
        locked = await attempt(stranger, tenant.email, tenant.password)
        assert locked.status_code == 429
        assert "Too many sign-in attempts" in locked.text


def forget_session(client: httpx.AsyncClient) -> None:
    """The browser's session is gone (signed out, expired); its device cookie stays."""
    client.cookies.delete(SESSION_COOKIE, domain=COOKIE_DOMAIN)


async def test_the_owners_known_browser_gets_past_a_strangers_lock(
    app: FastAPI, factory: Factory
) -> None:
    owner = await factory.account()
    async with browser(app, "203.0.113.50") as known:
        signed_in = await attempt(known, owner.email, owner.password)
        assert signed_in.status_code == 303
        cookie = next(
            c for c in signed_in.headers.get_list("set-cookie") if c.startswith(DEVICE_COOKIE + "=")
        )
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        assert f"Max-Age={int(LIFETIME.total_seconds())}" in cookie
        assert "Secure" not in cookie  # plain http here
        device_value = known.cookies.get(DEVICE_COOKIE)
        assert device_value
        assert device_value != known.cookies.get(SESSION_COOKIE)
        forget_session(known)

        await lock_out(app, owner)

        # the owner's browser signs in with the right password despite the lock
        again = await attempt(known, owner.email, owner.password)
        assert again.status_code == 303
        assert again.headers["location"] == "/settings/api"
        assert (await known.get("/settings/api")).status_code == 200

    # an unknown browser is still refused, even with the right password, even from the
    # owner's own address, and the owner's sign-in did not reopen the window for strangers
    for ip in ("198.51.100.66", "203.0.113.50"):
        async with browser(app, ip) as unknown:
            refused = await attempt(unknown, owner.email, owner.password)
            assert refused.status_code == 429
            assert SESSION_COOKIE not in refused.headers.get("set-cookie", "")


async def test_the_device_cookie_is_secure_over_https(app: FastAPI, factory: Factory) -> None:
    owner = await factory.account()
    async with browser(app, "203.0.113.51", "https://testserver") as known:
        signed_in = await attempt(known, owner.email, owner.password)
    assert signed_in.status_code == 303
    cookie = next(
        c for c in signed_in.headers.get_list("set-cookie") if c.startswith(DEVICE_COOKIE + "=")
    )
    assert "Secure" in cookie
    assert "HttpOnly" in cookie


async def test_a_known_browsers_wrong_passwords_still_stop_it(
    app: FastAPI, factory: Factory
) -> None:
    """A stolen device cookie buys five guesses per window, like anyone else."""
    owner = await factory.account()
    async with browser(app, "203.0.113.52") as known:
        assert (await attempt(known, owner.email, owner.password)).status_code == 303
        forget_session(known)
        await lock_out(app, owner)
        for n in range(5):
            assert (await attempt(known, owner.email, f"wrong {n}")).status_code == 400
        blocked = await attempt(known, owner.email, owner.password)
        assert blocked.status_code == 429
        assert SESSION_COOKIE not in blocked.headers.get("set-cookie", "")
    # a second known browser of the owner has its own window
    async with browser(app, "203.0.113.53") as other:
        now = utcnow()
        cookies = DeviceCookies(app.state.settings.secret_key)
        other.cookies.set(
            DEVICE_COOKIE, cookies.after_sign_in(None, owner.account_id, now), domain=COOKIE_DOMAIN
        )
        assert (await attempt(other, owner.email, owner.password)).status_code == 303


async def test_forged_stale_and_other_account_cookies_do_not_get_past_the_lock(
    app: FastAPI, factory: Factory
) -> None:
    owner = await factory.account()
    someone = await factory.account()
    await lock_out(app, owner)
    now = utcnow()
    real = DeviceCookies(app.state.settings.secret_key)
    # the attacker's own account: a genuine device cookie, for the wrong account
    async with browser(app, "198.51.100.70") as attacker:
        assert (await attempt(attacker, someone.email, someone.password)).status_code == 303
        own = attacker.cookies.get(DEVICE_COOKIE)
        assert own
    account_id, device_id, issued, mac = own.split(".")
    assert account_id == someone.account_id
    candidates = {
        "another account's cookie": own,
        "the account id swapped in": f"{owner.account_id}.{device_id}.{issued}.{mac}",
        "signed with another secret": DeviceCookies(b"\x01" * 32).after_sign_in(
            None, owner.account_id, now
        ),
        "past its lifetime": real.after_sign_in(
            None, owner.account_id, now - LIFETIME - timedelta(minutes=1)
        ),
        "garbage": "x" * 40,
        "oversized": "~".join([real.after_sign_in(None, owner.account_id, now)] * 20),
    }
    for why, value in candidates.items():
        async with browser(app, "198.51.100.71") as forger:
            forger.cookies.set(DEVICE_COOKIE, value, domain=COOKIE_DOMAIN)
            refused = await attempt(forger, owner.email, owner.password)
            assert refused.status_code == 429, why
            assert SESSION_COOKIE not in refused.headers.get("set-cookie", ""), why
    # while a cookie the server signed for the owner gets in
    async with browser(app, "198.51.100.72") as owners:
        owners.cookies.set(
            DEVICE_COOKIE, real.after_sign_in(None, owner.account_id, now), domain=COOKIE_DOMAIN
        )
        assert (await attempt(owners, owner.email, owner.password)).status_code == 303


async def test_the_password_re_prompt_is_not_locked_for_the_owners_browser(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    owner = await factory.account()
    token = await sign_in_tenant(client, owner)
    await age_sessions(app, owner.account_id, authenticated=timedelta(minutes=20))
    await lock_out(app, owner)
    created = await client.post(
        "/settings/api/keys",
        data={
            "csrf_token": token,
            "name": "After the lock",
            "type": "read_only",
            "reauth_password": owner.password,
        },
    )
    assert created.status_code == 200
    assert "It will not be shown again" in created.text


def test_one_cookie_remembers_a_few_accounts_most_recent_first() -> None:
    cookies = DeviceCookies(b"\x07" * 32)
    now = utcnow()
    value = None
    for n in range(MAX_ACCOUNTS + 2):
        value = cookies.after_sign_in(value, f"account-{n}", now)
    kept = [entry.account_id for entry in cookies.entries(value, now)]
    assert kept == [f"account-{n}" for n in range(MAX_ACCOUNTS + 1, 1, -1)]
    device = cookies.device_for(value, "account-3", now)
    assert device is not None
    assert len(device) >= 20  # 128 random bits
    # signing in again renews the entry under the same device id (its window carries over)
    renewed = cookies.after_sign_in(value, "account-3", now + timedelta(days=1))
    assert cookies.device_for(renewed, "account-3", now + timedelta(days=1)) == device
    assert cookies.entries(renewed, now + timedelta(days=1))[0].account_id == "account-3"
    assert cookies.device_for(value, "account-0", now) is None

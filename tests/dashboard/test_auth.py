"""Sign-up, sign-in, sessions, CSRF and the sign-in throttle, through the HTTP layer."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import httpx
from fastapi import FastAPI
from limits import RateLimitItemPerHour, RateLimitItemPerMinute

from powerpost.accounts import service as accounts
from powerpost.dashboard.sessions import PRELOGIN_COOKIE, SESSION_COOKIE
from powerpost.dashboard.throttle import LoginThrottle, ThrottleRules
from tests.dashboard.support import (
    PASSWORD,
    age_sessions,
    csrf_of,
    plant_session_cookie,
    session_cookie,
    session_count,
    sign_in,
    sign_in_tenant,
)
from tests.fixtures.factories import Factory

GENERIC_ERROR = "Wrong email or password."


async def _signup(client: httpx.AsyncClient, email: str) -> httpx.Response:
    page = await client.get("/signup")
    assert page.status_code == 200
    return await client.post(
        "/signup",
        data={
            "csrf_token": csrf_of(page.text),
            "email": email,
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )


async def test_signup_signs_in_with_a_safe_cookie(client: httpx.AsyncClient) -> None:
    response = await _signup(client, "New.Person@Example.com")
    assert response.status_code == 303
    assert response.headers["location"] == "/settings/api?notice=welcome"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http here; see the https test
    page = await client.get("/settings/api?notice=welcome")
    assert page.status_code == 200
    assert "new.person@example.com" in page.text
    assert "Welcome to PowerPost" in page.text
    credits = await client.get("/settings/credits")
    assert "Free credits on sign-up" in credits.text


async def test_cookie_is_secure_over_https(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 443))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        response = await _signup(client, "tls@example.com")
    assert response.status_code == 303
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "=")
    )
    assert "Secure" in cookie
    assert "HttpOnly" in cookie


async def test_signup_can_be_turned_off(client: httpx.AsyncClient, app: FastAPI) -> None:
    app.state.settings = dataclasses.replace(app.state.settings, allow_signup=False)
    page = await client.get("/signup")
    assert page.status_code == 403
    assert "Sign-up is turned off" in page.text
    login = await client.get("/login")
    assert 'href="/signup"' not in login.text
    refused = await client.post(
        "/signup",
        data={
            "csrf_token": csrf_of(login.text),
            "email": "nobody@example.com",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    assert refused.status_code == 403
    async with app.state.db.read() as session:
        assert await accounts.find_by_email(session, "nobody@example.com") is None


async def test_one_message_for_wrong_password_and_unknown_email(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.account()
    token = csrf_of((await client.get("/login")).text)
    wrong_password = await client.post(
        "/login", data={"csrf_token": token, "email": tenant.email, "password": "not it at all"}
    )
    unknown_email = await client.post(
        "/login",
        data={"csrf_token": token, "email": "ghost@example.com", "password": "not it at all"},
    )
    assert wrong_password.status_code == unknown_email.status_code == 400
    for response in (wrong_password, unknown_email):
        assert GENERIC_ERROR in response.text
        assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert "not correct" not in wrong_password.text
    assert "no account" not in unknown_email.text.lower()


async def test_login_is_throttled_per_email(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.account()
    token = csrf_of((await client.get("/login")).text)
    for _ in range(5):
        response = await client.post(
            "/login", data={"csrf_token": token, "email": tenant.email, "password": "wrong guess"}
        )
        assert response.status_code == 400
    # Now even the right password waits: the window is per email, whoever is guessing.
    blocked = await client.post(
        "/login", data={"csrf_token": token, "email": tenant.email, "password": tenant.password}
    )
    assert blocked.status_code == 429
    assert "Too many sign-in attempts" in blocked.text
    assert SESSION_COOKIE not in blocked.headers.get("set-cookie", "")
    # Another account from the same address is not locked out by this.
    other = await factory.account()
    assert await sign_in_tenant(client, other)


async def test_login_is_throttled_per_address(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    rules = ThrottleRules(failures_per_ip=RateLimitItemPerMinute(3, 15))
    app.state.login_throttle = LoginThrottle(app.state.settings.redis_url, rules)
    tenant = await factory.account()
    token = csrf_of((await client.get("/login")).text)
    for n in range(3):
        response = await client.post(
            "/login",
            data={"csrf_token": token, "email": f"guess{n}@example.com", "password": "x" * 12},
        )
        assert response.status_code == 400
    blocked = await client.post(
        "/login", data={"csrf_token": token, "email": tenant.email, "password": tenant.password}
    )
    assert blocked.status_code == 429


async def test_parallel_guesses_cannot_outrun_the_throttle(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.account()
    token = csrf_of((await client.get("/login")).text)

    async def guess(n: int) -> int:
        data = {"csrf_token": token, "email": tenant.email, "password": f"wrong guess {n}"}
        return (await client.post("/login", data=data)).status_code

    # All sent at once: each takes its place in the window before its password is checked.
    statuses = await asyncio.gather(*(guess(n) for n in range(25)))
    assert statuses.count(400) == 5  # exactly the email's budget was really checked
    assert statuses.count(429) == 20


async def test_parallel_signups_cannot_outrun_the_address_budget(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    rules = ThrottleRules(signups_per_ip=RateLimitItemPerHour(3))
    app.state.login_throttle = LoginThrottle(app.state.settings.redis_url, rules)
    statuses = await asyncio.gather(*(_signup(client, f"p{n}@example.com") for n in range(8)))
    assert sorted(r.status_code for r in statuses) == [303] * 3 + [429] * 5
    assert "Too many new accounts" in next(r.text for r in statuses if r.status_code == 429)


async def test_right_passwords_do_not_use_up_the_address(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    rules = ThrottleRules(failures_per_ip=RateLimitItemPerMinute(3, 15))
    app.state.login_throttle = LoginThrottle(app.state.settings.redis_url, rules)
    people = [await factory.account() for _ in range(5)]
    for person in people:  # five sign-ins from one office address, budget of three failures
        client.cookies.clear()
        assert await sign_in_tenant(client, person)


async def test_success_clears_the_email_window(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.account()
    token = csrf_of((await client.get("/login")).text)
    for _ in range(4):
        await client.post(
            "/login", data={"csrf_token": token, "email": tenant.email, "password": "wrong guess"}
        )
    await sign_in_tenant(client, tenant)
    client.cookies.clear()
    token = csrf_of((await client.get("/login")).text)
    for _ in range(4):
        response = await client.post(
            "/login", data={"csrf_token": token, "email": tenant.email, "password": "wrong guess"}
        )
        assert response.status_code == 400


async def test_session_cookie_is_dead_after_logout(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    tenant = await factory.account()
    token = await sign_in_tenant(client, tenant)
    old_cookie = session_cookie(client)
    response = await client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/login?notice=signed-out"
    assert await session_count(app, tenant.account_id) == 0
    plant_session_cookie(client, old_cookie)
    replay = await client.get("/settings/api")
    assert replay.status_code == 303
    assert replay.headers["location"] == "/login?next=/settings/api"


async def test_login_rotates_the_session(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    tenant = await factory.account()
    await sign_in_tenant(client, tenant)
    first = session_cookie(client)
    # The browser still holds the first (now idle-expired) session when it signs in again.
    await age_sessions(app, tenant.account_id, last_seen=timedelta(hours=13))
    await sign_in_tenant(client, tenant)
    second = session_cookie(client)
    assert first != second
    # The replaced session is deleted, not just forgotten by this browser.
    assert await session_count(app, tenant.account_id) == 1
    plant_session_cookie(client, first)
    assert (await client.get("/settings/api")).status_code == 303


async def test_a_planted_cookie_is_not_adopted(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.account()
    planted = "attacker-chosen-token-value-0123456789abcdef"
    plant_session_cookie(client, planted)
    await sign_in_tenant(client, tenant)
    assert session_cookie(client) != planted


async def test_idle_sessions_expire(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    tenant = await factory.account()
    await sign_in_tenant(client, tenant)
    assert (await client.get("/settings/account")).status_code == 200
    await age_sessions(app, tenant.account_id, last_seen=timedelta(hours=13))
    response = await client.get("/settings/account")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


async def test_csrf_refused_when_missing_or_wrong(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.account()
    token = await sign_in_tenant(client, tenant)
    missing = await client.post("/settings/workspaces", data={"name": "No token"})
    wrong = await client.post(
        "/settings/workspaces", data={"name": "Wrong token", "csrf_token": token[:-2] + "xx"}
    )
    wrong_header = await client.post(
        "/settings/workspaces", data={"name": "Wrong header"}, headers={"X-CSRF-Token": "nope"}
    )
    for response in (missing, wrong, wrong_header):
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("text/html")
        assert "This form has expired" in response.text
    page = (await client.get("/settings/workspaces")).text
    assert "No token" not in page
    assert "Wrong token" not in page
    assert "Wrong header" not in page
    # htmx sends the token as a header instead of a field; that is accepted.
    ok = await client.post(
        "/settings/workspaces", data={"name": "Via header"}, headers={"X-CSRF-Token": token}
    )
    assert ok.status_code == 303
    assert "Via header" in (await client.get("/settings/workspaces")).text


async def test_logout_needs_the_csrf_token(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.account()
    await sign_in_tenant(client, tenant)
    refused = await client.post("/logout")
    assert refused.status_code == 403
    assert (await client.get("/settings/api")).status_code == 200


async def test_sign_in_form_needs_its_own_token(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.account()
    # A cross-site form has neither our pre-login cookie nor its value.
    forged = await client.post("/login", data={"email": tenant.email, "password": tenant.password})
    assert forged.status_code == 403
    assert SESSION_COOKIE not in forged.headers.get("set-cookie", "")
    page = await client.get("/login")
    assert PRELOGIN_COOKIE in page.headers.get("set-cookie", "")
    mismatched = await client.post(
        "/login",
        data={"csrf_token": "x" * 43, "email": tenant.email, "password": tenant.password},
    )
    assert mismatched.status_code == 403


async def test_next_is_followed_only_on_this_site(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.account()
    for target, expected in (
        ("/settings/credits", "/settings/credits"),
        ("//evil.example/steal", "/settings/api"),
        ("https://evil.example/", "/settings/api"),
        ("/\\evil.example", "/settings/api"),
    ):
        client.cookies.clear()
        page = await client.get("/login", params={"next": target})
        response = await client.post(
            "/login",
            data={
                "csrf_token": csrf_of(page.text),
                "email": tenant.email,
                "password": tenant.password,
                "next": target,
            },
        )
        assert response.headers["location"] == expected


async def test_signed_out_pages_redirect_to_login(client: httpx.AsyncClient) -> None:
    response = await client.get("/settings/credits?page=2")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/settings/credits%3Fpage%3D2"
    htmx = await client.get("/settings/workspaces", headers={"HX-Request": "true"})
    assert htmx.status_code == 200
    assert htmx.headers["HX-Redirect"] == "/login?next=/settings/workspaces"


async def test_root_redirects_to_api_keys(client: httpx.AsyncClient, factory: Factory) -> None:
    response = await client.get("/")
    assert response.status_code == 302
    assert response.headers["location"] == "/settings/api"
    tenant = await factory.account()
    await sign_in(client, tenant.email)
    assert (await client.get("/login")).headers["location"] == "/settings/api"

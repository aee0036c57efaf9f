"""Helpers for driving the dashboard over HTTP in tests."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update

from powerpost.dashboard.sessions import SESSION_COOKIE
from powerpost.kit.clock import utcnow
from powerpost.models import DashboardSession
from tests.fixtures.factories import Tenant

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
NEW_KEY_RE = re.compile(r'id="new-key">(pp_(?:live|test)_sk_[0-9A-Za-z]+)<')
PASSWORD = "correct horse battery"


def csrf_of(html: str) -> str:
    found = CSRF_RE.search(html)
    assert found is not None, "page has no CSRF field"
    return found.group(1)


def new_key_of(html: str) -> str:
    found = NEW_KEY_RE.search(html)
    assert found is not None, "page reveals no key"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    page = await client.get("/login")
    response = await client.post(
        "/login", data={"csrf_token": csrf_of(page.text), "email": email, "password": password}
    )
    assert response.status_code == 303, response.text
    return csrf_of((await client.get("/settings/api")).text)


async def sign_in_tenant(client: httpx.AsyncClient, tenant: Tenant) -> str:
    return await sign_in(client, tenant.email, tenant.password)


def plant_session_cookie(client: httpx.AsyncClient, value: str) -> None:
    """Replace whatever session cookie the client holds with `value`."""
    client.cookies.clear()
    # The domain the cookie jar files our server's cookies under, so this one replaces them.
    client.cookies.set(SESSION_COOKIE, value, domain="testserver.local")


def session_cookie(client: httpx.AsyncClient) -> str:
    value = client.cookies.get(SESSION_COOKIE)
    assert value, "no session cookie"
    return value


async def age_sessions(
    app: FastAPI,
    account_id: str,
    *,
    authenticated: timedelta | None = None,
    last_seen: timedelta | None = None,
) -> None:
    """Move an account's sessions into the past (a login 20 minutes ago, say)."""
    values = {}
    if authenticated is not None:
        values["authenticated_at"] = utcnow() - authenticated
    if last_seen is not None:
        values["last_seen_at"] = utcnow() - last_seen
    async with app.state.db.write() as session:
        await session.execute(
            update(DashboardSession)
            .where(DashboardSession.account_id == account_id)
            .values(**values)
        )


async def session_count(app: FastAPI, account_id: str) -> int:
    async with app.state.db.read() as session:
        rows = await session.execute(
            select(DashboardSession.id).where(DashboardSession.account_id == account_id)
        )
        return len(rows.all())

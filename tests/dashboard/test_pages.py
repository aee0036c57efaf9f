"""Workspaces, credits, account, navigation and error pages."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from powerpost.credits import service as credits
from powerpost.dashboard import repository
from powerpost.dashboard.service import LEDGER_PAGE_SIZE
from powerpost.dashboard.sessions import describe_browser
from powerpost.kit.clock import utcnow
from powerpost.kit.routing import ApiRoute, iter_api_routes
from tests.dashboard.support import (
    PASSWORD,
    csrf_of,
    session_cookie,
    session_count,
    sign_in,
    sign_in_tenant,
)
from tests.fixtures.factories import Factory, headers

WORKSPACE_ID_RE = re.compile(r'<code id="ws-id-([0-9a-f-]{36})"')


async def test_workspaces_create_rename_delete(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.account()
    _, secret = await factory.key(tenant, "read_write")
    token = await sign_in_tenant(client, tenant)
    created = await client.post("/settings/workspaces", data={"csrf_token": token, "name": "Blog"})
    assert created.status_code == 303
    page = (await client.get(created.headers["location"])).text
    assert "Workspace created." in page
    ids = WORKSPACE_ID_RE.findall(page)
    assert len(ids) == 2
    assert tenant.workspace_id in ids
    blog = next(i for i in ids if i != tenant.workspace_id)
    assert "Copy ID" in page

    # The rename form as htmx loads it (the row from ?edit=), then an htmx post.
    editing = (await client.get(f"/settings/workspaces?edit={blog}")).text
    assert f'hx-post="/settings/workspaces/{blog}/rename"' in editing
    renamed = await client.post(
        f"/settings/workspaces/{blog}/rename",
        data={"name": "Company blog"},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert renamed.status_code == 303
    assert "Company blog" in (await client.get("/settings/workspaces")).text
    empty = await client.post(
        f"/settings/workspaces/{blog}/rename", data={"csrf_token": token, "name": "   "}
    )
    assert empty.status_code == 400
    assert "1 to 100 characters" in empty.text
    assert f'id="rename-{blog}"' in empty.text  # the row stays in edit mode with the error

    confirm = (await client.get(f"/settings/workspaces?delete={blog}")).text
    assert "becomes unreachable" in confirm
    assert f"X-Workspace-Id: {blog}" in confirm
    assert "403 Forbidden" in confirm
    ok = await client.get("/api/v1/account/credits", headers=headers(secret, blog))
    assert ok.status_code == 200
    deleted = await client.post(f"/settings/workspaces/{blog}/delete", data={"csrf_token": token})
    assert deleted.status_code == 303
    after = (await client.get(deleted.headers["location"])).text
    assert blog not in after
    assert "Workspace deleted." in after
    listed = await client.get("/api/v1/workspaces", headers=headers(secret))
    assert [w["id"] for w in listed.json()["data"]] == [tenant.workspace_id]

    last = await client.post(
        f"/settings/workspaces/{tenant.workspace_id}/delete", data={"csrf_token": token}
    )
    assert last.status_code == 400
    assert "only workspace" in last.text


async def test_deleted_workspace_answers_403_to_keys(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    tenant = await factory.account()
    other = await factory.workspace(tenant, "Doomed")
    _, secret = await factory.key(tenant, "read_write")
    token = await sign_in_tenant(client, tenant)
    await client.post(f"/settings/workspaces/{other}/delete", data={"csrf_token": token})
    # Any route that takes X-Workspace-Id will do: the workspace check runs before the
    # handler and before the body is read, so path ids and bodies need not be real.
    workspace_routes = [
        (sorted(r.methods or {"GET"})[0], re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path))
        for path, r in iter_api_routes(app.routes)
        if isinstance(r, ApiRoute) and r.requirement.workspace
    ]
    assert workspace_routes, "no workspace-scoped route to try"
    for method, path in workspace_routes:
        response = await client.request(method, path, headers=headers(secret, other))
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "FORBIDDEN"
        alive = await client.request(method, path, headers=headers(secret, tenant.workspace_id))
        assert alive.status_code != 403, path


async def test_workspace_of_another_account_is_not_found(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    owner = await factory.account()
    intruder = await factory.account()
    token = await sign_in_tenant(client, intruder)
    for action in ("rename", "delete"):
        response = await client.post(
            f"/settings/workspaces/{owner.workspace_id}/{action}",
            data={"csrf_token": token, "name": "Mine now"},
        )
        assert response.status_code == 404


async def test_credits_ledger_is_paginated(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    tenant = await factory.account()
    async with app.state.db.write() as session:
        for n in range(LEDGER_PAGE_SIZE + 5):
            await credits.grant(session, tenant.account_id, n + 1, reason=f"grant number {n}")
    await sign_in_tenant(client, tenant)
    total = 50 + sum(range(1, LEDGER_PAGE_SIZE + 6))
    first = (await client.get("/settings/credits")).text
    assert f'<span id="balance">{total:,}</span>' in first
    assert first.count('class="ledger-row"') == LEDGER_PAGE_SIZE
    assert 'href="/settings/credits?page=2"' in first
    assert 'hx-push-url="true"' in first
    assert "Newer" not in first
    second = (await client.get("/settings/credits?page=2")).text
    rows_second = second.count('class="ledger-row"')
    assert rows_second == LEDGER_PAGE_SIZE + 6 - LEDGER_PAGE_SIZE  # the rest, incl. sign-up
    assert "Free credits on sign-up" in second
    assert "Older" not in second
    assert 'href="/settings/credits?page=1"' in second
    reasons_first = set(re.findall(r"grant number \d+", first))
    reasons_second = set(re.findall(r"grant number \d+", second))
    assert not reasons_first & reasons_second
    assert len(reasons_first | reasons_second) == LEDGER_PAGE_SIZE + 5
    beyond = await client.get("/settings/credits?page=99")
    assert "There are no older entries" in beyond.text
    junk = await client.get("/settings/credits?page=abc")
    assert junk.status_code == 200


async def test_ledger_names_workspace_and_key(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    tenant = await factory.account()
    key_id, _ = await factory.key(tenant, name="Generator")
    async with app.state.db.write() as session:
        await credits.hold(
            session,
            tenant.account_id,
            3,
            reference="job-1",
            reason="Caption generation",
            workspace_id=tenant.workspace_id,
            api_key_id=key_id,
        )
    await sign_in_tenant(client, tenant)
    page = (await client.get("/settings/credits")).text
    row = next(r for r in page.split('class="ledger-row"')[1:] if "Caption generation" in r)
    assert "-3" in row
    assert "Default workspace" in row
    assert "Generator (pp_live_sk_" in row


async def test_change_password_ends_other_sessions(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.account()
    transport = httpx.ASGITransport(app=app, client=("198.51.100.2", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as laptop:
        await sign_in_tenant(laptop, tenant)
        token = await sign_in_tenant(client, tenant)
        before = session_cookie(client)
        mismatch = await client.post(
            "/settings/account/password",
            data={
                "csrf_token": token,
                "current_password": PASSWORD,
                "new_password": "a brand new passphrase",
                "new_password_confirm": "something else",
            },
        )
        assert mismatch.status_code == 400
        wrong = await client.post(
            "/settings/account/password",
            data={
                "csrf_token": token,
                "current_password": "not the password",
                "new_password": "a brand new passphrase",
                "new_password_confirm": "a brand new passphrase",
            },
        )
        assert wrong.status_code == 400
        assert "current password is not correct" in wrong.text
        changed = await client.post(
            "/settings/account/password",
            data={
                "csrf_token": token,
                "current_password": PASSWORD,
                "new_password": "a brand new passphrase",
                "new_password_confirm": "a brand new passphrase",
            },
        )
        assert changed.status_code == 303
        assert session_cookie(client) != before
        assert (await client.get("/settings/account")).status_code == 200
        assert (await laptop.get("/settings/account")).status_code == 303
    client.cookies.clear()
    await sign_in(client, tenant.email, "a brand new passphrase")


async def test_navigation_marks_the_current_page(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.account()
    await sign_in_tenant(client, tenant)
    page = (await client.get("/settings/workspaces")).text
    for href in ("/settings/api", "/settings/workspaces", "/settings/credits", "/settings/account"):
        assert f'href="{href}"' in page
    assert '<a href="/settings/workspaces" aria-current="page">Workspaces</a>' in page
    assert 'class="skip-link" href="#main"' in page
    assert '<main id="main"' in page


async def test_pages_load_nothing_from_elsewhere(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.account()
    login = await client.get("/login")
    assert "default-src 'none'" in login.headers["content-security-policy"]
    await sign_in_tenant(client, tenant)
    for path in ("/settings/api", "/settings/workspaces", "/settings/credits", "/settings/account"):
        response = await client.get(path)
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert not re.search(r'(src|href)="(https?:)?//', response.text), path
    htmx = await client.get("/static/htmx.min.js")
    assert htmx.status_code == 200
    assert htmx.text.startswith("/*! htmx 2.")
    assert "Zero-Clause BSD" in htmx.text.splitlines()[0]


async def test_html_errors_for_pages_json_for_the_api(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    page = await client.get("/no/such/page", headers={"accept": "text/html"})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Page not found" in page.text
    api = await client.get("/api/v1/no/such/thing", headers={"accept": "text/html"})
    assert api.status_code == 404
    assert api.json() == {"error": {"message": "Not found", "code": "NOT_FOUND"}}
    plain = await client.get("/no/such/page")
    assert plain.json()["error"]["code"] == "NOT_FOUND"
    tenant = await factory.account()
    await sign_in_tenant(client, tenant)
    signed_in = await client.get("/no/such/page", headers={"accept": "text/html"})
    assert signed_in.status_code == 404
    assert "Page not found" in signed_in.text
    wrong_method = await client.get("/logout", headers={"accept": "text/html"})
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"].startswith("text/html")
    assert csrf_of((await client.get("/settings/api")).text)


FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


async def test_signed_in_browsers_are_listed_and_can_be_signed_out(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.account()
    client.headers["user-agent"] = FIREFOX_LINUX
    phone_transport = httpx.ASGITransport(app=app, client=("198.51.100.44", 4000))
    tablet_transport = httpx.ASGITransport(app=app, client=("198.51.100.45", 4000))
    async with (
        httpx.AsyncClient(transport=phone_transport, base_url="http://testserver") as phone,
        httpx.AsyncClient(transport=tablet_transport, base_url="http://testserver") as tablet,
    ):
        phone.headers["user-agent"] = SAFARI_IPHONE
        await sign_in_tenant(phone, tenant)
        await sign_in_tenant(tablet, tenant)
        token = await sign_in_tenant(client, tenant)

        page = (await client.get("/settings/account")).text
        assert page.count('class="session-row') == 3
        assert "Firefox on Linux" in page
        assert "Safari on iOS" in page
        assert "198.51.100.44" in page
        assert "This browser" in page
        assert page.index("Firefox on Linux") < page.index("Safari on iOS")  # this one first

        # One browser: the phone.
        async with app.state.db.read() as session:
            rows = await repository.live_of_account(
                session, tenant.account_id, utcnow(), timedelta(hours=12)
            )
        phone_id = next(r.id for r in rows if r.ip == "198.51.100.44")
        no_csrf = await client.post(f"/settings/account/sessions/{phone_id}/end")
        assert no_csrf.status_code == 403
        ended = await client.post(
            f"/settings/account/sessions/{phone_id}/end", data={"csrf_token": token}
        )
        assert ended.status_code == 303
        assert (await phone.get("/settings/api")).status_code == 303  # back to sign-in
        assert (await tablet.get("/settings/api")).status_code == 200
        again = await client.post(
            f"/settings/account/sessions/{phone_id}/end", data={"csrf_token": token}
        )
        assert again.status_code == 404

        # Everyone else at once.
        others = await client.post("/settings/account/sessions/others", data={"csrf_token": token})
        assert others.status_code == 303
        assert (await tablet.get("/settings/api")).status_code == 303
        assert (await client.get("/settings/api")).status_code == 200
        assert await session_count(app, tenant.account_id) == 1
        page = (await client.get("/settings/account?notice=signed-out-others")).text
        assert "Every other browser is signed out." in page
        assert "Sign out all other browsers" not in page  # nobody else left


async def test_another_accounts_browser_cannot_be_signed_out(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    victim = await factory.account()
    transport = httpx.ASGITransport(app=app, client=("198.51.100.50", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        await sign_in_tenant(other, victim)
        async with app.state.db.read() as session:
            (row,) = await repository.live_of_account(
                session, victim.account_id, utcnow(), timedelta(hours=12)
            )
        attacker = await factory.account()
        token = await sign_in_tenant(client, attacker)
        response = await client.post(
            f"/settings/account/sessions/{row.id}/end", data={"csrf_token": token}
        )
        assert response.status_code == 404
        assert (await other.get("/settings/api")).status_code == 200
        own_id = await _own_session_id(app, attacker.account_id)
        refused = await client.post(
            f"/settings/account/sessions/{own_id}/end", data={"csrf_token": token}
        )
        assert refused.status_code == 404  # this browser signs out with Sign out instead


async def _own_session_id(app: FastAPI, account_id: str) -> str:
    async with app.state.db.read() as session:
        (row,) = await repository.live_of_account(
            session, account_id, utcnow(), timedelta(hours=12)
        )
    return row.id


@pytest.mark.parametrize(
    ("agent", "described"),
    [
        (FIREFOX_LINUX, "Firefox on Linux"),
        (SAFARI_IPHONE, "Safari on iOS"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chromium/126.0 Chrome/126.0.0.0 Safari/537.36",
            "Chromium on Linux",
        ),
        ("curl/8.5.0", "Unknown browser"),
        (None, "Unknown browser"),
    ],
)
def test_browsers_are_described_plainly(agent: str | None, described: str) -> None:
    assert describe_browser(agent) == described


async def test_numbers_in_odd_digits_are_not_numbers(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    """ "²" and "①" pass str.isdigit() but not int(): never a 500."""
    tenant = await factory.account()
    token = await sign_in_tenant(client, tenant)
    for odd in ("²", "①", "٣", "1²"):
        for path in ("/settings/credits", "/media"):
            page = await client.get(path, params={"page": odd})
            assert page.status_code == 200, (path, odd)
        created = await client.post(
            "/settings/api/keys",
            data={"csrf_token": token, "name": "odd", "type": "read_only", "expires_in_days": odd},
        )
        assert created.status_code == 400, odd
        assert "Expiry must be a number of days" in created.text

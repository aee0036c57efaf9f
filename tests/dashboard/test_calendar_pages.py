"""The Calendar page: scheduled and published posts and calendar entries on the right day of
a month or week, in the chosen time zone, bounded to the days shown, and only the chosen
workspace's and mode's."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from powerpost.models import Post
from tests.dashboard.support import sign_in_tenant
from tests.fixtures.factories import Factory, Tenant
from tests.posts.support import PostsApi

TEXT = [{"post_type": "x-post", "content": "Fresh bread at 7 #bakery"}]
POST_LINK = re.compile(r'data-post="([0-9a-f-]{36})"')


async def _api(
    client: httpx.AsyncClient,
    app: FastAPI,
    factory: Factory,
    tenant: Tenant | None = None,
    mode: str = "test",
) -> PostsApi:
    owner = tenant or await factory.account()
    key_id, secret = await factory.key(owner, "read_write", mode=mode)
    return PostsApi(client, app, owner, secret, key_id)


async def _post(
    api: PostsApi,
    *,
    status: str = "scheduled",
    scheduled_at: datetime | None = None,
    published_at: datetime | None = None,
    items: list[dict[str, Any]] | None = None,
) -> str:
    """A post made through the API, then moved to a fixed time on the calendar (the API
    only schedules from a minute to 60 days ahead of now)."""
    post_id: str = (await api.create_ok(items or TEXT))["post_id"]
    async with api.app.state.db.write() as session:
        await session.execute(
            update(Post)
            .where(Post.id == post_id)
            .values(status=status, scheduled_at=scheduled_at, published_at=published_at)
        )
    return post_id


async def _entry(api: PostsApi, **body: Any) -> str:
    response = await api.http.post("/api/v1/calendar/entries", json=body, headers=api.headers)
    assert response.status_code == 200, response.text
    entry_id: str = response.json()["entry_id"]
    return entry_id


def _cell(html: str, day: str) -> str:
    """The HTML of one day's cell."""
    start = html.index(f'data-date="{day}"')
    end = html.find("</td>", start)
    return html[start:end]


def _posts_on_page(html: str) -> set[str]:
    return set(POST_LINK.findall(html))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def test_month_view_places_posts_and_entries_on_their_days(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    api = await _api(client, app, factory)
    scheduled = await _post(
        api,
        scheduled_at=at("2027-03-10T14:05:00"),
        items=[*TEXT, {"post_type": "linkedin-post", "content": "Opening soon"}],
    )
    published = await _post(api, status="published", published_at=at("2027-03-03T08:00:00"))
    await _post(api, status="draft")  # a draft has no time: never on the calendar
    entry = await _entry(
        api,
        title="Spring <b>launch</b>",
        scheduled_date="2027-03-20",
        scheduled_time="09:00",
        platforms=["instagram", "x"],
        description="Photos from the bakery\nand the new shop",
    )
    whole_day = await _entry(api, title="Shop closed", scheduled_date="2027-03-20")
    await sign_in_tenant(client, api.tenant)

    page = await client.get("/calendar?mode=test&date=2027-03-15")
    assert page.status_code == 200
    html = page.text
    assert 'href="/calendar" aria-current="page">Calendar<' in html  # the navigation entry
    assert html.index(">Posts<") < html.index(">Calendar<") < html.index(">Media<")
    assert '<h2 id="period-title">March 2027</h2>' in html
    assert _posts_on_page(html) == {scheduled, published}

    tenth = _cell(html, "2027-03-10")
    assert f'href="/posts/{scheduled}?workspace={api.tenant.workspace_id}"' in tenth
    assert "14:05" in tenth
    assert "X post · LinkedIn post" in tenth
    assert "Scheduled" in tenth
    assert "Wednesday 10 March 2027" in tenth  # each cell is labelled with its full date
    third = _cell(html, "2027-03-03")
    assert published in third
    assert "08:00" in third
    assert "Published" in third

    twentieth = _cell(html, "2027-03-20")
    assert f'data-entry="{entry}"' in twentieth
    assert "Spring &lt;b&gt;launch&lt;/b&gt;" in twentieth  # escaped, never markup
    assert "Instagram, X" in twentieth
    assert "Photos from the bakery\nand the new shop" in twentieth
    # The whole-day entry heads its day, before the 09:00 one.
    assert twentieth.index(whole_day) < twentieth.index(entry)
    assert "All day" in twentieth

    # The grid: a table with a column header per weekday, whole weeks Monday to Sunday.
    assert html.count('<th scope="col">') == 7
    assert 'data-date="2027-03-01"' in html  # a Monday
    assert 'data-date="2027-04-04"' in html  # the Sunday after the 31st
    assert 'data-date="2027-02-28"' not in html
    assert 'data-date="2027-04-05"' not in html
    # Plain links move through the months, keeping workspace, mode and view.
    workspace = api.tenant.workspace_id
    base = f"/calendar?workspace={workspace}&amp;mode=test&amp;view=month"
    assert f'href="{base}&amp;date=2027-02-01" rel="prev"' in html
    assert f'href="{base}&amp;date=2027-04-01" rel="next"' in html
    assert f'href="{base}">Today' in html


async def test_only_the_days_shown_are_queried_and_time_zones_move_posts(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    api = await _api(client, app, factory)
    before = await _post(api, scheduled_at=at("2027-02-28T23:59:00"))
    first = await _post(api, scheduled_at=at("2027-03-01T00:00:00"))
    last = await _post(api, status="partial", published_at=at("2027-04-04T23:59:00"))
    after = await _post(api, scheduled_at=at("2027-04-05T00:00:00"))
    # Published before it was due: it stands where it went out, not where it was planned.
    went_out = await _post(
        api,
        status="published",
        scheduled_at=at("2027-03-12T10:00:00"),
        published_at=at("2027-05-01T10:00:00"),
    )
    await sign_in_tenant(client, api.tenant)

    utc = (await client.get("/calendar?mode=test&date=2027-03-01")).text
    assert _posts_on_page(utc) == {first, last}
    assert went_out not in utc

    # In Tokyo (UTC+9) the grid's days start 9 hours earlier in UTC.
    tokyo = (await client.get("/calendar?mode=test&date=2027-03-01&tz=Asia/Tokyo")).text
    assert _posts_on_page(tokyo) == {before, first}
    assert "09:00" in _cell(tokyo, "2027-03-01")  # midnight UTC
    assert "08:59" in _cell(tokyo, "2027-03-01")  # 23:59 UTC the day before
    assert '<option value="Asia/Tokyo" selected>' in tokyo
    assert "tz=Asia%2FTokyo" in tokyo  # the links keep the zone
    # New York: UTC-5 on 1 March, UTC-4 after 14 March; each end of the grid follows its own.
    new_york = (await client.get("/calendar?mode=test&date=2027-03-01&tz=America/New_York")).text
    assert _posts_on_page(new_york) == {last, after}
    assert "20:00" in _cell(new_york, "2027-04-04")

    week = (await client.get("/calendar?mode=test&view=week&date=2027-03-03")).text
    assert "Week of 1 – 7 March 2027" in week
    assert _posts_on_page(week) == {first}
    assert "Nothing planned." in week
    may = (await client.get("/calendar?mode=test&date=2027-05-20")).text
    assert _posts_on_page(may) == {went_out}


async def test_another_workspace_and_another_account_are_invisible(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    api = await _api(client, app, factory)
    mine = await _post(api, scheduled_at=at("2027-03-10T12:00:00"))
    await _entry(api, title="Mine", scheduled_date="2027-03-10")
    second_ws = await factory.workspace(api.tenant, "Second")
    other_ws = await _api(
        client, app, factory, tenant=dataclasses.replace(api.tenant, workspace_id=second_ws)
    )
    in_second = await _post(other_ws, scheduled_at=at("2027-03-10T12:00:00"))
    await _entry(other_ws, title="Second's plan", scheduled_date="2027-03-10")
    stranger = await _api(client, app, factory)
    theirs = await _post(stranger, scheduled_at=at("2027-03-10T12:00:00"))
    await _entry(stranger, title="Stranger's plan", scheduled_date="2027-03-10")
    await sign_in_tenant(client, api.tenant)

    first = (await client.get("/calendar?mode=test&date=2027-03-10")).text
    assert _posts_on_page(first) == {mine}
    assert "Second&#39;s plan" not in first
    assert "Stranger" not in first
    assert '<select id="calendar-workspace" name="workspace">' in first
    second = (await client.get(f"/calendar?workspace={second_ws}&mode=test&date=2027-03-10")).text
    assert _posts_on_page(second) == {in_second}
    assert "Second&#39;s plan" in second
    assert f"/posts/{in_second}?workspace={second_ws}" in second
    foreign = await client.get(
        f"/calendar?workspace={stranger.tenant.workspace_id}&mode=test&date=2027-03-10"
    )
    assert foreign.status_code == 404
    assert theirs not in foreign.text


async def test_live_and_test_mode_are_apart(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    sandbox = await _api(client, app, factory, mode="test")
    live = await _api(client, app, factory, tenant=sandbox.tenant, mode="live")
    test_post = await _post(sandbox, scheduled_at=at("2027-03-10T12:00:00"))
    live_post = await _post(live, scheduled_at=at("2027-03-10T12:00:00"))
    await _entry(sandbox, title="Test plan", scheduled_date="2027-03-11")
    await _entry(live, title="Live plan", scheduled_date="2027-03-11")
    await sign_in_tenant(client, sandbox.tenant)

    live_page = (await client.get("/calendar?date=2027-03-10")).text  # live is the default
    assert _posts_on_page(live_page) == {live_post}
    assert "Live plan" in live_page
    assert "Test plan" not in live_page
    assert 'aria-current="page">Live<' in live_page
    test_page = (await client.get("/calendar?mode=test&date=2027-03-10")).text
    assert _posts_on_page(test_page) == {test_post}
    assert "Test plan" in test_page
    assert "Live plan" not in test_page
    assert 'aria-current="page">Test mode<' in test_page


async def test_a_full_day_links_to_its_week_and_odd_parameters_fall_back(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    api = await _api(client, app, factory)
    busy = [await _post(api, scheduled_at=at(f"2027-03-10T0{h}:00:00")) for h in range(1, 7)]
    await sign_in_tenant(client, api.tenant)

    month = (await client.get("/calendar?mode=test&date=2027-03-10")).text
    cell = _cell(month, "2027-03-10")
    assert _posts_on_page(cell) == set(busy[:4])  # the earliest four
    assert "2 more" in cell
    assert "view=week&amp;date=2027-03-10" in cell
    week = (await client.get("/calendar?mode=test&view=week&date=2027-03-10")).text
    assert _posts_on_page(week) == set(busy)

    for query in ("date=2027-02-30", "date=yesterday", "date=0001-01-01", "view=year", "tz=Mars/Base", "mode=both"):  # fmt: skip
        response = await client.get(f"/calendar?{query}")
        assert response.status_code == 200, query
        assert '<option value="UTC" selected>' in response.text
    assert (await client.get("/calendar?workspace=not-a-uuid")).status_code == 404
    client.cookies.clear()
    signed_out = await client.get("/calendar")
    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == "/login?next=/calendar"

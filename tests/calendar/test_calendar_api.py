"""powerpost-api.md §9: calendar entries, every rule, through the HTTP layer."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.fixtures.factories import Factory, Tenant, headers

from powerpost.calendar import service
from powerpost.kit.clock import utcnow
from powerpost.kit.ids import new_id
from powerpost.models import CalendarEntry

URL = "/api/v1/calendar/entries"


async def _tenant(factory: Factory, **key: Any) -> tuple[Tenant, dict[str, str]]:
    tenant = await factory.account()
    _, secret = await factory.key(tenant, **key)
    return tenant, headers(secret, tenant.workspace_id)


def _field(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    return str(error["details"][0]["field"])


async def test_create_read_update_delete(client: httpx.AsyncClient, factory: Factory) -> None:
    _, h = await _tenant(factory)
    created = await client.post(
        URL,
        headers=h,
        json={
            "title": "  Autumn menu teaser  ",
            "description": "Three photos of the new dishes",
            "scheduled_date": "2027-10-03",
            "scheduled_time": "09:30",
            "platforms": ["instagram", "x", "instagram"],
        },
    )
    assert created.status_code == 200, created.text
    entry = created.json()
    assert entry["title"] == "Autumn menu teaser"
    assert entry["platforms"] == ["instagram", "x"]  # repeats collapsed, order kept
    assert entry["status"] == "planned"
    assert entry["scheduled_date"] == "2027-10-03"
    assert entry["scheduled_time"] == "09:30"
    assert entry["created_at"].endswith("Z")
    assert entry["updated_at"] == entry["created_at"]
    entry_url = f"{URL}/{entry['entry_id']}"

    fetched = await client.get(entry_url, headers=h)
    assert fetched.json() == entry

    cleared = await client.patch(
        entry_url,
        headers=h,
        json={"description": None, "scheduled_time": None, "platforms": ["tiktok"]},
    )
    assert cleared.status_code == 200, cleared.text
    body = cleared.json()
    assert body["description"] is None
    assert body["scheduled_time"] is None
    assert body["platforms"] == ["tiktok"]  # replaced whole, not merged
    assert body["title"] == "Autumn menu teaser"  # untouched
    assert (await client.get(entry_url, headers=h)).json() == body

    renamed = await client.patch(
        entry_url, headers=h, json={"title": "Menu", "scheduled_date": "2027-10-04"}
    )
    assert renamed.json()["title"] == "Menu"
    assert renamed.json()["scheduled_date"] == "2027-10-04"

    deleted = await client.delete(entry_url, headers=h)
    assert deleted.status_code == 200
    assert deleted.json() == {"success": True}
    assert (await client.get(entry_url, headers=h)).status_code == 404
    assert (await client.delete(entry_url, headers=h)).status_code == 404
    assert (await client.patch(entry_url, headers=h, json={"title": "x"})).status_code == 404


async def test_minimal_entry_defaults(client: httpx.AsyncClient, factory: Factory) -> None:
    _, h = await _tenant(factory)
    created = await client.post(URL, headers=h, json={"title": "T", "scheduled_date": "2028-02-29"})
    assert created.status_code == 200, created.text
    assert created.json()["description"] is None
    assert created.json()["scheduled_time"] is None
    assert created.json()["platforms"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scheduled_date": "2027-01-01"}, "title"),
        ({"title": "x"}, "scheduled_date"),
        ({"title": "   ", "scheduled_date": "2027-01-01"}, "title"),
        ({"title": "x" * 501, "scheduled_date": "2027-01-01"}, "title"),
        ({"title": 5, "scheduled_date": "2027-01-01"}, "title"),
        ({"title": "x", "description": "d" * 5001, "scheduled_date": "2027-01-01"}, "description"),
        ({"title": "x", "scheduled_date": "2027-02-30"}, "scheduled_date"),
        ({"title": "x", "scheduled_date": "2027-2-3"}, "scheduled_date"),
        ({"title": "x", "scheduled_date": "20270203"}, "scheduled_date"),
        ({"title": "x", "scheduled_date": "2027-02-03T10:00"}, "scheduled_date"),
        (
            {"title": "x", "scheduled_date": "2027-01-01", "scheduled_time": "24:00"},
            "scheduled_time",
        ),
        (
            {"title": "x", "scheduled_date": "2027-01-01", "scheduled_time": "9:30"},
            "scheduled_time",
        ),
        (
            {"title": "x", "scheduled_date": "2027-01-01", "scheduled_time": "09:60"},
            "scheduled_time",
        ),
        (
            {"title": "x", "scheduled_date": "2027-01-01", "scheduled_time": "09:30:00"},
            "scheduled_time",
        ),
        ({"title": "x", "scheduled_date": "2027-01-01", "platforms": ["myspace"]}, "platforms"),
        ({"title": "x", "scheduled_date": "2027-01-01", "platforms": ["Instagram"]}, "platforms"),
        ({"title": "x", "scheduled_date": "2027-01-01", "platforms": "x"}, "platforms"),
        ({"title": "x", "scheduled_date": "2027-01-01", "status": "planned"}, "status"),
    ],
)
async def test_create_refuses_bad_input_naming_the_field(
    client: httpx.AsyncClient, factory: Factory, body: dict[str, Any], field: str
) -> None:
    _, h = await _tenant(factory)
    assert _field(await client.post(URL, headers=h, json=body)) == field


async def test_boundaries_accepted(client: httpx.AsyncClient, factory: Factory) -> None:
    _, h = await _tenant(factory)
    body = {
        "title": "x" * 500,
        "description": "d" * 5000,
        "scheduled_date": "2027-12-31",
        "scheduled_time": "23:59",
        "platforms": ["instagram", "tiktok", "youtube", "x", "facebook", "linkedin"],
    }
    response = await client.post(URL, headers=h, json=body)
    assert response.status_code == 200, response.text
    assert (
        await client.post(URL, headers=h, json={**body, "scheduled_time": "00:00"})
    ).status_code == 200


async def test_patch_rules(client: httpx.AsyncClient, factory: Factory) -> None:
    _, h = await _tenant(factory)
    entry = (
        await client.post(URL, headers=h, json={"title": "T", "scheduled_date": "2027-01-01"})
    ).json()
    entry_url = f"{URL}/{entry['entry_id']}"
    assert _field(await client.patch(entry_url, headers=h, json={})) == "body"
    assert _field(await client.patch(entry_url, headers=h, json={"title": None})) == "title"
    assert _field(await client.patch(entry_url, headers=h, json={"scheduled_date": None})) == (
        "scheduled_date"
    )
    assert _field(await client.patch(entry_url, headers=h, json={"platforms": None})) == "platforms"
    assert _field(await client.patch(entry_url, headers=h, json={"scheduled_time": "7pm"})) == (
        "scheduled_time"
    )
    assert _field(await client.patch(entry_url, headers=h, json={"colour": "red"})) == "colour"
    # a refused PATCH changed nothing
    assert (await client.get(entry_url, headers=h)).json() == entry
    # bad input is a 400 even for an unknown id (the body is checked first)
    assert (
        _field(await client.patch(f"{URL}/{new_id()}", headers=h, json={"title": None})) == "title"
    )


async def test_list_range_and_order(client: httpx.AsyncClient, factory: Factory) -> None:
    _, h = await _tenant(factory)

    async def make(title: str, day: str, time: str | None = None) -> None:
        body: dict[str, Any] = {"title": title, "scheduled_date": day}
        if time is not None:
            body["scheduled_time"] = time
        assert (await client.post(URL, headers=h, json=body)).status_code == 200

    await make("day2 14:00", "2027-03-02", "14:00")
    await make("day2 all day", "2027-03-02")
    await make("day1 late", "2027-03-01", "23:00")
    await make("day2 09:00", "2027-03-02", "09:00")
    await make("day1 all day", "2027-03-01")
    await make("day2 all day, second", "2027-03-02")
    await make("before", "2027-02-28")
    await make("after", "2027-03-04")

    listed = await client.get(
        URL, headers=h, params={"start_date": "2027-03-01", "end_date": "2027-03-03"}
    )
    assert listed.status_code == 200, listed.text
    assert [e["title"] for e in listed.json()["entries"]] == [
        "day1 all day",
        "day1 late",
        "day2 all day",
        "day2 all day, second",
        "day2 09:00",
        "day2 14:00",
    ]
    one_day = await client.get(
        URL, headers=h, params={"start_date": "2027-03-04", "end_date": "2027-03-04"}
    )
    assert [e["title"] for e in one_day.json()["entries"]] == ["after"]


async def test_list_range_rules(client: httpx.AsyncClient, factory: Factory) -> None:
    _, h = await _tenant(factory)

    async def listing(**params: str) -> httpx.Response:
        return await client.get(URL, headers=h, params=params)

    # a whole leap year is 366 days counting both ends: allowed; one more day is not
    assert (await listing(start_date="2028-01-01", end_date="2028-12-31")).status_code == 200
    assert _field(await listing(start_date="2028-01-01", end_date="2029-01-01")) == "end_date"
    assert _field(await listing(start_date="2027-03-02", end_date="2027-03-01")) == "end_date"
    assert _field(await listing(start_date="2027-03-01")) == "end_date"
    assert _field(await listing(end_date="2027-03-01")) == "start_date"
    assert _field(await listing(start_date="", end_date="2027-03-01")) == "start_date"
    assert _field(await listing(start_date="2027-13-01", end_date="2027-03-01")) == "start_date"
    assert _field(await listing(start_date="2027-03-01", end_date="x" * 200)) == "end_date"


async def test_test_and_live_keys_see_only_their_own_mode(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    owner = await factory.account()
    _, live = await factory.key(owner, name="live")
    _, test = await factory.key(owner, name="test", mode="test")
    live_h = headers(live, owner.workspace_id)
    test_h = headers(test, owner.workspace_id)
    body = {"title": "plan", "scheduled_date": "2027-05-05"}
    live_entry = (await client.post(URL, headers=live_h, json=body)).json()
    test_entry = (await client.post(URL, headers=test_h, json={**body, "title": "sandbox"})).json()
    params = {"start_date": "2027-05-01", "end_date": "2027-05-31"}
    assert [
        e["title"] for e in (await client.get(URL, headers=live_h, params=params)).json()["entries"]
    ] == ["plan"]
    assert [
        e["title"] for e in (await client.get(URL, headers=test_h, params=params)).json()["entries"]
    ] == ["sandbox"]
    for h, other in ((live_h, test_entry), (test_h, live_entry)):
        url = f"{URL}/{other['entry_id']}"
        assert (await client.get(url, headers=h)).status_code == 404
        assert (await client.patch(url, headers=h, json={"title": "x"})).status_code == 404
        assert (await client.delete(url, headers=h)).status_code == 404


async def test_scopes(client: httpx.AsyncClient, factory: Factory) -> None:
    owner = await factory.account()
    _, reader = await factory.key(owner, "read_only", name="reader")
    h = headers(reader, owner.workspace_id)
    refused = await client.post(URL, headers=h, json={"title": "x", "scheduled_date": "2027-01-01"})
    assert refused.status_code == 403
    assert refused.json()["error"]["required_scope"] == "calendar:write"
    params = {"start_date": "2027-01-01", "end_date": "2027-01-02"}
    assert (await client.get(URL, headers=h, params=params)).status_code == 200
    no_workspace = await client.get(URL, headers=headers(reader), params=params)
    assert no_workspace.status_code == 400


async def test_workspace_cap(
    client: httpx.AsyncClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner, h = await _tenant(factory)
    monkeypatch.setattr(service, "MAX_ENTRIES", 3)
    now = utcnow()
    async with factory.db.write() as session:
        for mode in ("live", "test"):
            session.add(
                CalendarEntry(
                    id=new_id(),
                    account_id=owner.account_id,
                    workspace_id=owner.workspace_id,
                    mode=mode,
                    title="seeded",
                    description=None,
                    scheduled_date=now.date(),
                    scheduled_time=None,
                    platforms=[],
                    status="planned",
                    created_at=now,
                    updated_at=now,
                )
            )
    body = {"title": "x", "scheduled_date": "2027-01-01"}
    third = await client.post(URL, headers=h, json=body)
    assert third.status_code == 200
    full = await client.post(URL, headers=h, json=body)
    assert full.status_code == 409
    assert full.json()["error"]["code"] == "CALENDAR_FULL"
    assert (await client.delete(f"{URL}/{third.json()['entry_id']}", headers=h)).status_code == 200
    assert (await client.post(URL, headers=h, json=body)).status_code == 200

"""GET /content/generations: newest first, keyset pages that stay stable while rows are
inserted, an opaque cursor validated strictly, the status filter, and the item shape."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from tests.generation.support import GENERATIONS, Api

from powerpost.kit.clock import utcnow
from powerpost.kit.errors import ValidationError
from powerpost.kit.ids import new_id
from powerpost.kit.pagination import decode_cursor, encode_cursor
from powerpost.models import Generation

SUMMARY_FIELDS = {
    "generation_id",
    "status",
    "prompt",
    "platforms",
    "research_mode",
    "credits_used",
    "created_at",
}


async def insert(
    app: FastAPI, api: Api, created_at: datetime, *, status: str = "completed", n: int = 1
) -> list[str]:
    ids = [new_id() for _ in range(n)]
    async with app.state.db.write() as session:
        for generation_id in ids:
            session.add(
                Generation(
                    id=generation_id,
                    account_id=api.tenant.account_id,
                    workspace_id=api.tenant.workspace_id,
                    api_key_id=api.key_id,
                    status=status,
                    prompt=f"prompt {generation_id[:8]}",
                    post_types=["x-post"],
                    platforms=["x"],
                    research_mode="regular",
                    media_ids=[],
                    writing_style_id=None,
                    cta_text=None,
                    source_urls=[],
                    source_failures=[],
                    credits_used=6,
                    outputs={"x": "hello"} if status == "completed" else None,
                    error_code=None,
                    error_message=None,
                    created_at=created_at,
                    updated_at=created_at,
                    finished_at=None,
                )
            )
    return ids


async def page(api: Api, **params: Any) -> dict[str, Any]:
    response = await api.http.get(GENERATIONS, params=params, headers=api.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_pages_walk_newest_first_and_survive_concurrent_inserts(
    api: Api, app: FastAPI
) -> None:
    base = utcnow() - timedelta(hours=1)
    # ties on created_at are ordered by id, so equal timestamps never split a page wrongly
    original: list[tuple[datetime, str]] = []
    for step in range(6):
        moment = base + timedelta(seconds=step)
        created = await insert(app, api, moment, n=3 if step % 2 else 1)
        original += [(moment, generation_id) for generation_id in created]
    expected = [g for _, g in sorted(original, reverse=True)]

    seen: list[str] = []
    cursor: str | None = None
    inserted_meanwhile: list[str] = []
    while True:
        params: dict[str, Any] = {"limit": 4}
        if cursor is not None:
            params["cursor"] = cursor
        # new generations arrive while the client pages: concurrently with the fetch
        body, new_ids = await asyncio.gather(page(api, **params), insert(app, api, utcnow(), n=2))
        inserted_meanwhile += new_ids
        assert set(body["data"][0]) == SUMMARY_FIELDS
        seen += [item["generation_id"] for item in body["data"]]
        if not body["has_more"]:
            assert body["next_cursor"] is None
            break
        assert isinstance(body["next_cursor"], str)
        cursor = body["next_cursor"]

    walked = [g for g in seen if g not in inserted_meanwhile]
    assert walked == expected
    assert len(seen) == len(set(seen))
    # the first page may have caught the first concurrent insert; later ones never do
    assert set(seen) - set(expected) <= set(inserted_meanwhile[:2])


async def test_the_default_and_largest_limits(api: Api, app: FastAPI) -> None:
    await insert(app, api, utcnow() - timedelta(minutes=5), n=25)
    first = await page(api)
    assert len(first["data"]) == 20
    assert first["has_more"] is True
    rest = await page(api, cursor=first["next_cursor"])
    assert len(rest["data"]) == 5
    assert rest == {"data": rest["data"], "next_cursor": None, "has_more": False}
    everything = await page(api, limit=100)
    assert len(everything["data"]) == 25
    assert everything["has_more"] is False
    exact = await page(api, limit=25)
    assert exact["has_more"] is False
    assert exact["next_cursor"] is None


async def test_the_documented_query_template_with_empty_values(api: Api, app: FastAPI) -> None:
    await insert(app, api, utcnow() - timedelta(minutes=5), n=21)
    # the template as the docs print it, every value left empty: an empty limit is the default
    response = await api.http.get(f"{GENERATIONS}?status=&limit=&cursor=", headers=api.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["data"]) == 20
    assert body["has_more"] is True
    rest = await api.http.get(
        f"{GENERATIONS}?status=&limit=&cursor={body['next_cursor']}", headers=api.headers
    )
    assert rest.status_code == 200, rest.text
    assert len(rest.json()["data"]) == 1
    filled = await api.http.get(
        f"{GENERATIONS}?status=completed&limit=3&cursor=", headers=api.headers
    )
    assert filled.status_code == 200, filled.text
    assert len(filled.json()["data"]) == 3
    # only an empty value means "not given": a blank one is still not a number
    blank = await api.http.get(f"{GENERATIONS}?limit=%20", headers=api.headers)
    assert blank.status_code == 400
    assert blank.json()["error"]["code"] == "VALIDATION_ERROR"
    assert "limit" in blank.json()["error"]["message"]


async def test_status_filter_and_no_outputs_in_items(api: Api, app: FastAPI) -> None:
    now = utcnow()
    done = await insert(app, api, now - timedelta(seconds=3), status="completed", n=2)
    failed = await insert(app, api, now - timedelta(seconds=2), status="failed")
    running = await insert(app, api, now - timedelta(seconds=1), status="processing")
    assert [g["generation_id"] for g in (await page(api, status="failed"))["data"]] == failed
    assert [g["generation_id"] for g in (await page(api, status="processing"))["data"]] == running
    completed = await page(api, status="completed", limit=1)
    assert completed["has_more"] is True
    following = await page(api, status="completed", cursor=completed["next_cursor"])
    assert {completed["data"][0]["generation_id"], following["data"][0]["generation_id"]} == set(
        done
    )
    assert (await page(api, status="pending"))["data"] == []
    # empty parameters mean "not given"
    assert len((await page(api, status="", cursor=""))["data"]) == 4
    for item in (await page(api))["data"]:
        assert set(item) == SUMMARY_FIELDS
        assert item["created_at"].endswith("Z")


BAD_PARAMS: list[dict[str, Any]] = [
    {"limit": 0},
    {"limit": 101},
    {"limit": "ten"},
    {"status": "done"},
    {"cursor": "garbage!"},
    {"cursor": "x" * 300},
    {"cursor": base64.urlsafe_b64encode(b'{"v":2,"t":1,"i":"x"}').decode()},
]


async def test_bad_parameters_are_400(api: Api) -> None:
    for params in BAD_PARAMS:
        response = await api.http.get(GENERATIONS, params=params, headers=api.headers)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def _raw(data: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_cursors_round_trip_to_the_microsecond() -> None:
    moment = datetime(2026, 1, 10, 18, 30, 0, 123456).astimezone()
    row_id = new_id()
    decoded = decode_cursor(encode_cursor(moment, row_id))
    assert decoded.created_at == moment
    assert decoded.id == row_id
    assert "=" not in encode_cursor(moment, row_id)


# a fixed id: parameters must be the same in every xdist worker
_ID = "3f2b6c1e-8a4d-4e7b-9c2a-5d6e7f8a9b0c"


@pytest.mark.parametrize(
    "raw",
    [
        _raw({"v": 1, "t": 1, "i": "not-a-uuid"}),
        _raw({"v": 1, "t": "1", "i": _ID}),
        _raw({"v": 1, "t": True, "i": _ID}),
        _raw({"v": 1, "t": 1, "i": _ID.upper()}),
        _raw({"v": 1, "t": 1, "i": _ID, "x": 1}),
        _raw({"v": 1, "t": 10**30, "i": _ID}),
        _raw([1, 2, 3]),
        "%%%%",
        "ünïcode",
    ],
)
def test_malformed_cursors_are_refused(raw: str) -> None:
    with pytest.raises(ValidationError, match="not a valid cursor"):
        decode_cursor(raw)

"""Posts draw only on media and generations of their own mode: a test key's post cannot use
live media or a live generation, nor a live key's test ones; a foreign-mode id is answered
exactly as a missing one, and nothing is written."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI
from tests.fixtures import modes
from tests.fixtures.factories import Factory
from tests.fixtures.media import count_rows, upload_ok, wait_finished
from tests.generation.support import image_bytes

from powerpost.models import Media, Post

CAPTIONS = {"prompt": "Autumn menu launch", "post_types": ["x-post"], "research_mode": "regular"}


async def _generation(client: httpx.AsyncClient, h: dict[str, str]) -> str:
    response = await client.post("/api/v1/content/generate", json=CAPTIONS, headers=h)
    assert response.status_code == 200, response.text
    generation_id: str = response.json()["generation_id"]
    url = f"/api/v1/content/generations/{generation_id}"
    assert (await wait_finished(client, url, h))["status"] == "completed"
    return generation_id


def _same_as_missing(
    foreign: httpx.Response, missing: httpx.Response, ids: tuple[str, str]
) -> None:
    assert foreign.status_code == missing.status_code == 404, foreign.text
    message = foreign.json()["error"]["message"].replace(ids[0], "?")
    assert message == missing.json()["error"]["message"].replace(ids[1], "?")
    assert foreign.json()["error"]["code"] == missing.json()["error"]["code"]


async def test_posts_cannot_reference_media_or_generations_of_the_other_mode(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    k = await modes.keys(factory)
    photo = image_bytes((1080, 1080))
    media = {
        "live": await upload_ok(client, k.live, photo, "image", "live.png"),
        "test": await upload_ok(client, k.test, photo, "image", "test.png"),
    }
    generations = {
        "live": await _generation(client, k.live),
        "test": await _generation(client, k.test),
    }
    async with app.state.db.read() as session:
        assert (await session.get(Media, media["test"])).mode == "test"  # type: ignore[union-attr]
        assert (await session.get(Media, media["live"])).mode == "live"  # type: ignore[union-attr]

    for h, other in ((k.test, "live"), (k.live, "test")):
        missing = str(uuid.uuid4())

        def with_media(media_id: str) -> dict[str, object]:
            return {
                "items": [{"post_type": "instagram-feed", "content": "Hi", "media_ids": [media_id]}]
            }

        def from_generation(generation_id: str) -> dict[str, object]:
            return {"generation_id": generation_id, "items": [{"post_type": "x-post"}]}

        for body_of, foreign_id in (
            (with_media, media[other]),
            (from_generation, generations[other]),
        ):
            foreign = await client.post("/api/v1/posts", json=body_of(foreign_id), headers=h)
            absent = await client.post("/api/v1/posts", json=body_of(missing), headers=h)
            _same_as_missing(foreign, absent, (foreign_id, missing))
    assert await count_rows(app, Post, account_id=k.tenant.account_id) == 0

    # each mode's own media and generation make a post
    for h, own in ((k.test, "test"), (k.live, "live")):
        made = await client.post(
            "/api/v1/posts",
            json={
                "generation_id": generations[own],
                "items": [
                    {"post_type": "x-post"},
                    {"post_type": "instagram-feed", "content": "Hi", "media_ids": [media[own]]},
                ],
            },
            headers=h,
        )
        assert made.status_code == 200, made.text


async def test_a_draft_cannot_be_edited_to_use_media_of_the_other_mode(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    k = await modes.keys(factory)
    live_photo = await upload_ok(client, k.live, image_bytes((1080, 1080)), "image", "l.png")
    draft = await client.post(
        "/api/v1/posts", json={"items": [{"post_type": "x-post", "content": "Hi"}]}, headers=k.test
    )
    assert draft.status_code == 200, draft.text
    post_id = draft.json()["post_id"]
    edited = await client.patch(
        f"/api/v1/posts/{post_id}",
        json={
            "items": [{"post_type": "instagram-feed", "content": "Hi", "media_ids": [live_photo]}]
        },
        headers=k.test,
    )
    assert edited.status_code == 404, edited.text
    assert "items[0].media_ids" in edited.json()["error"]["message"]
    unchanged = await client.get(f"/api/v1/posts/{post_id}", headers=k.test)
    assert [i["post_type"] for i in unchanged.json()["items"]] == ["x-post"]

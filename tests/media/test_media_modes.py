"""Media belongs to the mode of the key that uploaded it: a test key's uploads are test
media, usable only by test keys, and live media is unknown to them (and the other way
round), answered exactly as an id that does not exist."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI
from tests.fixtures import modes
from tests.fixtures.factories import Factory
from tests.fixtures.media import upload_ok

from powerpost.kit.errors import NotFound
from powerpost.media.service import get_workspace_media, list_media
from powerpost.models import Media


async def test_uploads_take_the_keys_mode_and_are_found_only_in_it(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    k = await modes.keys(factory)
    live = await upload_ok(client, k.live, modes.png("red"), "image", "live.png")
    test = await upload_ok(client, k.test, modes.png("blue"), "image", "test.png")
    workspace = k.tenant.workspace_id
    async with app.state.db.read() as session:
        assert (await session.get(Media, live)).mode == "live"  # type: ignore[union-attr]
        assert (await session.get(Media, test)).mode == "test"  # type: ignore[union-attr]
        for mode, own, foreign in (("live", live, test), ("test", test, live)):
            assert [m.id for m in await get_workspace_media(session, workspace, mode, [own])] == [
                own
            ]
            with pytest.raises(NotFound) as refused:
                await get_workspace_media(session, workspace, mode, [foreign])
            missing = str(uuid.uuid4())
            with pytest.raises(NotFound) as absent:
                await get_workspace_media(session, workspace, mode, [missing])
            assert refused.value.message.replace(foreign, "?") == absent.value.message.replace(
                missing, "?"
            )
            rows, total = await list_media(session, workspace, mode)
            assert ([m.id for m in rows], total) == ([own], 1)
        # the dashboard's person owns both modes and sees both
        rows, total = await list_media(session, workspace, None)
        assert (sorted(m.id for m in rows), total) == (sorted([live, test]), 2)


async def test_generate_calls_refuse_media_of_the_other_mode(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    k = await modes.keys(factory)
    live = await upload_ok(client, k.live, modes.png("red"), "image", "live.png")
    test = await upload_ok(client, k.test, modes.png("blue"), "image", "test.png")
    for h, foreign in ((k.test, live), (k.live, test)):
        for url, body in (
            (
                "/api/v1/content/generate",
                {"media_ids": [foreign], "post_types": ["x-post"], "research_mode": "regular"},
            ),
            ("/api/v1/images/generate", {"prompt": "x", "style_images": [foreign]}),
            ("/api/v1/videos/generate", {"prompt": "x", "duration": 5, "source_image": foreign}),
        ):
            response = await client.post(url, json=body, headers=h)
            assert response.status_code == 404, (url, response.text)
            assert response.json()["error"]["message"] == f"Media '{foreign}' not found"

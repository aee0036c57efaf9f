"""Post mode: an image for one platform's caption of a completed caption generation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from tests.fixtures.factories import Factory
from tests.images.support import Api, api_for, nothing_written

from powerpost.images.providers.base import ImageRequest
from powerpost.images.providers.offline import encode_png, render_card
from powerpost.kit.clock import utcnow
from powerpost.kit.ids import new_id
from powerpost.models import Generation, ImageGeneration

INSTAGRAM = (
    "Our autumn menu is here! Pumpkin soup, warm sourdough and spiced cider all week. "
    "Book a table at https://example.com/book #autumn #food @ourbistro"
)
YOUTUBE = {"title": "Autumn Menu Tour", "description": "A walk through every new dish."}
X_POST = "Autumn menu: pumpkin soup and spiced cider. #autumn"


@pytest.fixture
async def api(client: httpx.AsyncClient, app: FastAPI, factory: Factory) -> Api:
    return await api_for(client, app, factory)


async def caption_generation(
    api: Api, *, status: str = "completed", workspace_id: str | None = None
) -> str:
    """A caption generation as the caption feature leaves it (written directly: this file
    tests the image side of post mode)."""
    now = utcnow()
    generation_id = new_id()
    outputs: dict[str, Any] | None = (
        {"instagram": INSTAGRAM, "youtube": YOUTUBE, "x": X_POST} if status == "completed" else None
    )
    async with api.app.state.db.write() as session:
        session.add(
            Generation(
                id=generation_id,
                account_id=api.account_id,
                workspace_id=workspace_id or api.workspace_id,
                api_key_id=None,
                status=status,
                prompt="Autumn menu launch",
                post_types=["instagram-feed", "youtube-short", "x-post"],
                platforms=["instagram", "youtube", "x"],
                research_mode="regular",
                media_ids=[],
                writing_style_id=None,
                cta_text=None,
                source_urls=[],
                source_failures=[],
                credits_used=6,
                outputs=outputs,
                error_code=None,
                error_message=None,
                created_at=now,
                updated_at=now,
                finished_at=now if status == "completed" else None,
            )
        )
    return generation_id


async def row(api: Api, image_generation_id: str) -> ImageGeneration:
    async with api.app.state.db.read() as session:
        found: ImageGeneration | None = await session.get(ImageGeneration, image_generation_id)
    assert found is not None
    return found


async def test_without_prompt_the_first_post_types_caption_is_drawn(api: Api) -> None:
    generation_id = await caption_generation(api)
    response = await api.post("/images/generate", {"generation_id": generation_id})
    assert response.status_code == 200, response.text
    assert response.json()["credits_used"] == 5
    done = await api.finished(response.json()["status_url"])
    assert done["status"] == "completed", done

    # the shown prompt is the caption without its link, hashtags and mention
    assert done["prompt"] == (
        "Our autumn menu is here! Pumpkin soup, warm sourdough and spiced cider all week. "
        "Book a table at"
    )
    stored = await row(api, done["image_generation_id"])
    assert stored.input_mode == "post"
    assert (stored.source_generation_id, stored.source_post_type) == (
        generation_id,
        "instagram-feed",
    )
    assert stored.caption == INSTAGRAM

    # the picture is exactly the offline card for that caption (headline = first sentence)
    expected = render_card(
        ImageRequest(
            prompt="",
            size="square",
            model="flux2-flex",
            quantity=1,
            enhance_prompt=False,
            caption=INSTAGRAM,
        )
    )
    assert expected.layout.headline == "Our autumn menu is here!"
    (image,) = done["images"]
    assert (await api.fetch(image["url"])).content == encode_png(expected.image)


async def test_source_post_type_picks_the_platform_and_prompt_directs(api: Api) -> None:
    generation_id = await caption_generation(api)
    response = await api.post(
        "/images/generate",
        {
            "generation_id": generation_id,
            "source_post_type": "youtube-short",
            "prompt": "Warm kitchen close-up",
            "size": "portrait",
        },
    )
    assert response.status_code == 200, response.text
    done = await api.finished(response.json()["status_url"])
    assert done["status"] == "completed"
    assert done["prompt"] == "Warm kitchen close-up"
    stored = await row(api, done["image_generation_id"])
    assert stored.source_post_type == "youtube-short"
    assert stored.caption == "Autumn Menu Tour\nA walk through every new dish."
    (image,) = done["images"]
    assert (image["width"], image["height"]) == (1080, 1920)


async def test_post_type_outside_the_generation_is_400(api: Api) -> None:
    generation_id = await caption_generation(api)
    response = await api.post(
        "/images/generate", {"generation_id": generation_id, "source_post_type": "tiktok-video"}
    )
    assert response.status_code == 400, response.text
    assert "instagram-feed, youtube-short, x-post" in response.json()["error"]["message"]
    await nothing_written(api, 50)


async def test_unfinished_generation_is_409(api: Api) -> None:
    generation_id = await caption_generation(api, status="processing")
    response = await api.post("/images/generate", {"generation_id": generation_id})
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "INVALID_STATE"
    await nothing_written(api, 50)


async def test_generation_of_another_workspace_or_account_is_404(
    api: Api, client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    second_workspace = await factory.workspace(api.tenant)
    elsewhere = await caption_generation(api, workspace_id=second_workspace)
    other = await api_for(client, app, factory)
    theirs = await caption_generation(other)
    for generation_id in (elsewhere, theirs):
        response = await api.post("/images/generate", {"generation_id": generation_id})
        assert response.status_code == 404, response.text
    await nothing_written(api, 50)

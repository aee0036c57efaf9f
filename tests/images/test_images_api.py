"""POST /images/generate and GET /images/generations/{id} over HTTP with the offline provider
and the in-process job engine: real PNGs, credits per the price table, webhook events."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from tests.fixtures.factories import Factory, headers
from tests.images.support import (
    Api,
    api_for,
    count,
    decode_image,
    events,
    ledger,
    media_row,
    nothing_written,
    png_bytes,
    tiny_mp4,
    without_urls,
)

from powerpost.models import ImageGeneration, ImageGenerationImage, Media

PIXELS = {
    "square": (1024, 1024),
    "feed": (1080, 1350),
    "portrait": (1080, 1920),
    "landscape": (1920, 1080),
}
PRICES = {"flux2-flex": 5, "ideogram-3": 6, "nano-banana-2": 6, "gpt-image-1.5": 14}


@pytest.fixture
async def api(client: httpx.AsyncClient, app: FastAPI, factory: Factory) -> Api:
    return await api_for(client, app, factory)


async def test_text_mode_stores_a_png_charges_the_price_and_reports_it(api: Api) -> None:
    started = await api.post("/images/generate", {"prompt": "Ocean blue sunset over a pier"})
    assert started.status_code == 200, started.text
    body = started.json()
    generation_id = body["image_generation_id"]
    assert body == {
        "image_generation_id": generation_id,
        "status": "processing",
        "credits_used": 5,
        "remaining_credits": 45,
        "status_url": f"/api/v1/images/generations/{generation_id}",
    }

    done = await api.finished(body["status_url"])
    assert done["status"] == "completed", done
    assert done["prompt"] == "Ocean blue sunset over a pier"
    assert (done["size"], done["quantity"], done["model"]) == ("square", 1, "flux2-flex")
    assert done["created_at"].endswith("Z")
    assert "error" not in done
    (image,) = done["images"]
    assert (image["width"], image["height"]) == (1024, 1024)

    picture = await decode_image(api, image["url"])
    assert picture.format == "PNG"
    assert picture.size == (1024, 1024)
    thumbnail = await decode_image(api, image["thumbnail_url"])
    assert thumbnail.format == "JPEG"
    assert max(thumbnail.size) <= 480

    media = await media_row(api.app, image["media_id"])
    assert (media.workspace_id, media.kind, media.origin) == (
        api.workspace_id,
        "image",
        "generated",
    )
    assert media.mime_type == "image/png"

    assert await api.balance() == 45
    assert await ledger(api.app, api.account_id, f"image_generation:{generation_id}") == [
        ("hold", -5)
    ]
    (event,) = await events(api.app, api.workspace_id, "image_generation.")
    assert event["event"] == "image_generation.completed"
    assert event["workspace_id"] == api.workspace_id
    assert without_urls(event["data"]) == without_urls(done)


async def test_every_size_has_its_pixels(api: Api) -> None:
    started = {}
    for size in PIXELS:
        response = await api.post(
            "/images/generate", {"prompt": f"Launch day {size}", "size": size}
        )
        assert response.status_code == 200, response.text
        started[size] = response.json()["status_url"]
    for size, url in started.items():
        done = await api.finished(url)
        assert done["status"] == "completed"
        assert done["size"] == size
        (image,) = done["images"]
        assert (image["width"], image["height"]) == PIXELS[size]
        picture = await decode_image(api, image["url"])
        assert (picture.format, picture.size) == ("PNG", PIXELS[size])


async def test_quantity_four_gives_four_distinct_media(api: Api) -> None:
    response = await api.post(
        "/images/generate",
        {"prompt": "Fresh bread at the corner bakery", "quantity": 4, "model": "ideogram-3"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["credits_used"] == 24
    done = await api.finished(response.json()["status_url"])
    assert done["status"] == "completed"
    assert done["quantity"] == 4
    ids = [i["media_id"] for i in done["images"]]
    assert len(set(ids)) == 4
    contents = {(await api.fetch(i["url"])).content for i in done["images"]}
    assert len(contents) == 4  # four variations, not one picture four times
    assert await api.balance() == 50 - 24
    assert await count(api.app, Media, workspace_id=api.workspace_id) == 4


async def test_each_model_costs_its_price_per_picture(api: Api) -> None:
    await api.grant(100)
    expected_balance = 150
    urls = []
    for model, price in PRICES.items():
        response = await api.post(
            "/images/generate", {"prompt": f"Price check {model}", "model": model, "quantity": 2}
        )
        assert response.status_code == 200, response.text
        expected_balance -= 2 * price
        assert response.json()["credits_used"] == 2 * price
        assert response.json()["remaining_credits"] == expected_balance
        urls.append(response.json()["status_url"])
    for url in urls:
        assert (await api.finished(url))["status"] == "completed"
    assert await api.balance() == 150 - 2 * sum(PRICES.values())


async def test_reference_mode_uses_the_style_images(api: Api) -> None:
    red = await api.upload(png_bytes((300, 200), (220, 20, 20)), "image", "red.png")
    orange = await api.upload(png_bytes((200, 300), (230, 90, 10)), "image", "orange.png")
    response = await api.post(
        "/images/generate",
        {"prompt": "Spring collection", "style_images": [red, orange], "size": "landscape"},
    )
    assert response.status_code == 200, response.text
    done = await api.finished(response.json()["status_url"])
    assert done["status"] == "completed"
    (image,) = done["images"]
    picture = (await decode_image(api, image["url"])).convert("RGB")
    assert picture.size == (1920, 1080)
    r, g, b = picture.resize((1, 1), resample=4).getpixel((0, 0))  # type: ignore[misc]
    # the background comes from the red references
    assert r > g
    assert r > b
    async with api.app.state.db.read() as session:
        row = await session.get(ImageGeneration, done["image_generation_id"])
    assert row is not None
    assert (row.input_mode, row.style_media_ids) == ("reference", [red, orange])


async def test_enhance_prompt_changes_the_picture(api: Api) -> None:
    plain = await api.post("/images/generate", {"prompt": "Coffee tasting night"})
    enhanced = await api.post(
        "/images/generate", {"prompt": "Coffee tasting night", "enhance_prompt": True}
    )
    first = await api.finished(plain.json()["status_url"])
    second = await api.finished(enhanced.json()["status_url"])
    a = (await api.fetch(first["images"][0]["url"])).content
    b = (await api.fetch(second["images"][0]["url"])).content
    assert a != b


# --- validation -----------------------------------------------------------------------------

LONG = "x" * 2001
SOME_ID = "7f1c0e5e-1b8e-4a8b-9a55-0a0d2c3b4e5f"


INVALID: list[tuple[dict[str, Any], str]] = [
    ({}, "prompt"),
    ({"prompt": "   "}, "prompt"),
    ({"prompt": LONG}, "prompt"),
    ({"prompt": "ok", "quantity": 0}, "quantity"),
    ({"prompt": "ok", "quantity": 5}, "quantity"),
    ({"prompt": "ok", "quantity": "2"}, "quantity"),
    ({"prompt": "ok", "quantity": 1.5}, "quantity"),
    ({"prompt": "ok", "size": "huge"}, "size"),
    ({"prompt": "ok", "size": None}, "size"),
    ({"prompt": "ok", "model": "dall-e-3"}, "model"),
    ({"prompt": "ok", "model": "gpt-image-1.5", "size": "feed"}, "feed"),
    ({"prompt": "ok", "enhance_prompt": "yes"}, "enhance_prompt"),
    ({"prompt": "ok", "colour": "blue"}, "colour"),
    ({"prompt": "ok", "style_images": ["a", "b", "c", "d", "e"]}, "style_images"),
    ({"prompt": "ok", "style_images": "abc"}, "style_images"),
    ({"prompt": "ok", "source_post_type": "x-post"}, "generation_id"),
    ({"prompt": "ok", "generation_id": SOME_ID, "style_images": [SOME_ID]}, "style_images"),
    ({"prompt": "ok", "style_images": [SOME_ID, SOME_ID]}, "more than once"),
    ({"prompt": "ok", "style_images": [SOME_ID, SOME_ID.upper()]}, "more than once"),
    ({"prompt": "  " + LONG + "  "}, "at most 2000"),
    ({"generation_id": SOME_ID, "source_post_type": "myspace-post"}, "post type"),
]


async def test_invalid_bodies_are_400_and_write_nothing(api: Api) -> None:
    for body, fragment in INVALID:
        response = await api.post("/images/generate", body)
        assert response.status_code == 400, (body, response.text)
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR", body
        assert fragment in error["message"], (body, error["message"])
    not_json = await api.http.post(
        "/api/v1/images/generate",
        content=b"{prompt",
        headers={**api.headers, "content-type": "application/json"},
    )
    assert not_json.status_code == 400
    await nothing_written(api, 50)


async def test_gpt_image_takes_every_size_but_feed_and_prompt_2000_is_accepted(api: Api) -> None:
    await api.grant(100)
    ok = await api.post(
        "/images/generate", {"prompt": "y" * 2000, "model": "gpt-image-1.5", "size": "portrait"}
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["credits_used"] == 14
    assert (await api.finished(ok.json()["status_url"]))["status"] == "completed"


async def test_a_prompt_is_measured_without_its_surrounding_whitespace(api: Api) -> None:
    response = await api.post("/images/generate", {"prompt": "\n  " + "z" * 2000 + "  \t"})
    assert response.status_code == 200, response.text
    done = await api.finished(response.json()["status_url"])
    assert done["status"] == "completed"
    assert done["prompt"] == "z" * 2000


async def test_a_style_image_listed_twice_is_refused(api: Api) -> None:
    red = await api.upload(png_bytes((30, 20), (220, 20, 20)), "image", "red.png")
    blue = await api.upload(png_bytes((30, 20), (20, 20, 220)), "image", "blue.png")
    response = await api.post(
        "/images/generate", {"prompt": "Styled", "style_images": [red, blue, red]}
    )
    assert response.status_code == 400, response.text
    message = f"'style_images' lists '{red}' more than once"
    assert response.json()["error"] == {
        "code": "VALIDATION_ERROR",
        "message": message,
        "details": [{"field": "style_images", "message": message}],
    }
    await nothing_written(api, 50)


async def test_unknown_or_foreign_style_images_are_404(
    api: Api, client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    other = await api_for(client, app, factory)
    foreign = await other.upload(png_bytes(), "image", "theirs.png")
    second_workspace = await factory.workspace(api.tenant)
    _, secret = await factory.key(api.tenant, name="second")
    elsewhere = await client.post(
        "/api/v1/media/upload",
        headers=headers(secret, second_workspace),
        files={"file": ("mine.png", png_bytes(), "application/octet-stream")},
        data={"type": "image"},
    )
    assert elsewhere.status_code == 200
    mine = await api.upload(png_bytes(), "image", "mine.png")
    for missing in (
        foreign,
        elsewhere.json()["media_id"],
        "9b2f6f3e-3a4d-4c1e-8f7a-1d2c3b4a5e6f",
        "not-a-uuid",
    ):
        response = await api.post(
            "/images/generate", {"prompt": "Styled", "style_images": [mine, missing]}
        )
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "NOT_FOUND"
    await nothing_written(api, 50)


async def test_a_video_as_style_image_is_400(api: Api, tmp_path: Path) -> None:
    clip = await asyncio.to_thread(tiny_mp4, tmp_path / "clip.mp4", seconds=0.5)
    video = await api.upload(clip.read_bytes(), "video", "clip.mp4")
    response = await api.post("/images/generate", {"prompt": "Styled", "style_images": [video]})
    assert response.status_code == 400, response.text
    assert "video" in response.json()["error"]["message"]
    await nothing_written(api, 50)


async def test_unknown_generation_id_is_404(api: Api) -> None:
    for generation_id in ("1d0b8a9e-7d1c-4f3e-9b2a-5c6d7e8f9a0b", "nope"):
        response = await api.post("/images/generate", {"generation_id": generation_id})
        assert response.status_code == 404, response.text
    await nothing_written(api, 50)


async def test_not_enough_credits_is_402_and_writes_nothing(api: Api) -> None:
    response = await api.post(
        "/images/generate", {"prompt": "Four pricey ones", "model": "gpt-image-1.5", "quantity": 4}
    )
    assert response.status_code == 402, response.text
    assert response.json()["error"]["code"] == "INSUFFICIENT_CREDITS"
    await nothing_written(api, 50)
    assert await ledger(api.app, api.account_id, "image_generation:") == []


async def test_generations_are_private_to_their_workspace(
    api: Api, client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    response = await api.post("/images/generate", {"prompt": "Mine only"})
    url = response.json()["status_url"]
    await api.finished(url)
    other = await api_for(client, app, factory)
    assert (await other.http.get(url, headers=other.headers)).status_code == 404
    second_workspace = await factory.workspace(api.tenant)
    same_account = await client.get(url, headers=headers(api.secret, second_workspace))
    assert same_account.status_code == 404
    for unknown in ("0b5c7e0a-4a1f-4d59-8c61-1f2e3d4c5b6a", "garbage"):
        missing = await api.get(f"/images/generations/{unknown}")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "NOT_FOUND"


async def test_read_only_key_cannot_generate(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    tenant = await factory.account()
    _, secret = await factory.key(tenant, "read_only")
    response = await client.post(
        "/api/v1/images/generate",
        json={"prompt": "No"},
        headers=headers(secret, tenant.workspace_id),
    )
    assert response.status_code == 403
    assert response.json()["error"]["required_scope"] == "images:generate"
    assert await count(app, ImageGenerationImage) == 0

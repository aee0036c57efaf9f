"""POST /videos/generate and GET /videos/generations/{id} over HTTP with the offline (ffmpeg)
provider and the in-process job engine; the stored MP4s are probed and decoded. Only two
real renders (4 s and 5 s): every other test is refused before a job starts."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image
from tests.fixtures.factories import Factory
from tests.images.support import (
    Api,
    api_for,
    decode_image,
    events,
    ledger,
    media_row,
    nothing_written,
    probe_video,
    streams,
    tiny_mp4,
    without_urls,
)

from powerpost.kit.ffmpeg import ffmpeg_exe, input_url, run_tool


@pytest.fixture
async def api(client: httpx.AsyncClient, app: FastAPI, factory: Factory) -> Api:
    return await api_for(client, app, factory)


def first_frame(path: Path) -> Image.Image:
    args = [ffmpeg_exe(), "-v", "error", "-i", input_url(path), "-frames:v", "1"]
    png = run_tool([*args, "-f", "image2pipe", "-c:v", "png", "-"], timeout=30)
    return Image.open(io.BytesIO(png)).convert("RGB")


async def test_text_to_video_with_audio_is_an_h264_mp4_with_aac(api: Api, tmp_path: Path) -> None:
    response = await api.post(
        "/videos/generate",
        {"prompt": "Pumpkin soup steaming on a wooden table", "model": "veo-3.1", "duration": 4,
         "has_audio": True},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    started = response.json()
    generation_id = started["video_generation_id"]
    # veo-3.1: 4 credits a second, x1.5 with audio
    assert started == {
        "video_generation_id": generation_id,
        "status": "processing",
        "credits_used": 24,
        "remaining_credits": 26,
        "status_url": f"/api/v1/videos/generations/{generation_id}",
    }

    done = await api.finished(started["status_url"], within=90)
    assert done["status"] == "completed", done
    assert (done["prompt"], done["size"], done["duration"]) == (
        "Pumpkin soup steaming on a wooden table",
        "landscape",
        4,
    )
    assert (done["has_audio"], done["model"]) == (True, "veo-3.1")
    assert "error" not in done
    video = done["video"]
    assert (video["width"], video["height"]) == (1280, 720)
    assert video["duration"] == pytest.approx(4.0, abs=0.05)

    info = await probe_video(api, video["url"], tmp_path / "out.mp4")
    assert info["format"]["format_name"].startswith("mov,mp4")
    (stream,) = streams(info, "video")
    assert (stream["codec_name"], stream["pix_fmt"]) == ("h264", "yuv420p")
    assert (stream["width"], stream["height"]) == (1280, 720)
    assert float(info["format"]["duration"]) == pytest.approx(4.0, abs=0.05)
    (audio,) = streams(info, "audio")
    assert audio["codec_name"] == "aac"
    assert float(audio["duration"]) == pytest.approx(4.0, abs=0.05)

    thumbnail = await decode_image(api, video["thumbnail_url"])
    assert thumbnail.format == "JPEG"
    media = await media_row(api.app, video["media_id"])
    assert (media.kind, media.origin, media.mime_type) == ("video", "generated", "video/mp4")
    assert media.has_audio is True

    assert await api.balance() == 26
    assert await ledger(api.app, api.account_id, f"video_generation:{generation_id}") == [
        ("hold", -24)
    ]
    (event,) = await events(api.app, api.workspace_id, "video_generation.")
    assert event["event"] == "video_generation.completed"
    assert without_urls(event["data"]) == without_urls(done)


async def test_image_to_video_is_portrait_silent_and_shows_the_source(
    api: Api, tmp_path: Path
) -> None:
    source = Image.new("RGB", (600, 900), (20, 150, 140))
    buffer = io.BytesIO()
    source.save(buffer, format="JPEG", quality=95)
    source_id = await api.upload(buffer.getvalue(), "image", "teal.jpg")

    response = await api.post(
        "/videos/generate",
        {"prompt": "Slow push-in", "duration": 5, "size": "portrait", "source_image": source_id},
    )
    assert response.status_code == 200, response.text
    assert response.json()["credits_used"] == 15  # kling-3.0-pro: 3 a second, no audio
    done = await api.finished(response.json()["status_url"], within=90)
    assert done["status"] == "completed", done
    assert done["model"] == "kling-3.0-pro"
    assert done["has_audio"] is False

    target = tmp_path / "out.mp4"
    info = await probe_video(api, done["video"]["url"], target)
    (stream,) = streams(info, "video")
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("h264", 720, 1280)
    assert streams(info, "audio") == []
    assert float(info["format"]["duration"]) == pytest.approx(5.0, abs=0.05)
    frame = await asyncio.to_thread(first_frame, target)
    r, g, b = frame.resize((1, 1), resample=Image.Resampling.BOX).getpixel((0, 0))  # type: ignore[misc]
    assert abs(r - 20) < 16
    assert abs(g - 150) < 16
    assert abs(b - 140) < 16
    assert await api.balance() == 35


# --- refused before anything starts ---------------------------------------------------------


def body(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"prompt": "A calm sea", "duration": 5}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


INVALID: list[tuple[dict[str, Any], str]] = [
    (body(prompt=...), "prompt"),
    (body(duration=...), "duration"),
    (body(prompt="   "), "prompt"),
    (body(duration=4), "5 or 10 seconds for kling-3.0-pro"),
    (body(duration=5, model="veo-3.1"), "4 or 8 seconds for veo-3.1"),
    (body(duration=8, model="runway-gen-4.5"), "5 or 10 seconds for runway-gen-4.5"),
    (body(duration=0), "duration"),
    (body(duration=-5), "duration"),
    (body(duration="5"), "duration"),
    (body(duration=5.0), "duration"),
    (body(prompt="p" * 2501), "at most 2500"),
    (body(prompt="p" * 3001, model="veo-3.1", duration=4), "prompt"),
    (body(prompt="p" * 1001, model="runway-gen-4.5"), "at most 1000"),
    (body(model="runway-gen-4.5", has_audio=True), "audio"),
    (body(size="square"), "size"),
    (body(size="feed"), "size"),
    (body(model="sora-2"), "model"),
    (body(has_audio="yes"), "has_audio"),
    (body(enhance_prompt=1), "enhance_prompt"),
    (body(fps=30), "fps"),
    (body(source_image=17), "source_image"),
]


async def test_invalid_bodies_are_400_and_write_nothing(api: Api) -> None:
    for invalid, fragment in INVALID:
        response = await api.post("/videos/generate", invalid)
        assert response.status_code == 400, (invalid, response.text)
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert fragment in error["message"], (fragment, error["message"])
    await nothing_written(api, 50)


async def test_source_image_must_be_an_image_of_this_workspace(
    api: Api, client: httpx.AsyncClient, app: FastAPI, factory: Factory, tmp_path: Path
) -> None:
    clip = await asyncio.to_thread(tiny_mp4, tmp_path / "clip.mp4", seconds=0.5)
    video_id = await api.upload(clip.read_bytes(), "video", "clip.mp4")
    response = await api.post("/videos/generate", body(source_image=video_id))
    assert response.status_code == 400, response.text
    assert "must be an image" in response.json()["error"]["message"]

    other = await api_for(client, app, factory)
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), (1, 2, 3)).save(buffer, format="PNG")
    foreign = await other.upload(buffer.getvalue(), "image", "theirs.png")
    for missing in (foreign, "3c1f2e4d-5b6a-4789-8a9b-0c1d2e3f4a5b", "nope"):
        response = await api.post("/videos/generate", body(source_image=missing))
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "NOT_FOUND"
    await nothing_written(api, 50)


async def test_not_enough_credits_is_402_and_writes_nothing(api: Api) -> None:
    await api.drain(keep=14)
    response = await api.post("/videos/generate", body())  # kling 5 s = 15
    assert response.status_code == 402, response.text
    assert response.json()["error"]["code"] == "INSUFFICIENT_CREDITS"
    await nothing_written(api, 14)
    assert await ledger(api.app, api.account_id, "video_generation:") == []


async def test_unknown_generations_are_404(api: Api) -> None:
    for unknown in ("5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d", "x"):
        response = await api.get(f"/videos/generations/{unknown}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "NOT_FOUND"

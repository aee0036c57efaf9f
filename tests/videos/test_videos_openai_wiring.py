"""The `openai` video provider wired end to end: settings → registry → job → storage, against
a scripted OpenAI-style video job API on httpx.MockTransport (create → poll → download)."""

from __future__ import annotations

import email.parser
import email.policy
import io
import json
from collections.abc import AsyncIterator, Callable
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
    events,
    ledger,
    probe_video,
    streams,
    tiny_mp4,
    with_providers,
)

from powerpost.config import Settings, load_settings
from powerpost.videos.providers import registry

NAME = "openai-videos-on-mock"
BASE = "https://videos.vendor.test/v1"
KEY = "sk-vendor-videos"
UPSTREAM = {"kling-3.0-pro": "sora-2-pro", "veo-3.1": "sora-2", "runway-gen-4.5": "sora-2"}
Reply = httpx.Response | Callable[[httpx.Request], httpx.Response]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The vendor's render: one second, 320x180, with an AAC track (the API always scores)."""
    path = tmp_path_factory.mktemp("vendor") / "clip.mp4"
    return tiny_mp4(path, seconds=1.0, audio=True, size="320x180").read_bytes()


class JobApi:
    """Replies per (method, path); each list is replayed and its last reply repeated."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Reply]] = {}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == f"Bearer {KEY}"
        self.requests.append(request)
        replies = self.routes.get((request.method, request.url.path))
        assert replies, f"unexpected call {request.method} {request.url}"
        reply = replies.pop(0) if len(replies) > 1 else replies[0]
        return reply(request) if callable(reply) else reply

    def calls(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if (r.method, r.url.path) == (method, path)]


def job(status: str, **extra: Any) -> httpx.Response:
    return httpx.Response(200, json={"id": "vid_42", "object": "video", "status": status, **extra})


@pytest.fixture
async def vendor() -> AsyncIterator[JobApi]:
    fake = JobApi()
    http = httpx.AsyncClient(transport=httpx.MockTransport(fake))
    registry.register(
        NAME,
        lambda settings, _shared: registry.openai_provider(
            settings, http, poll_interval=0.01, backoff_base=0.0
        ),
    )
    yield fake
    registry.unregister(NAME)
    await http.aclose()


@pytest.fixture
def settings(env: dict[str, str], vendor: JobApi) -> Settings:
    return with_providers(
        load_settings(env),
        videos=NAME,
        openai_api_key=KEY,
        openai_base_url=BASE,
        video_model_map=UPSTREAM,
    )


@pytest.fixture
async def api(client: httpx.AsyncClient, app: FastAPI, factory: Factory) -> Api:
    return await api_for(client, app, factory)


async def generate(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post("/videos/generate", body)
    assert response.status_code == 200, response.text
    return await api.finished(response.json()["status_url"])


async def test_text_video_is_created_polled_downloaded_and_stored_silent(
    api: Api, vendor: JobApi, clip: bytes, tmp_path: Path
) -> None:
    vendor.routes = {
        ("POST", "/v1/videos"): [job("queued")],
        ("GET", "/v1/videos/vid_42"): [job("in_progress", progress=50), job("completed")],
        ("GET", "/v1/videos/vid_42/content"): [httpx.Response(200, content=clip)],
    }
    done = await generate(api, {"prompt": "Rain on a tin roof", "model": "veo-3.1", "duration": 4})
    assert done["status"] == "completed", done

    (create,) = vendor.calls("POST", "/v1/videos")
    assert json.loads(create.content) == {
        "model": "sora-2",
        "prompt": "Rain on a tin roof",
        "seconds": "4",
        "size": "1280x720",
    }
    assert len(vendor.calls("GET", "/v1/videos/vid_42")) == 2
    # what is reported is the file the vendor sent, and its audio is gone (not asked for)
    video = done["video"]
    assert (video["width"], video["height"]) == (320, 180)
    assert video["duration"] == pytest.approx(1.0, abs=0.05)
    info = await probe_video(api, video["url"], tmp_path / "stored.mp4")
    assert [s["codec_type"] for s in info["streams"]] == ["video"]
    assert streams(info, "video")[0]["codec_name"] == "h264"
    assert await api.balance() == 50 - 16


async def test_image_to_video_sends_the_source_and_keeps_the_audio(
    api: Api, vendor: JobApi, clip: bytes, tmp_path: Path
) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (800, 800), (200, 40, 60)).save(buffer, format="PNG")
    source = await api.upload(buffer.getvalue(), "image", "square.png")
    vendor.routes = {
        ("POST", "/v1/videos"): [job("completed")],
        ("GET", "/v1/videos/vid_42/content"): [httpx.Response(200, content=clip)],
    }
    done = await generate(
        api,
        {"prompt": "Zoom out", "duration": 5, "size": "portrait", "has_audio": True,
         "source_image": source},
    )  # fmt: skip
    assert done["status"] == "completed", done
    assert await api.balance() == 50 - 23  # ceil(3 x 5 x 1.5)

    (create,) = vendor.calls("POST", "/v1/videos")
    header = f"Content-Type: {create.headers['content-type']}\r\n\r\n".encode()
    form = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + create.content)
    fields: dict[str, str] = {}
    reference = b""
    for part in form.iter_parts():
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        name = str(part.get_param("name", header="content-disposition"))
        if name == "input_reference":
            reference = payload
        else:
            fields[name] = payload.decode()
    assert fields == {"model": "sora-2-pro", "prompt": "Zoom out", "seconds": "5",
                      "size": "720x1280"}  # fmt: skip
    sent = Image.open(io.BytesIO(reference))
    assert (sent.format, sent.size) == ("JPEG", (720, 1280))

    info = await probe_video(api, done["video"]["url"], tmp_path / "stored.mp4")
    (audio,) = streams(info, "audio")
    assert audio["codec_name"] == "aac"


async def test_a_failed_vendor_job_fails_with_its_reason_and_refunds(
    api: Api, vendor: JobApi
) -> None:
    vendor.routes = {
        ("POST", "/v1/videos"): [job("queued")],
        ("GET", "/v1/videos/vid_42"): [
            job("failed", error={"code": "moderation", "message": "blocked by moderation"})
        ],
    }
    done = await generate(api, {"prompt": "Not allowed", "duration": 10})
    assert done["status"] == "failed"
    assert done["error"]["code"] == "VIDEO_GENERATION_FAILED"
    assert "blocked by moderation" in done["error"]["message"]
    assert len(vendor.calls("POST", "/v1/videos")) == 1  # a vendor's final answer is final
    ref = f"video_generation:{done['video_generation_id']}"
    assert await ledger(api.app, api.account_id, ref) == [("hold", -30), ("refund", 30)]
    assert await api.balance() == 50
    (event,) = await events(api.app, api.workspace_id, "video_generation.failed")
    assert event["data"]["error"] == done["error"]

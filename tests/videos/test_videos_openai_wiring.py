"""The `openai` video provider wired end to end: settings → registry → job → storage, against
a scripted OpenAI-style video job API on httpx.MockTransport (create → poll → download)."""

from __future__ import annotations

import email.parser
import email.policy
import io
import json
import re
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


API_SECONDS = ("4", "8", "12")  # the only `seconds` the real API accepts
CONTENT = ("GET", "/v1/videos/vid_42/content")


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., bytes]:
    """The vendor's renders: 320x180 at 25 fps, with an AAC track (the API always scores)
    unless `audio=False`; made once per length."""
    folder = tmp_path_factory.mktemp("vendor")
    made: dict[tuple[float, bool], bytes] = {}

    def clip(seconds: float, *, audio: bool = True) -> bytes:
        if (seconds, audio) not in made:
            target = folder / f"clip-{seconds}-{audio}.mp4"
            made[seconds, audio] = tiny_mp4(
                target, seconds=seconds, audio=audio, size="320x180"
            ).read_bytes()
        return made[seconds, audio]

    return clip


def create_fields(request: httpx.Request) -> tuple[dict[str, str], bytes]:
    """The create call's fields and its `input_reference` (empty when sent as JSON)."""
    if request.headers["content-type"].startswith("application/json"):
        return {k: str(v) for k, v in json.loads(request.content).items()}, b""
    header = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    form = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + request.content)
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
    return fields, reference


class JobApi:
    """Replies per (method, path); each list is replayed and its last reply repeated.

    Like the real API it refuses `seconds` other than 4, 8 and 12, and unless a test scripts
    the content route it serves a clip of the length the create call asked for.
    """

    def __init__(self, clips: Callable[..., bytes]) -> None:
        self.clips = clips
        self.routes: dict[tuple[str, str], list[Reply]] = {}
        self.requests: list[httpx.Request] = []
        self.accepted_seconds: list[int] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == f"Bearer {KEY}"
        self.requests.append(request)
        route = (request.method, request.url.path)
        if route == ("POST", "/v1/videos"):
            seconds = create_fields(request)[0].get("seconds", "4")
            if seconds not in API_SECONDS:
                message = f"Invalid value: '{seconds}'. Supported values are: '4', '8', and '12'."
                return httpx.Response(400, json={"error": {"message": message, "param": "seconds"}})
            self.accepted_seconds.append(int(seconds))
        replies = self.routes.get(route)
        if not replies and route == CONTENT:
            return httpx.Response(200, content=self.clips(self.accepted_seconds[-1]))
        assert replies, f"unexpected call {request.method} {request.url}"
        reply = replies.pop(0) if len(replies) > 1 else replies[0]
        return reply(request) if callable(reply) else reply

    def calls(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if (r.method, r.url.path) == (method, path)]


def job(status: str, **extra: Any) -> httpx.Response:
    return httpx.Response(200, json={"id": "vid_42", "object": "video", "status": status, **extra})


@pytest.fixture
async def vendor(clips: Callable[..., bytes]) -> AsyncIterator[JobApi]:
    fake = JobApi(clips)
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
    api: Api, vendor: JobApi, tmp_path: Path
) -> None:
    vendor.routes = {
        ("POST", "/v1/videos"): [job("queued")],
        ("GET", "/v1/videos/vid_42"): [job("in_progress", progress=50), job("completed")],
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
    assert video["duration"] == pytest.approx(4.0, abs=0.05)
    assert done["has_audio"] is False
    info = await probe_video(api, video["url"], tmp_path / "stored.mp4")
    assert [s["codec_type"] for s in info["streams"]] == ["video"]
    assert streams(info, "video")[0]["codec_name"] == "h264"
    assert await api.balance() == 50 - 16


async def test_image_to_video_sends_the_source_and_keeps_the_audio(
    api: Api, vendor: JobApi, tmp_path: Path
) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (800, 800), (200, 40, 60)).save(buffer, format="PNG")
    source = await api.upload(buffer.getvalue(), "image", "square.png")
    vendor.routes = {("POST", "/v1/videos"): [job("completed")]}
    done = await generate(
        api,
        {"prompt": "Zoom out", "duration": 5, "size": "portrait", "has_audio": True,
         "source_image": source},
    )  # fmt: skip
    assert done["status"] == "completed", done
    assert await api.balance() == 50 - 23  # ceil(3 x 5 x 1.5)

    (create,) = vendor.calls("POST", "/v1/videos")
    fields, reference = create_fields(create)
    # kling's 5 s is rendered as the API's 8 s and cut to 5 s
    assert fields == {"model": "sora-2-pro", "prompt": "Zoom out", "seconds": "8",
                      "size": "720x1280"}  # fmt: skip
    sent = Image.open(io.BytesIO(reference))
    assert (sent.format, sent.size) == ("JPEG", (720, 1280))

    assert done["video"]["duration"] == pytest.approx(5.0, abs=0.05)
    info = await probe_video(api, done["video"]["url"], tmp_path / "stored.mp4")
    assert float(info["format"]["duration"]) == pytest.approx(5.0, abs=0.05)
    (picture,) = streams(info, "video")
    assert (picture["codec_name"], picture["pix_fmt"]) == ("h264", "yuv420p")
    (audio,) = streams(info, "audio")
    assert audio["codec_name"] == "aac"
    assert float(audio["duration"]) == pytest.approx(5.0, abs=0.05)


@pytest.mark.parametrize(("model", "duration", "asked"), [("runway-gen-4.5", 10, "12"),
                                                         ("veo-3.1", 8, "8")])  # fmt: skip
async def test_every_length_is_asked_as_an_api_length_and_stored_exact(
    api: Api, vendor: JobApi, model: str, duration: int, asked: str
) -> None:
    await api.grant(100)
    vendor.routes = {("POST", "/v1/videos"): [job("completed")]}
    done = await generate(api, {"prompt": "A kite", "model": model, "duration": duration})
    assert done["status"] == "completed", done
    assert json.loads(vendor.calls("POST", "/v1/videos")[0].content)["seconds"] == asked
    assert done["duration"] == duration
    assert done["video"]["duration"] == pytest.approx(duration, abs=0.05)


async def test_a_clip_shorter_than_asked_fails_and_refunds(
    api: Api, vendor: JobApi, clips: Callable[..., bytes]
) -> None:
    vendor.routes = {
        ("POST", "/v1/videos"): [job("completed")],
        CONTENT: [httpx.Response(200, content=clips(2.5))],
    }
    done = await generate(api, {"prompt": "Too short", "model": "veo-3.1", "duration": 4})
    assert done["status"] == "failed", done
    assert done["video"] is None
    assert done["error"]["code"] == "VIDEO_GENERATION_FAILED"
    assert re.fullmatch(
        r"The video could not be generated: "
        r"the provider delivered a 2\.5\d s video for a 4 s request",
        done["error"]["message"],
    ), done["error"]
    assert len(vendor.calls("POST", "/v1/videos")) == 1  # not re-bought on a retry
    ref = f"video_generation:{done['video_generation_id']}"
    assert await ledger(api.app, api.account_id, ref) == [("hold", -16), ("refund", 16)]
    assert await api.balance() == 50
    (event,) = await events(api.app, api.workspace_id, "video_generation.")
    assert event["event"] == "video_generation.failed"
    assert event["data"]["error"] == done["error"]


async def test_a_silent_clip_for_a_request_with_audio_fails_and_refunds(
    api: Api, vendor: JobApi, clips: Callable[..., bytes]
) -> None:
    vendor.routes = {
        ("POST", "/v1/videos"): [job("completed")],
        CONTENT: [httpx.Response(200, content=clips(8, audio=False))],
    }
    done = await generate(
        api, {"prompt": "Waves", "model": "veo-3.1", "duration": 8, "has_audio": True}
    )
    assert done["status"] == "failed", done
    assert done["has_audio"] is True  # what was asked; nothing was delivered or charged
    assert done["credits_used"] == 0
    assert "no audio track" in done["error"]["message"]
    ref = f"video_generation:{done['video_generation_id']}"
    assert await ledger(api.app, api.account_id, ref) == [("hold", -48), ("refund", 48)]
    (event,) = await events(api.app, api.workspace_id, "video_generation.")
    assert event["event"] == "video_generation.failed"
    assert event["data"]["error"] == done["error"]


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


async def test_vendor_text_that_would_leak_is_not_echoed(api: Api, vendor: JobApi) -> None:
    # a rejected key: vendors quote part of it back, so none of their text is shown
    rejected = httpx.Response(
        401, json={"error": {"message": f"Incorrect API key provided: {KEY}-abcdef123456"}}
    )
    vendor.routes = {("POST", "/v1/videos"): [rejected]}
    done = await generate(api, {"prompt": "Key check", "duration": 5})
    assert done["status"] == "failed"
    assert done["error"]["message"] == (
        "The video could not be generated: the video generation request rejected this "
        "server's credentials (401); the operator must check the API key"
    )
    # a failed render whose reason is multi-line text with a token in it: one line, redacted
    vendor.routes = {
        ("POST", "/v1/videos"): [job("queued")],
        ("GET", "/v1/videos/vid_42"): [
            job(
                "failed",
                error={
                    "message": "render node\n  crashed; trace id 9f8e7d6c5b4a39281706f5e4d3c2b1a0"
                },
            )
        ],
    }
    done = await generate(api, {"prompt": "Crash", "duration": 5})
    assert done["error"]["message"] == (
        "The video could not be generated: video generation failed: "
        "render node crashed; trace id [redacted]"
    )
    # a 400 whose body is a proxy's HTML page: its status is reported, not its text
    html = httpx.Response(
        400, text="<html><body>nginx internal 10.1.2.3 upstream error</body></html>"
    )
    vendor.routes = {("POST", "/v1/videos"): [html]}
    done = await generate(api, {"prompt": "Proxy", "duration": 5})
    assert done["error"]["message"] == (
        "The video could not be generated: the video generation request refused the "
        "request (400): Bad Request"
    )
    for shown in (str(await events(api.app, api.workspace_id, "video_generation.")),):
        assert KEY not in shown
        assert "10.1.2.3" not in shown
        assert "9f8e7d6c" not in shown
    assert await api.balance() == 50

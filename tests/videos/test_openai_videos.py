"""The OpenAI-compatible video provider against a scripted job API on httpx.MockTransport."""

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
from PIL import Image

from powerpost.kit.ffmpeg import ffmpeg_exe, probe, run_tool
from powerpost.videos.providers.base import ProviderError, VideoRequest
from powerpost.videos.providers.openai_compat import OpenAIVideoProvider

BASE = "https://videos.example.test/v1"
KEY = "sk-test-videos"
MODEL_MAP = {"veo-3.1": "sora-2", "kling-3.0-pro": "sora-2-pro"}
Reply = httpx.Response | Callable[[httpx.Request], httpx.Response]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real one-second MP4 with an AAC track, standing in for the vendor's render."""
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    run_tool(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x180:rate=25:duration=1",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=1",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            str(path),
        ],
        timeout=60,
    )
    return path.read_bytes()


class JobApi:
    """Routes by (method, path); each route replays its replies and repeats the last one."""

    def __init__(self, routes: dict[tuple[str, str], list[Reply]]) -> None:
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.headers["authorization"] == f"Bearer {KEY}"
        replies = self.routes.get((request.method, request.url.path))
        assert replies, f"unexpected call {request.method} {request.url}"
        reply = replies.pop(0) if len(replies) > 1 else replies[0]
        return reply(request) if callable(reply) else reply

    def calls(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]


def job(status: str, **extra: Any) -> httpx.Response:
    return httpx.Response(
        200, json={"id": "video_123", "object": "video", "status": status, **extra}
    )


def _request(**changes: Any) -> VideoRequest:
    fields: dict[str, Any] = {
        "prompt": "A paper boat drifting down a rainy street",
        "size": "landscape",
        "duration": 8,
        "model": "veo-3.1",
        "has_audio": True,
        "enhance_prompt": False,
    }
    fields.update(changes)
    return VideoRequest(**fields)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def make(clock: Clock) -> AsyncIterator[Callable[..., OpenAIVideoProvider]]:
    clients: list[httpx.AsyncClient] = []

    def build(api: JobApi, **options: Any) -> OpenAIVideoProvider:
        clients.append(httpx.AsyncClient(transport=httpx.MockTransport(api)))
        settings: dict[str, Any] = {
            "timeout": 30.0,
            "max_retries": 2,
            "poll_interval": 10.0,
            "deadline": 600.0,
            "backoff_base": 0.5,
        }
        settings.update(options)
        return OpenAIVideoProvider(
            clients[-1], BASE, KEY, MODEL_MAP, sleep=clock.sleep, clock=clock, **settings
        )

    yield build
    for client in clients:
        await client.aclose()


async def test_text_job_is_created_polled_and_downloaded(
    make: Callable[..., OpenAIVideoProvider], clock: Clock, clip: bytes, tmp_path: Path
) -> None:
    api = JobApi(
        {
            ("POST", "/v1/videos"): [job("queued")],
            ("GET", "/v1/videos/video_123"): [job("in_progress", progress=40), job("completed")],
            ("GET", "/v1/videos/video_123/content"): [httpx.Response(200, content=clip)],
        }
    )

    video = await make(api).generate(_request(), tmp_path / "work")

    (create,) = api.calls("POST", "/v1/videos")
    assert create.headers["content-type"] == "application/json"
    assert json.loads(create.content) == {
        "model": "sora-2",
        "prompt": "A paper boat drifting down a rainy street",
        "seconds": "8",
        "size": "1280x720",
    }
    assert len(api.calls("GET", "/v1/videos/video_123")) == 2
    assert clock.sleeps == [10.0, 10.0]
    assert video.path.parent == tmp_path / "work"
    assert video.path.read_bytes() == clip
    # facts come from the file, not from the request
    assert (video.width, video.height) == (320, 180)
    assert video.duration_seconds == pytest.approx(1.0, abs=0.05)
    assert video.has_audio is True


async def test_source_image_is_sent_as_input_reference(
    make: Callable[..., OpenAIVideoProvider], clip: bytes, tmp_path: Path
) -> None:
    source = tmp_path / "upload.png"
    Image.new("RGB", (900, 900), (40, 90, 200)).save(source)
    api = JobApi(
        {
            ("POST", "/v1/videos"): [job("completed")],
            ("GET", "/v1/videos/video_123/content"): [httpx.Response(200, content=clip)],
        }
    )

    await make(api).generate(
        _request(size="portrait", model="kling-3.0-pro", duration=10, source_image=source),
        tmp_path / "work",
    )

    (create,) = api.calls("POST", "/v1/videos")
    header = f"Content-Type: {create.headers['content-type']}\r\n\r\n".encode()
    form = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + create.content)
    fields: dict[str, str] = {}
    reference: bytes | None = None
    for part in form.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        if name == "input_reference":
            assert part.get_content_type() == "image/jpeg"
            reference = payload
        else:
            fields[str(name)] = payload.decode()
    assert fields == {
        "model": "sora-2-pro",
        "prompt": "A paper boat drifting down a rainy street",
        "seconds": "10",
        "size": "720x1280",
    }
    assert reference is not None
    sent = Image.open(io.BytesIO(reference))
    assert sent.size == (720, 1280)  # resized to the exact video size the API demands
    red, _, blue = sent.convert("RGB").getpixel((360, 640))  # type: ignore[misc]
    assert abs(red - 40) < 12
    assert abs(blue - 200) < 12


async def test_audio_is_removed_when_not_requested(
    make: Callable[..., OpenAIVideoProvider], clip: bytes, tmp_path: Path
) -> None:
    api = JobApi(
        {
            ("POST", "/v1/videos"): [job("completed")],
            ("GET", "/v1/videos/video_123/content"): [httpx.Response(200, content=clip)],
        }
    )
    workdir = tmp_path / "work"

    video = await make(api).generate(_request(has_audio=False), workdir)

    assert video.has_audio is False
    streams = probe(video.path)["streams"]
    assert [s["codec_type"] for s in streams] == ["video"]
    assert [p.name for p in workdir.iterdir()] == [video.path.name]


async def test_failed_job_reports_the_vendor_reason(
    make: Callable[..., OpenAIVideoProvider], tmp_path: Path
) -> None:
    api = JobApi(
        {
            ("POST", "/v1/videos"): [job("queued")],
            ("GET", "/v1/videos/video_123"): [
                job("failed", error={"code": "moderation", "message": "prompt blocked"})
            ],
        }
    )

    with pytest.raises(ProviderError, match="prompt blocked") as caught:
        await make(api).generate(_request(), tmp_path)

    assert caught.value.retryable is False
    assert api.calls("GET", "/v1/videos/video_123/content") == []


async def test_poll_that_never_completes_hits_the_deadline(
    make: Callable[..., OpenAIVideoProvider], clock: Clock, tmp_path: Path
) -> None:
    api = JobApi(
        {
            ("POST", "/v1/videos"): [job("queued")],
            ("GET", "/v1/videos/video_123"): [job("in_progress")],
        }
    )

    with pytest.raises(ProviderError, match="did not finish within 45 s") as caught:
        await make(api, deadline=45.0, poll_interval=10.0).generate(_request(), tmp_path)

    assert caught.value.retryable is True
    assert len(api.calls("GET", "/v1/videos/video_123")) == 5  # at 10, 20, 30, 40 and 45 s
    assert clock.sleeps == [10.0, 10.0, 10.0, 10.0, 5.0]
    assert api.calls("GET", "/v1/videos/video_123/content") == []


async def test_transient_errors_while_creating_and_polling_are_retried(
    make: Callable[..., OpenAIVideoProvider], clock: Clock, clip: bytes, tmp_path: Path
) -> None:
    api = JobApi(
        {
            ("POST", "/v1/videos"): [
                httpx.Response(
                    429, json={"error": {"message": "busy"}}, headers={"Retry-After": "3"}
                ),
                job("queued"),
            ],
            ("GET", "/v1/videos/video_123"): [
                httpx.Response(502, text="bad gateway"),
                job("completed"),
            ],
            ("GET", "/v1/videos/video_123/content"): [httpx.Response(200, content=clip)],
        }
    )

    video = await make(api).generate(_request(), tmp_path)

    assert video.duration_seconds == pytest.approx(1.0, abs=0.05)
    assert clock.sleeps == [3.0, 10.0, 0.5]  # Retry-After, poll interval, backoff


async def test_rejected_request_is_final(
    make: Callable[..., OpenAIVideoProvider], tmp_path: Path
) -> None:
    api = JobApi(
        {
            ("POST", "/v1/videos"): [
                httpx.Response(400, json={"error": {"message": "seconds must be 4, 8 or 12"}})
            ]
        }
    )

    with pytest.raises(ProviderError, match="seconds must be") as caught:
        await make(api).generate(_request(duration=5), tmp_path)

    assert caught.value.retryable is False
    assert len(api.requests) == 1


async def test_download_that_is_not_a_video_fails_and_leaves_nothing(
    make: Callable[..., OpenAIVideoProvider], tmp_path: Path
) -> None:
    api = JobApi(
        {
            ("POST", "/v1/videos"): [job("completed")],
            ("GET", "/v1/videos/video_123/content"): [
                httpx.Response(200, content=b"<html>not a video</html>")
            ],
        }
    )
    workdir = tmp_path / "work"

    with pytest.raises(ProviderError, match="could not be read"):
        await make(api).generate(_request(), workdir)

    assert list(workdir.iterdir()) == []


async def test_unknown_model_is_rejected_before_any_call(
    make: Callable[..., OpenAIVideoProvider], tmp_path: Path
) -> None:
    api = JobApi({})

    with pytest.raises(ProviderError, match=r"runway-gen-4\.5"):
        await make(api).generate(_request(model="runway-gen-4.5"), tmp_path)

    assert api.requests == []

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
MODEL_MAP = {"veo-3.1": "sora-2", "kling-3.0-pro": "sora-2-pro", "runway-gen-4.5": "sora-2"}
# what the real API accepts as `seconds` (its VideoSeconds enum), for sora-2 and sora-2-pro
API_SECONDS = ("4", "8", "12")
CONTENT = ("GET", "/v1/videos/video_123/content")
Reply = httpx.Response | Callable[[httpx.Request], httpx.Response]
Clips = Callable[..., bytes]


def _render_clip(path: Path, seconds: float, audio: bool) -> bytes:
    args = [ffmpeg_exe(), "-v", "error", "-f", "lavfi"]
    args += ["-i", f"testsrc2=size=320x180:rate=30:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    args += ["-c:a", "aac", "-shortest"] if audio else ["-an"]
    run_tool([*args, str(path)], timeout=60)
    return path.read_bytes()


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Clips:
    """Real MP4s (30 fps, AAC unless silent) standing in for the vendor's renders."""
    folder = tmp_path_factory.mktemp("clips")
    made: dict[tuple[float, bool], bytes] = {}

    def clip(seconds: float, *, audio: bool = True) -> bytes:
        if (seconds, audio) not in made:
            target = folder / f"clip-{seconds}-{'a' if audio else 's'}.mp4"
            made[seconds, audio] = _render_clip(target, seconds, audio)
        return made[seconds, audio]

    return clip


@pytest.fixture(scope="module")
def clip(clips: Clips) -> bytes:
    """A one-second clip, for tests about the job protocol rather than the footage."""
    return clips(1)


def create_fields(request: httpx.Request) -> dict[str, str]:
    """The fields of a create call, whether sent as JSON or as a multipart form."""
    if request.headers["content-type"].startswith("application/json"):
        return {k: str(v) for k, v in json.loads(request.content).items()}
    header = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    form = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + request.content)
    fields: dict[str, str] = {}
    for part in form.iter_parts():
        name = str(part.get_param("name", header="content-disposition"))
        payload = part.get_payload(decode=True)
        if name != "input_reference" and isinstance(payload, bytes):
            fields[name] = payload.decode()
    return fields


class JobApi:
    """Routes by (method, path); each route replays its replies and repeats the last one.

    Like the real API it refuses a create call whose `seconds` is not 4, 8 or 12; given
    `clips`, it serves the content of the created job as a clip of the length it accepted
    (unless the test scripts the content route itself).
    """

    def __init__(
        self, routes: dict[tuple[str, str], list[Reply]], clips: Clips | None = None
    ) -> None:
        self.routes = routes
        self.clips = clips
        self.accepted_seconds: list[int] = []
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.headers["authorization"] == f"Bearer {KEY}"
        if (request.method, request.url.path) == ("POST", "/v1/videos"):
            seconds = create_fields(request).get("seconds", "4")
            if seconds not in API_SECONDS:
                return httpx.Response(
                    400,
                    json={
                        "error": {
                            "message": f"Invalid value: '{seconds}'. Supported values are: "
                            "'4', '8', and '12'.",
                            "type": "invalid_request_error",
                            "param": "seconds",
                            "code": "invalid_value",
                        }
                    },
                )
            self.accepted_seconds.append(int(seconds))
        replies = self.routes.get((request.method, request.url.path))
        if not replies and (request.method, request.url.path) == CONTENT and self.clips:
            return httpx.Response(200, content=self.clips(self.accepted_seconds[-1]))
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
    make: Callable[..., OpenAIVideoProvider], clock: Clock, clips: Clips, tmp_path: Path
) -> None:
    api = JobApi(
        {
            ("POST", "/v1/videos"): [job("queued")],
            ("GET", "/v1/videos/video_123"): [job("in_progress", progress=40), job("completed")],
        },
        clips,
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
    # a length the API renders is kept exactly as delivered: no re-encode
    assert video.path.read_bytes() == clips(8)
    # facts come from the file, not from the request
    assert (video.width, video.height) == (320, 180)
    assert video.duration_seconds == pytest.approx(8.0, abs=0.01)
    assert video.has_audio is True


async def test_source_image_is_sent_as_input_reference(
    make: Callable[..., OpenAIVideoProvider], clips: Clips, tmp_path: Path
) -> None:
    source = tmp_path / "upload.png"
    Image.new("RGB", (900, 900), (40, 90, 200)).save(source)
    api = JobApi({("POST", "/v1/videos"): [job("completed")]}, clips)

    video = await make(api).generate(
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
        "seconds": "12",  # the shortest length the API renders that covers 10 s
        "size": "720x1280",
    }
    assert video.duration_seconds == pytest.approx(10.0, abs=0.01)
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
                httpx.Response(
                    400, json={"error": {"message": "Your request was blocked by moderation"}}
                )
            ]
        }
    )

    with pytest.raises(ProviderError, match="blocked by moderation") as caught:
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

    with pytest.raises(ProviderError, match=r"kling-2\.1"):
        await make(api).generate(_request(model="kling-2.1"), tmp_path)

    assert api.requests == []


# (model, duration, the `seconds` the API is asked for): every length §6.8 allows
CONTRACT_LENGTHS = [
    ("veo-3.1", 4, "4"),
    ("veo-3.1", 8, "8"),
    ("kling-3.0-pro", 5, "8"),
    ("kling-3.0-pro", 10, "12"),
    ("runway-gen-4.5", 5, "8"),
    ("runway-gen-4.5", 10, "12"),
]


@pytest.mark.parametrize(("model", "duration", "asked"), CONTRACT_LENGTHS)
async def test_every_contract_length_is_asked_as_an_api_length_and_cut_exact(
    make: Callable[..., OpenAIVideoProvider],
    clips: Clips,
    tmp_path: Path,
    model: str,
    duration: int,
    asked: str,
) -> None:
    api = JobApi({("POST", "/v1/videos"): [job("completed")]}, clips)
    workdir = tmp_path / "work"

    video = await make(api).generate(_request(model=model, duration=duration), workdir)

    (create,) = api.calls("POST", "/v1/videos")
    assert json.loads(create.content)["seconds"] == asked
    assert video.duration_seconds == pytest.approx(duration, abs=0.01)
    assert video.has_audio is True
    info = probe(video.path)
    assert float(info["format"]["duration"]) == pytest.approx(duration, abs=0.05)
    picture = next(s for s in info["streams"] if s["codec_type"] == "video")
    sound = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert (picture["codec_name"], picture["pix_fmt"]) == ("h264", "yuv420p")
    assert (picture["width"], picture["height"]) == (320, 180)
    assert int(picture["nb_frames"]) == 30 * duration  # cut on the frame, not a keyframe
    assert sound["codec_name"] == "aac"
    assert float(sound["duration"]) == pytest.approx(duration, abs=0.05)
    # only the delivered file remains: the uncut download is removed
    assert [p.name for p in workdir.iterdir()] == [video.path.name]


async def test_a_cut_clip_without_audio_requested_loses_its_audio_in_the_same_pass(
    make: Callable[..., OpenAIVideoProvider], clips: Clips, tmp_path: Path
) -> None:
    api = JobApi({("POST", "/v1/videos"): [job("completed")]}, clips)
    workdir = tmp_path / "work"

    video = await make(api).generate(
        _request(model="kling-3.0-pro", duration=5, has_audio=False), workdir
    )

    assert json.loads(api.calls("POST", "/v1/videos")[0].content)["seconds"] == "8"
    assert video.has_audio is False
    assert video.duration_seconds == pytest.approx(5.0, abs=0.01)
    info = probe(video.path)
    assert [s["codec_type"] for s in info["streams"]] == ["video"]
    assert float(info["format"]["duration"]) == pytest.approx(5.0, abs=0.05)
    assert [p.name for p in workdir.iterdir()] == [video.path.name]


async def test_a_silent_clip_that_needs_a_cut_stays_silent(
    make: Callable[..., OpenAIVideoProvider], clips: Clips, tmp_path: Path
) -> None:
    api = JobApi(
        {
            ("POST", "/v1/videos"): [job("completed")],
            CONTENT: [httpx.Response(200, content=clips(12, audio=False))],
        }
    )

    video = await make(api).generate(_request(model="kling-3.0-pro", duration=10), tmp_path)

    # reported as it is (the video job refuses it, since audio was asked for)
    assert video.has_audio is False
    assert video.duration_seconds == pytest.approx(10.0, abs=0.01)


async def test_a_clip_shorter_than_asked_is_reported_as_it_is(
    make: Callable[..., OpenAIVideoProvider], clips: Clips, tmp_path: Path
) -> None:
    api = JobApi(
        {
            ("POST", "/v1/videos"): [job("completed")],
            CONTENT: [httpx.Response(200, content=clips(3))],
        }
    )

    video = await make(api).generate(_request(model="kling-3.0-pro", duration=5), tmp_path)

    assert video.path.read_bytes() == clips(3)
    assert video.duration_seconds == pytest.approx(3.0, abs=0.01)


async def test_a_length_beyond_the_longest_api_length_is_refused_before_any_call(
    make: Callable[..., OpenAIVideoProvider], tmp_path: Path
) -> None:
    api = JobApi({})

    with pytest.raises(ProviderError, match="at most 12 s; 15 s was requested") as caught:
        await make(api).generate(_request(duration=15), tmp_path)

    assert caught.value.retryable is False
    assert api.requests == []


async def test_the_fake_refuses_lengths_the_real_api_refuses() -> None:
    # guards the fake itself: a provider sending "5" would fail every test above
    api = JobApi({("POST", "/v1/videos"): [job("completed")]})
    async with httpx.AsyncClient(transport=httpx.MockTransport(api)) as raw:
        refused = await raw.post(
            f"{BASE}/videos",
            json={"model": "sora-2", "prompt": "x", "seconds": "5", "size": "1280x720"},
            headers={"Authorization": f"Bearer {KEY}"},
        )
    assert refused.status_code == 400
    assert refused.json()["error"]["param"] == "seconds"
    assert api.accepted_seconds == []

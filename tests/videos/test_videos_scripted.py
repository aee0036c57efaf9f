"""Video jobs with a scripted provider found through the registry (tiny ffmpeg clips, no
real render): the price table with the audio multiplier, prompt limits at the boundary,
failures refunded with one event, and what the provider is handed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from tests.fixtures.factories import Factory, headers
from tests.fixtures.paid import assert_postponed, make_due
from tests.images.support import (
    Api,
    api_for,
    events,
    ledger,
    png_bytes,
    tiny_mp4,
    with_providers,
    without_urls,
)

from powerpost.config import Settings, load_settings
from powerpost.kit.ffmpeg import probe
from powerpost.videos.providers import registry
from powerpost.videos.providers.base import (
    ProviderError,
    RenderedVideo,
    VideoRequest,
    rendered_video_from_probe,
)

NAME = "scripted-videos"


# plans that deliver the wrong clip while claiming the right one: (seconds off, audio)
WRONG_CLIPS: dict[str, tuple[float, bool | None]] = {
    "short": (-1.0, None),
    "long": (1.0, None),
    "slightly-short": (-0.08, None),  # two frames at 25 fps: inside the tolerance
    "silent": (0.0, False),
    "noisy": (0.0, True),
}


@dataclass
class ScriptedVideos:
    """Each call takes the next plan: "clip" (a 64x36 clip of the asked duration),
    "garbage" (a file that is not a video), one of `WRONG_CLIPS` (reported as if it were
    what was asked) or a ProviderError to raise."""

    name: str = NAME
    plans: list[str | BaseException] = field(default_factory=list)
    requests: list[VideoRequest] = field(default_factory=list)
    sources: list[bytes] = field(default_factory=list)

    async def generate(self, request: VideoRequest, workdir: Path) -> RenderedVideo:
        self.requests.append(request)
        if request.source_image is not None:
            self.sources.append(await asyncio.to_thread(request.source_image.read_bytes))
        plan = self.plans.pop(0) if self.plans else "clip"
        if isinstance(plan, BaseException):
            raise plan
        await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
        target = workdir / "scripted.mp4"
        if plan == "garbage":
            await asyncio.to_thread(target.write_bytes, b"\x00\x00\x00\x18ftypmp42 nothing")
            return RenderedVideo(target, 64, 36, float(request.duration), request.has_audio)
        if isinstance(plan, str) and plan in WRONG_CLIPS:
            off, audio = WRONG_CLIPS[plan]
            await asyncio.to_thread(
                tiny_mp4,
                target,
                seconds=request.duration + off,
                audio=request.has_audio if audio is None else audio,
                size="64x36",
            )
            return RenderedVideo(target, 64, 36, float(request.duration), request.has_audio)
        await asyncio.to_thread(
            tiny_mp4, target, seconds=request.duration, audio=request.has_audio, size="64x36"
        )
        return rendered_video_from_probe(target, await asyncio.to_thread(probe, target))


@pytest.fixture
def provider() -> Iterator[ScriptedVideos]:
    scripted = ScriptedVideos()
    registry.register(NAME, lambda settings, http: scripted)
    yield scripted
    registry.unregister(NAME)


@pytest.fixture
def settings(env: dict[str, str], provider: ScriptedVideos) -> Settings:
    return with_providers(load_settings(env), videos=NAME)


@pytest.fixture
async def api(client: httpx.AsyncClient, app: FastAPI, factory: Factory) -> Api:
    return await api_for(client, app, factory)


# (model, duration, has_audio, credits): per second kling 3, veo 4, runway 3; x1.5 with audio
PRICES = [
    ("kling-3.0-pro", 5, False, 15),
    ("kling-3.0-pro", 10, True, 45),
    ("veo-3.1", 4, False, 16),
    ("veo-3.1", 8, True, 48),
    ("runway-gen-4.5", 5, False, 15),
    ("runway-gen-4.5", 10, False, 30),
]


async def test_credits_follow_the_price_table_and_the_audio_multiplier(
    api: Api, provider: ScriptedVideos
) -> None:
    await api.grant(150)
    balance = 200
    started: list[tuple[str, int]] = []
    for model, duration, audio, price in PRICES:
        response = await api.post(
            "/videos/generate",
            {"prompt": f"{model} {duration}", "model": model, "duration": duration,
             "has_audio": audio},
        )  # fmt: skip
        assert response.status_code == 200, response.text
        balance -= price
        assert response.json()["credits_used"] == price, model
        assert response.json()["remaining_credits"] == balance
        started.append((response.json()["status_url"], price))
    for url, price in started:
        done = await api.finished(url)
        assert done["status"] == "completed", done
        assert done["credits_used"] == price
        assert done["video"]["duration"] == pytest.approx(done["duration"], abs=0.1)
        ref = f"video_generation:{done['video_generation_id']}"
        assert await ledger(api.app, api.account_id, ref) == [("hold", -price)]
    assert await api.balance() == 200 - sum(p for *_, p in PRICES)
    asked = sorted((r.model, r.duration, r.has_audio) for r in provider.requests)
    assert asked == sorted((m, d, a) for m, d, a, _ in PRICES)
    # every job's scratch directory is removed once its file is stored
    scratch = api.app.state.settings.data_dir / "tmp"
    deadline = time.monotonic() + 5
    while await asyncio.to_thread(lambda: sorted(scratch.glob("video-*"))):
        assert time.monotonic() < deadline, "scratch directories left behind"
        await asyncio.sleep(0.05)


async def test_each_models_longest_prompt_is_accepted(api: Api, provider: ScriptedVideos) -> None:
    await api.grant(100)
    cases = [("kling-3.0-pro", 2500, 5), ("veo-3.1", 3000, 4), ("runway-gen-4.5", 1000, 5)]
    for model, length, duration in cases:
        # surrounding whitespace is not stored, so it does not count against the limit
        prompt = "  \n" + "w" * length + "\t  "
        response = await api.post(
            "/videos/generate", {"prompt": prompt, "model": model, "duration": duration}
        )
        assert response.status_code == 200, (model, response.text)
        done = await api.finished(response.json()["status_url"])
        assert done["status"] == "completed"
        assert done["prompt"] == "w" * length
        refused = await api.post(
            "/videos/generate",
            {"prompt": " " + "w" * (length + 1) + " ", "model": model, "duration": duration},
        )
        assert refused.status_code == 400, (model, refused.text)
        assert refused.json()["error"]["message"] == (
            f"'prompt' is {length + 1} characters; {model} takes at most {length}"
        )


async def test_a_failed_render_refunds_and_announces_it(api: Api, provider: ScriptedVideos) -> None:
    provider.plans = [ProviderError("the model refused this prompt")]
    response = await api.post(
        "/videos/generate",
        {"prompt": "Refuse me", "model": "veo-3.1", "duration": 8, "has_audio": True},
    )
    assert response.json()["credits_used"] == 48
    assert response.json()["remaining_credits"] == 2
    done = await api.finished(response.json()["status_url"])
    assert done["status"] == "failed"
    assert done["video"] is None
    assert done["credits_used"] == 0
    assert done["error"] == {
        "code": "VIDEO_GENERATION_FAILED",
        "message": "The video could not be generated: the model refused this prompt",
    }
    assert len(provider.requests) == 1  # a final error is not retried
    ref = f"video_generation:{done['video_generation_id']}"
    assert await ledger(api.app, api.account_id, ref) == [("hold", -48), ("refund", 48)]
    assert await api.balance() == 50
    (event,) = await events(api.app, api.workspace_id, "video_generation.")
    assert event["event"] == "video_generation.failed"
    assert without_urls(event["data"]) == without_urls(done)


async def test_a_transient_error_is_retried(api: Api, provider: ScriptedVideos) -> None:
    provider.plans = [ProviderError("render farm busy", retryable=True), "clip"]
    response = await api.post("/videos/generate", {"prompt": "Try again", "duration": 5})
    done = await api.finished(response.json()["status_url"])
    assert done["status"] == "completed", done
    assert len(provider.requests) == 2
    assert await api.balance() == 35
    assert len(await events(api.app, api.workspace_id, "video_generation.")) == 1


async def test_a_file_that_is_not_a_video_fails_and_refunds(
    api: Api, provider: ScriptedVideos
) -> None:
    provider.plans = ["garbage"]
    response = await api.post("/videos/generate", {"prompt": "Broken file", "duration": 5})
    done = await api.finished(response.json()["status_url"])
    assert done["status"] == "failed"
    assert done["error"]["code"] == "VIDEO_GENERATION_FAILED"
    assert len(provider.requests) == 1
    assert await api.balance() == 50


async def test_the_source_image_and_options_reach_the_provider(
    api: Api, provider: ScriptedVideos
) -> None:
    picture = png_bytes((90, 160), (10, 200, 90))
    source = await api.upload(picture, "image", "still.png")
    response = await api.post(
        "/videos/generate",
        {
            "prompt": "  Animate the still  ",
            "duration": 10,
            "size": "portrait",
            "source_image": source,
            "enhance_prompt": True,
        },
    )
    assert response.status_code == 200, response.text
    done = await api.finished(response.json()["status_url"])
    assert done["status"] == "completed"
    (request,) = provider.requests
    assert (request.prompt, request.size, request.duration) == ("Animate the still", "portrait", 10)
    assert (request.model, request.has_audio, request.enhance_prompt) == (
        "kling-3.0-pro",
        False,
        True,
    )
    assert provider.sources == [picture]


async def test_generations_are_private_to_their_workspace(
    api: Api, client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    response = await api.post("/videos/generate", {"prompt": "Mine", "duration": 5})
    url = response.json()["status_url"]
    assert (await api.finished(url))["status"] == "completed"
    second_workspace = await factory.workspace(api.tenant)
    assert (await client.get(url, headers=headers(api.secret, second_workspace))).status_code == 404
    other = await api_for(client, app, factory)
    assert (await client.get(url, headers=other.headers)).status_code == 404


async def test_read_only_key_cannot_generate(
    client: httpx.AsyncClient, factory: Factory, provider: ScriptedVideos
) -> None:
    tenant = await factory.account()
    _, secret = await factory.key(tenant, "read_only")
    body: dict[str, Any] = {"prompt": "No", "duration": 5}
    response = await client.post(
        "/api/v1/videos/generate", json=body, headers=headers(secret, tenant.workspace_id)
    )
    assert response.status_code == 403
    assert response.json()["error"]["required_scope"] == "videos:generate"
    assert provider.requests == []


@pytest.mark.parametrize(("plan", "delivered"), [("short", "4.00"), ("long", "6.00")])
async def test_a_clip_of_the_wrong_length_fails_and_refunds(
    api: Api, provider: ScriptedVideos, plan: str, delivered: str
) -> None:
    provider.plans = [plan]
    response = await api.post("/videos/generate", {"prompt": "Five seconds", "duration": 5})
    assert response.json()["credits_used"] == 15
    done = await api.finished(response.json()["status_url"])
    assert done["status"] == "failed", done
    assert done["video"] is None
    assert done["credits_used"] == 0
    assert done["error"] == {
        "code": "VIDEO_GENERATION_FAILED",
        "message": "The video could not be generated: "
        f"the provider delivered a {delivered} s video for a 5 s request",
    }
    assert len(provider.requests) == 1  # a wrong clip is final: no second paid render
    ref = f"video_generation:{done['video_generation_id']}"
    assert await ledger(api.app, api.account_id, ref) == [("hold", -15), ("refund", 15)]
    assert await api.balance() == 50
    (event,) = await events(api.app, api.workspace_id, "video_generation.")
    assert event["event"] == "video_generation.failed"
    assert without_urls(event["data"]) == without_urls(done)


async def test_a_clip_within_the_tolerance_is_kept(api: Api, provider: ScriptedVideos) -> None:
    provider.plans = ["slightly-short"]
    response = await api.post("/videos/generate", {"prompt": "Nearly five", "duration": 5})
    done = await api.finished(response.json()["status_url"])
    assert done["status"] == "completed", done
    assert done["video"]["duration"] == pytest.approx(4.92, abs=0.02)
    assert await api.balance() == 35


@pytest.mark.parametrize(
    ("plan", "has_audio", "price", "reason"),
    [
        ("silent", True, 23, "audio was requested but the provider's video has no audio track"),
        ("noisy", False, 15, "a silent video was requested but the provider's video has an "
         "audio track"),
    ],
)  # fmt: skip
async def test_audio_that_does_not_match_the_request_fails_and_refunds(
    api: Api, provider: ScriptedVideos, plan: str, has_audio: bool, price: int, reason: str
) -> None:
    provider.plans = [plan]
    response = await api.post(
        "/videos/generate", {"prompt": "Sound check", "duration": 5, "has_audio": has_audio}
    )
    assert response.json()["credits_used"] == price
    done = await api.finished(response.json()["status_url"])
    assert done["status"] == "failed", done
    assert done["has_audio"] is has_audio
    assert done["error"]["message"] == f"The video could not be generated: {reason}"
    ref = f"video_generation:{done['video_generation_id']}"
    assert await ledger(api.app, api.account_id, ref) == [("hold", -price), ("refund", price)]
    assert await api.balance() == 50
    (event,) = await events(api.app, api.workspace_id, "video_generation.")
    assert event["event"] == "video_generation.failed"
    assert without_urls(event["data"]) == without_urls(done)


SECRET = "postgres://admin:hunter2@10.0.0.5/powerpost"


async def test_an_internal_exception_never_reaches_the_client(
    api: Api, provider: ScriptedVideos
) -> None:
    provider.plans = [RuntimeError(f"could not connect to {SECRET}")] * 3
    response = await api.post("/videos/generate", {"prompt": "Crash", "duration": 5})
    done = await api.finished(response.json()["status_url"])
    assert done["status"] == "failed"
    assert done["error"] == {
        "code": "VIDEO_GENERATION_FAILED",
        "message": "The video could not be generated: "
        "producing the video failed because of an internal error",
    }
    assert len(provider.requests) == 3
    again = (await api.get(f"/videos/generations/{done['video_generation_id']}")).json()
    (event,) = await events(api.app, api.workspace_id, "video_generation.")
    for shown in (str(again), str(event)):
        assert "hunter2" not in shown
        assert "RuntimeError" not in shown
    assert await api.balance() == 50


async def test_a_long_retry_after_is_waited_out_not_dropped(
    api: Api, provider: ScriptedVideos
) -> None:
    provider.plans = [ProviderError("rate limited", retry_after=600.0), "clip"]
    response = await api.post("/videos/generate", {"prompt": "Patience", "duration": 5})
    generation_id = response.json()["video_generation_id"]
    job = await assert_postponed(api.app, generation_id, at_least=590)
    assert (await api.get(f"/videos/generations/{generation_id}")).json()["status"] == (
        "processing"
    )
    assert len(provider.requests) == 1
    await make_due(api.app, job.id)  # as if the ten minutes had passed
    done = await api.finished(response.json()["status_url"])
    assert done["status"] == "completed", done
    assert len(provider.requests) == 2
    assert await api.balance() == 35

"""The OpenAI-compatible caption provider against a fake server on loopback: what it sends,
how it retries, what it accepts, and the whole generation flow with captions=openai."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from tests.fixtures.paid import assert_postponed, make_due
from tests.generation.fake_openai import (
    API_KEY,
    MODEL,
    TRANSCRIBE_MODEL,
    TRANSCRIPT,
    FakeOpenAI,
    Step,
)
from tests.generation.support import (
    Api,
    events,
    image_bytes,
    ledger,
    make_mp4,
    serve_on_loopback,
)

from powerpost.config import ProviderSettings
from powerpost.generation.providers.base import (
    CaptionRequest,
    MediaInput,
    ProviderError,
    WritingStyle,
)
from powerpost.generation.providers.openai_compat import (
    OpenAICaptionProvider,
    RateLimitedError,
    fit_caption,
    retry_after_seconds,
)
from powerpost.kit.platforms import caption_length, count_hashtags, validate_item


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[FakeOpenAI, str]]:
    fake = FakeOpenAI()
    with serve_on_loopback(fake.app) as base:
        yield fake, base + "/v1"


@pytest.fixture
def fake(server: tuple[FakeOpenAI, str]) -> FakeOpenAI:
    found = server[0]
    found.script.clear()
    found.chat_requests.clear()
    found.transcriptions.clear()
    found.problems.clear()
    return found


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


class Provider:
    """Builds providers on the fake with recorded (not slept) backoff."""

    def __init__(self, http: httpx.AsyncClient, base: str) -> None:
        self.http = http
        self.base = base
        self.sleeps: list[float] = []

    async def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def __call__(self, **options: Any) -> OpenAICaptionProvider:
        options.setdefault("timeout", 5.0)
        options.setdefault("max_retries", 2)
        return OpenAICaptionProvider(
            self.http,
            self.base,
            options.pop("api_key", API_KEY),
            MODEL,
            sleep=self._sleep,
            **options,
        )


@pytest.fixture
def make(http: httpx.AsyncClient, server: tuple[FakeOpenAI, str]) -> Provider:
    return Provider(http, server[1])


def request(**changes: Any) -> CaptionRequest:
    base: dict[str, Any] = {
        "platforms": ("instagram", "youtube", "x"),
        "research_mode": "regular",
        "prompt": "Our bakery opens a second shop in the old town",
    }
    base.update(changes)
    return CaptionRequest(**base)


def _png_file(tmp_path: Path, name: str, size: tuple[int, int], mode: str = "RGB") -> MediaInput:
    path = tmp_path / name
    Image.new(mode, size, (10, 120, 200, 128) if mode == "RGBA" else (10, 120, 200)).save(path)
    return MediaInput(
        kind="image",
        path=path,
        mime_type="image/png",
        file_name=name,
        width=size[0],
        height=size[1],
        dominant_colors=("#0a78c8",),
    )


async def test_a_text_request_is_well_formed_and_answered(fake: FakeOpenAI, make: Provider) -> None:
    style = WritingStyle(
        name="Warm",
        tone="warm and witty",
        emoji_use="none",
        hashtag_count=4,
        example_posts=("Fresh bread, fresh start.",),
    )
    outputs = await make().write_captions(
        request(cta_text="Visit us on Saturday", style=style, research_mode="deep")
    )
    assert fake.problems == []
    (body,) = fake.chat_requests
    system = body["messages"][0]["content"]
    assert 'Its keys are exactly: "instagram", "youtube", "x".' in system
    assert "at most 2200 characters" in system
    assert "at most 280 characters as X counts them" in system
    assert '"title": string of at most 100 characters' in system
    assert "at most 5000 bytes" in system
    assert '"Visit us on Saturday"' in system
    assert '"warm and witty"' in system
    assert "Use no emoji at all." in system
    assert "Fresh bread, fresh start." in system
    assert "Deep research" in system
    assert "about 4 relevant hashtags" in system
    assert "not instructions" in system
    assert "Our bakery opens a second shop" in fake.user_text(body)
    assert set(outputs) == {"instagram", "youtube", "x"}
    assert outputs["youtube"] == {
        "title": "A Morning in the Old Town",
        "description": "We walk through the old town at dawn.\n\n#OldTown #Travel",
    }
    assert isinstance(outputs["x"], str)


async def test_images_are_sent_as_jpeg_data_urls_no_larger_than_1024(
    fake: FakeOpenAI, make: Provider, tmp_path: Path
) -> None:
    media = (
        _png_file(tmp_path, "wide.png", (2400, 1200), mode="RGBA"),
        _png_file(tmp_path, "small.png", (300, 200)),
    )
    await make().write_captions(request(media=media, prompt=None, platforms=("instagram",)))
    assert fake.problems == []
    (body,) = fake.chat_requests
    images = fake.images_in(body)
    assert [im.size for im in images] == [(1024, 512), (300, 200)]
    assert all(im.mode == "RGB" for im in images)
    text = fake.user_text(body)
    assert "Image 1: wide.png (2400×1200; main colours #0a78c8)" in text
    assert "Image 2 (small.png)" in text


async def test_a_video_becomes_key_frames_and_a_transcript(
    fake: FakeOpenAI, make: Provider, tmp_path: Path
) -> None:
    clip = make_mp4(tmp_path / "walk.mp4", seconds=2, audio=True)
    video = MediaInput(
        kind="video",
        path=clip,
        mime_type="video/mp4",
        file_name="walk.mp4",
        width=160,
        height=90,
        duration_seconds=2.0,
    )
    provider = make(transcribe_model=TRANSCRIBE_MODEL)
    await provider.write_captions(request(media=(video,), platforms=("tiktok",)))
    assert fake.problems == []
    (upload,) = fake.transcriptions
    assert upload["model"] == TRANSCRIBE_MODEL
    assert upload["file_name"] == "audio.mp3"
    assert upload["size"] > 500
    (body,) = fake.chat_requests
    frames = fake.images_in(body)
    assert len(frames) == 4
    assert all(f.size == (160, 90) for f in frames)
    text = fake.user_text(body)
    assert TRANSCRIPT in text
    assert "Video 1: walk.mp4 (160×90; 2.0 seconds long)" in text
    assert "Video frame 1 of 4" in text

    silent = make_mp4(tmp_path / "silent.mp4", seconds=1)
    mute = MediaInput(
        kind="video", path=silent, mime_type="video/mp4", file_name="s.mp4", width=160,
        height=90, duration_seconds=1.0,
    )  # fmt: skip
    await provider.write_captions(request(media=(mute,), platforms=("x",), research_mode="deep"))
    assert len(fake.transcriptions) == 1  # no audio track: no transcription call
    assert len(fake.images_in(fake.chat_requests[-1])) == 8


async def test_server_errors_are_retried_with_backoff(fake: FakeOpenAI, make: Provider) -> None:
    fake.script += [Step(status=500), Step(status=502), Step()]
    provider = make()
    outputs = await provider.write_captions(request())
    assert set(outputs) == {"instagram", "youtube", "x"}
    assert len(fake.chat_requests) == 3
    assert make.sleeps == [0.5, 1.0]


async def test_rate_limits_honour_retry_after(fake: FakeOpenAI, make: Provider) -> None:
    fake.script += [Step(status=429, headers={"Retry-After": "3"}), Step()]
    await make().write_captions(request())
    assert make.sleeps == [3.0]
    # a wait longer than is worth holding the job for goes back to the job layer
    fake.script.append(Step(status=429, headers={"Retry-After": "120"}))
    with pytest.raises(RateLimitedError) as caught:
        await make().write_captions(request())
    assert caught.value.retryable
    assert caught.value.retry_after == 120
    assert len(fake.chat_requests) == 3


async def test_persistent_failures_become_retryable_errors(
    fake: FakeOpenAI, make: Provider
) -> None:
    fake.script += [Step(status=503)] * 3
    with pytest.raises(ProviderError) as caught:
        await make(max_retries=2).write_captions(request())
    assert caught.value.retryable
    assert "503" in str(caught.value)
    assert "after 3 attempts" in str(caught.value)
    assert len(fake.chat_requests) == 3


async def test_timeouts_are_retried_then_reported(fake: FakeOpenAI, make: Provider) -> None:
    fake.script += [Step(delay=1.0), Step()]
    outputs = await make(timeout=0.3).write_captions(request())
    assert set(outputs) == {"instagram", "youtube", "x"}
    fake.script += [Step(delay=1.0), Step(delay=1.0)]
    with pytest.raises(ProviderError) as caught:
        await make(timeout=0.3, max_retries=1).write_captions(request())
    assert caught.value.retryable
    assert "did not answer within 0.3 s" in str(caught.value)


async def test_client_errors_are_final(fake: FakeOpenAI, make: Provider) -> None:
    with pytest.raises(ProviderError) as caught:
        await make(api_key="sk-wrong").write_captions(request())
    assert not caught.value.retryable
    assert "rejected this server's credentials (401)" in str(caught.value)
    assert "Incorrect API key" not in str(caught.value)  # the vendor's text is logged only
    assert len(fake.chat_requests) == 0
    fake.script.append(Step(status=400, body={"error": {"message": "context too long"}}))
    with pytest.raises(ProviderError, match="context too long") as again:
        await make().write_captions(request())
    assert not again.value.retryable
    assert len(fake.chat_requests) == 1


@pytest.mark.parametrize(
    ("steps", "problem"),
    [
        ([Step(content="not json at all")] * 2, "not valid JSON"),
        ([Step(content={"instagram": "hi", "x": "yo"})] * 2, "no caption for youtube"),
        ([Step(content={"instagram": "a", "x": "b", "youtube": "c"})] * 2, "youtube caption is not"),
        ([Step(content={"instagram": "", "x": "b", "youtube": {"title": "t", "description": "d"}})] * 2, "instagram caption"),
        ([Step(body="{broken")] * 2, "not JSON"),
        ([Step(body={"choices": []})] * 2, "no choices"),
        ([Step(content="{}", finish_reason="length")] * 2, "cut off"),
    ],
)  # fmt: skip
async def test_unusable_answers_are_asked_again_then_fail(
    fake: FakeOpenAI, make: Provider, steps: list[Step], problem: str
) -> None:
    fake.script += steps
    with pytest.raises(ProviderError, match=problem) as caught:
        await make().write_captions(request())
    assert not caught.value.retryable
    assert len(fake.chat_requests) == 2


async def test_one_bad_answer_is_followed_by_a_good_one(fake: FakeOpenAI, make: Provider) -> None:
    fake.script += [Step(content="oops"), Step()]
    outputs = await make().write_captions(request())
    assert set(outputs) == {"instagram", "youtube", "x"}


async def test_a_refusal_is_final(fake: FakeOpenAI, make: Provider) -> None:
    fake.script.append(Step(content="", refusal="I can't help with that."))
    with pytest.raises(ProviderError, match="declined: I can't help with that") as caught:
        await make().write_captions(request())
    assert not caught.value.retryable
    assert len(fake.chat_requests) == 1


async def test_answers_are_fitted_to_each_platform(fake: FakeOpenAI, make: Provider) -> None:
    long_words = " ".join(["Fresh sourdough every morning."] * 30)
    fake.script.append(
        Step(
            content={
                "Captions": {
                    "X": long_words + " #bakery #sourdough",
                    "instagram": "Hello <b>there</b>",
                    "youtube": {
                        "title": "The <best> " + "bread " * 30,
                        "description": "Loaves <3 and more",
                    },
                    "tiktok": "not asked for",
                }
            }
        )
    )
    outputs = await make().write_captions(request())
    assert set(outputs) == {"instagram", "youtube", "x"}
    x = outputs["x"]
    assert isinstance(x, str)
    assert caption_length("x", x) <= 280
    assert x.endswith("#bakery #sourdough")
    assert "…" in x
    youtube = outputs["youtube"]
    assert isinstance(youtube, dict)
    assert len(youtube["title"]) <= 100
    # YouTube refuses '<' and '>': look-alike angle quotes keep the text readable
    assert youtube["title"].startswith("The \u2039best\u203a bread")
    assert youtube["description"] == "Loaves \u20393 and more"
    assert outputs["instagram"] == "Hello <b>there</b>"  # only YouTube refuses angle brackets


def test_fit_caption_keeps_short_text_and_trims_long_text() -> None:
    assert fit_caption("x", "short #tag") == "short #tag"
    text = "word " * 1000 + "#one #two #three"
    fitted = fit_caption("linkedin", text)
    assert len(fitted) <= 3000
    assert count_hashtags(fitted) == 3
    giant = "a" * 5000
    assert len(fit_caption("x", giant)) <= 280


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("-3") == 0.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("nan") is None


# --------------------------------------------------------------------------- end to end


@pytest.fixture
def provider_settings(server: tuple[FakeOpenAI, str]) -> ProviderSettings:
    return ProviderSettings(
        captions="openai",
        openai_api_key=API_KEY,
        openai_base_url=server[1],
        openai_caption_model=MODEL,
        openai_transcribe_model=TRANSCRIBE_MODEL,
        openai_timeout=5.0,
        openai_max_retries=0,
    )


async def test_generation_through_the_openai_provider(
    api: Api, fake: FakeOpenAI, tmp_path: Path
) -> None:
    picture = await api.upload(image_bytes((1600, 900), fmt="JPEG"), "image", "shop.jpg")
    response = await api.generate(
        media_ids=[picture],
        prompt="Our second shop opens Saturday",
        post_types=["instagram-feed", "youtube-video", "x-post"],
        research_mode="regular",
    )
    assert response.status_code == 200, response.text
    done = await api.wait(response.json()["generation_id"])
    assert done["status"] == "completed", done
    assert fake.problems == []
    (body,) = fake.chat_requests
    assert [im.size for im in fake.images_in(body)] == [(1024, 576)]
    assert done["outputs"]["youtube"]["title"] == "A Morning in the Old Town"
    assert done["outputs"]["x"] == "Fresh from the old town bakery (x). #bakery #oldtown"
    assert done["credits_used"] == 7


async def test_answers_over_hashtag_caps_are_fitted_and_the_generation_completes(
    api: Api, fake: FakeOpenAI
) -> None:
    """A model that ignores the hashtag rules still yields captions every post type takes."""
    instagram = "Fresh loaves at dawn.\n\n" + " ".join(f"#bread{i}" for i in range(41))
    description = "Why we bake at 4 am.\n\n" + " ".join(f"#bake{i}" for i in range(70))
    tiktok = "Crumb check! " + " ".join(f"#crumb{i}" for i in range(45))
    fake.script.append(
        Step(
            content={
                "instagram": instagram,
                "youtube": {"title": "Bread > cake #bread", "description": description},
                "tiktok": tiktok,
            }
        )
    )
    post_types = ["instagram-reel", "youtube-short", "tiktok-video"]
    response = await api.generate(
        prompt="Our night bakers", post_types=post_types, research_mode="regular"
    )
    assert response.status_code == 200, response.text
    done = await api.wait(response.json()["generation_id"])
    assert done["status"] == "completed", done
    assert fake.problems == []
    outputs = done["outputs"]
    # Instagram's 30: the first 30 tags stay, the last 11 go
    assert outputs["instagram"] == "Fresh loaves at dawn.\n\n" + " ".join(
        f"#bread{i}" for i in range(30)
    )
    youtube = outputs["youtube"]
    assert youtube["title"] == "Bread \u203a cake #bread"
    # YouTube's 60 counts the title's tag too
    assert count_hashtags(youtube["description"]) == 59
    assert youtube["description"].endswith("#bake58")
    assert outputs["tiktok"] == tiktok  # the table sets TikTok no hashtag cap
    for post_type in post_types:
        platform = post_type.split("-")[0]
        value = outputs[platform]
        title, text = (
            (value["title"], value["description"]) if platform == "youtube" else (None, value)
        )
        assert validate_item(post_type, text, title, ["video"], [30.0]) is None, post_type


async def test_a_failing_openai_endpoint_fails_the_generation_and_refunds_once(
    api: Api, fake: FakeOpenAI
) -> None:
    start = await api.balance()
    # every attempt of the job meets a 500: the job retries it, then gives up
    fake.script += [Step(status=500)] * 5
    response = await api.generate(
        prompt="Hello world", post_types=["x-post"], research_mode="regular"
    )
    generation_id = response.json()["generation_id"]
    done = await api.wait(generation_id)
    assert done["status"] == "failed"
    assert done["error"]["code"] == "GENERATION_FAILED"
    assert "500" in done["error"]["message"]
    assert len(fake.chat_requests) == 5
    assert await ledger(api.app, generation_id) == [("hold", -6), ("refund", 6)]
    assert await api.balance() == start

    fake.script.append(Step(status=400, body={"error": {"message": "model not allowed"}}))
    response = await api.generate(
        prompt="Hello again", post_types=["x-post"], research_mode="regular"
    )
    done = await api.wait(response.json()["generation_id"])
    assert done["error"] == {
        "code": "GENERATION_FAILED",
        "message": "The caption model refused the request (400): model not allowed",
    }
    assert len(fake.chat_requests) == 6  # a final error is not retried
    assert await api.balance() == start


def test_the_fake_recognises_a_bad_image_part() -> None:
    """The fake's own checks work, so its empty `problems` list means something."""
    fake = FakeOpenAI()
    body: dict[str, Any] = {
        "model": MODEL,
        "response_format": {"type": "json_object"},
        "messages": [
            {"role": "system", "content": "JSON please"},
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]},
        ],
    }  # fmt: skip
    assert fake._check_chat(body) == "images must be JPEG data URLs"
    png = io.BytesIO()
    Image.new("RGB", (4, 4)).save(png, "PNG")
    fake_jpeg = "data:image/jpeg;base64," + base64.b64encode(png.getvalue()).decode()
    body["messages"][1]["content"][0]["image_url"]["url"] = fake_jpeg
    assert fake._check_chat(body) == "an image part is not a JPEG"
    body["response_format"] = {"type": "text"}
    assert fake._check_chat(json.loads(json.dumps(body))) == "response_format must be json_object"


async def test_vendor_text_that_would_leak_is_not_echoed(api: Api, fake: FakeOpenAI) -> None:
    start = await api.balance()
    quoted = f"Incorrect API key provided: {API_KEY[:6]}********1234"
    fake.script.append(Step(status=401, body={"error": {"message": quoted}}))
    fake.script.append(Step(status=400, body="<html>proxy 10.1.2.3 stack trace</html>"))
    seen: list[dict[str, Any]] = []
    for prompt in ("Key check", "Proxy page"):
        response = await api.generate(prompt=prompt, post_types=["x-post"], research_mode="regular")
        seen.append(await api.wait(response.json()["generation_id"]))
    assert [done["error"]["message"] for done in seen] == [
        "The caption model rejected this server's credentials (401); "
        "the operator must check the API key",
        "The caption model refused the request (400): Bad Request",
    ]
    shown = str(seen) + str([await events(api.app, done["generation_id"]) for done in seen])
    assert "Incorrect API key" not in shown
    assert API_KEY[:6] not in shown
    assert "10.1.2.3" not in shown
    assert await api.balance() == start


async def test_a_long_retry_after_is_waited_out_not_dropped(api: Api, fake: FakeOpenAI) -> None:
    start = await api.balance()
    fake.script.append(Step(status=429, headers={"Retry-After": "600"}))
    response = await api.generate(prompt="Patience", post_types=["x-post"], research_mode="regular")
    generation_id = response.json()["generation_id"]
    job = await assert_postponed(api.app, generation_id, at_least=590)
    assert (await api.get(generation_id)).json()["status"] == "processing"
    assert len(fake.chat_requests) == 1
    await make_due(api.app, job.id)  # as if the ten minutes had passed
    done = await api.wait(generation_id)
    assert done["status"] == "completed", done
    assert len(fake.chat_requests) == 2
    assert await api.balance() == start - done["credits_used"]

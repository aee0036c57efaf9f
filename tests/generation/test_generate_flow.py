"""Caption generation end to end through HTTP and the embedded job engine: text, image and
video input, exact credit movements, the webhook outbox, failures refunded exactly once."""

from __future__ import annotations

import logging
import unicodedata
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from tests.fixtures.factories import Factory, headers
from tests.generation.support import (
    Api,
    Script,
    events,
    hold,
    image_bytes,
    jobs_for,
    ledger,
    make_api,
    make_mp4,
)

from powerpost.config import ProviderSettings
from powerpost.generation import service, styles
from powerpost.generation.providers.base import (
    CaptionOutputs,
    ProviderError,
)
from powerpost.jobs import JobContext, JobError, enqueue, get_handler
from powerpost.jobs import repository as jobs_repository
from powerpost.kit.clock import utcnow
from powerpost.kit.platforms import RULES, caption_length, caption_limit, validate_item

ALL_TYPES = list(RULES)


@pytest.fixture
def provider_settings() -> ProviderSettings:
    return ProviderSettings(captions="scripted")


def assert_within_limits(outputs: dict[str, Any], post_types: list[str]) -> None:
    for post_type in post_types:
        platform = RULES[post_type].platform
        value = outputs[platform]
        if platform == "youtube":
            title, content = value["title"], value["description"]
            assert 0 < len(title) <= 100
        else:
            title, content = None, value
        assert content.strip()
        assert caption_length(platform, content) <= caption_limit(platform)
        kinds = ["video"] if "video" in RULES[post_type].media_kinds else ["image"]
        problem = validate_item(post_type, content, title, kinds, [10.0] * kinds.count("video"))
        assert problem is None, (post_type, problem)


async def test_text_generation_holds_settles_and_announces_exactly(
    api: Api, script: Script
) -> None:
    start = await api.balance()
    response = await api.generate(
        prompt="Our bakery opens a second shop on Main Street this Saturday with free croissants",
        post_types=[*ALL_TYPES, "x-post"],
        research_mode="regular",
        cta_text="Visit us this weekend",
    )
    assert response.status_code == 200, response.text
    started = response.json()
    generation_id = started["generation_id"]
    assert started == {
        "generation_id": generation_id,
        "status": "processing",
        "credits_used": 6,
        "remaining_credits": start - 6,
        "status_url": f"/api/v1/content/generations/{generation_id}",
    }

    done = await api.wait(generation_id)
    assert done["status"] == "completed"
    assert done["platforms"] == ["instagram", "tiktok", "youtube", "x", "facebook", "linkedin"]
    assert done["post_types"] == ALL_TYPES
    assert done["credits_used"] == 6
    assert done["research_mode"] == "regular"
    assert "error" not in done
    assert set(done["outputs"]) == set(done["platforms"])
    assert set(done["outputs"]["youtube"]) == {"title", "description"}
    assert_within_limits(done["outputs"], ALL_TYPES)
    assert "Visit us this weekend".lower() in done["outputs"]["linkedin"].lower()

    # the request the provider saw
    (request,) = script.requests
    assert request.platforms == ("instagram", "tiktok", "youtube", "x", "facebook", "linkedin")
    assert request.cta_text == "Visit us this weekend"
    assert request.media == ()
    assert request.sources == ()
    assert request.style is None
    assert request.post_types == tuple(ALL_TYPES)

    # credits: held 6 at the start, all 6 captured at the end, nothing released
    assert await api.balance() == start - 6
    assert await ledger(api.app, generation_id) == [("hold", -6)]
    held = await hold(api.app, generation_id)
    assert held is not None
    assert (held.status, held.captured) == ("settled", 6)

    (event,) = await events(api.app, generation_id)
    assert event["event"] == "generation.completed"
    assert event["workspace_id"] == api.tenant.workspace_id
    assert event["timestamp"].endswith("Z")
    assert event["data"] == {
        "generation_id": generation_id,
        "status": "completed",
        "outputs": done["outputs"],
    }
    (job,) = await jobs_for(api.app, generation_id)
    assert (job.kind, job.status, job.attempts) == ("caption.generate", "succeeded", 1)


async def test_ten_images_are_described_and_priced_per_image(api: Api, script: Script) -> None:
    colours = [(200, 30, 30), (30, 160, 60), (20, 60, 200), (240, 200, 20), (120, 20, 160)]
    media_ids = [
        await api.upload(image_bytes((120 + i, 80), colours[i % 5]), "image", f"shot-{i}.png")
        for i in range(10)
    ]
    start = await api.balance()
    response = await api.generate(
        media_ids=media_ids, post_types=["instagram-feed", "linkedin-post"], research_mode="deep"
    )
    assert response.status_code == 200, response.text
    assert response.json()["credits_used"] == 8 + 10
    done = await api.wait(response.json()["generation_id"])
    assert done["status"] == "completed", done
    assert done["prompt"] is None
    assert done["credits_used"] == 18
    assert_within_limits(done["outputs"], ["instagram-feed", "linkedin-post"])
    # no prompt: the hashtags come from what the images show
    assert "#Photography" in done["outputs"]["instagram"]
    assert "#PhotoSeries" in done["outputs"]["instagram"]
    assert await api.balance() == start - 18

    (request,) = script.requests
    assert request.research_mode == "deep"
    assert [m.file_name for m in request.media] == [f"shot-{i}.png" for i in range(10)]
    first = request.media[0]
    assert (first.kind, first.mime_type, first.width, first.height) == (
        "image",
        "image/png",
        120,
        80,
    )
    assert first.path.is_file()
    assert first.dominant_colors
    assert first.dominant_colors[0].startswith("#")
    assert first.duration_seconds is None


async def test_a_video_is_priced_per_started_minute(
    api: Api, script: Script, tmp_path: Path
) -> None:
    clip = make_mp4(tmp_path / "walk.mp4", seconds=61, rate=2, audio=True).read_bytes()
    video_id = await api.upload(clip, "video", "city-walk.mp4")
    start = await api.balance()
    response = await api.generate(
        media_ids=[video_id],
        prompt="A one minute walk through the old town",
        post_types=["youtube-video", "tiktok-video", "instagram-reel"],
        research_mode="regular",
    )
    assert response.status_code == 200, response.text
    assert response.json()["credits_used"] == 6 + 2 * 6  # 61 s: two started minutes
    done = await api.wait(response.json()["generation_id"], deadline=60)
    assert done["status"] == "completed", done
    assert_within_limits(done["outputs"], ["youtube-video", "tiktok-video", "instagram-reel"])
    assert await api.balance() == start - 18
    (request,) = script.requests
    (video,) = request.media
    assert video.kind == "video"
    assert video.mime_type == "video/mp4"
    assert (video.width, video.height) == (160, 90)
    assert video.duration_seconds is not None
    assert 60.5 < video.duration_seconds < 61.5


async def test_a_writing_style_is_applied(api: Api, script: Script) -> None:
    data = styles.check_style(
        name="Plain",
        tone="professional and calm",
        emoji_use="none",
        hashtag_count="0",
        example_posts=["We shipped it. Thank you, team.", ""],
    )
    async with api.app.state.db.write() as session:
        style = await styles.create_style(
            session, api.tenant.account_id, api.tenant.workspace_id, data
        )
    response = await api.generate(
        prompt="We released version 2 of our invoicing app with dark mode 🎉",
        post_types=["instagram-feed", "x-post", "linkedin-post"],
        research_mode="regular",
        writing_style_id=style.id.upper(),
    )
    assert response.status_code == 200, response.text
    done = await api.wait(response.json()["generation_id"])
    assert done["status"] == "completed"
    (request,) = script.requests
    assert request.style is not None
    assert (request.style.name, request.style.tone) == ("Plain", "professional and calm")
    assert (request.style.emoji_use, request.style.hashtag_count) == ("none", 0)
    assert request.style.example_posts == ("We shipped it. Thank you, team.",)
    for caption in done["outputs"].values():
        assert "#" not in caption
        assert not any(unicodedata.category(ch) == "So" for ch in caption), caption


async def generation_with_failure(
    api: Api, script: Script, *steps: BaseException | CaptionOutputs
) -> str:
    script.steps.extend(steps)
    response = await api.generate(
        prompt="Launch day for the new running shoes",
        post_types=["x-post"],
        research_mode="regular",
    )
    assert response.status_code == 200, response.text
    return str(response.json()["generation_id"])


async def run_handler_again(
    app: FastAPI, api: Api, generation_id: str, failure: JobError | None
) -> None:
    """Run the caption handler once more for a generation, as a duplicate job would (a
    second kick, a worker that died after committing): `run`, or `on_failure` if given."""
    db = app.state.db
    async with db.write() as session:
        job_id = await enqueue(
            session,
            kind=service.JOB_KIND,
            account_id=api.tenant.account_id,
            workspace_id=api.tenant.workspace_id,
            subject_id=generation_id,
            payload={"per_source_url": 1, "style": None},
            delay=3600,  # not due: only this test claims it
        )
    later = utcnow() + timedelta(hours=2)
    async with db.write() as session:
        info = await jobs_repository.claim(
            session,
            job_id,
            worker="test-duplicate",
            now=later,
            lease_until=later + timedelta(minutes=10),
            kinds={service.JOB_KIND},
        )
    assert info is not None
    ctx = JobContext(
        job=info,
        db=db,
        http=app.state.jobs.http,
        settings=app.state.settings,
        state={},
        lease_seconds=600,
        clock=lambda: later,
        log=logging.getLogger("test"),
    )
    handler = get_handler(service.JOB_KIND)
    assert handler is not None
    if failure is None:
        await handler.run(ctx)
    else:
        ctx.phase = "failure"
        await handler.on_failure(ctx, failure)
    assert ctx.finished


async def test_a_provider_failure_after_a_retry_refunds_exactly_once(
    api: Api, script: Script, app: FastAPI
) -> None:
    start = await api.balance()
    generation_id = await generation_with_failure(
        api,
        script,
        ProviderError("the model is overloaded", retryable=True),
        ProviderError("the model refused the content"),
    )
    done = await api.wait(generation_id)
    assert done["status"] == "failed"
    assert done["error"] == {
        "code": "GENERATION_FAILED",
        "message": "the model refused the content",
    }
    assert "outputs" not in done
    assert done["credits_used"] == 0
    assert len(script.requests) == 2
    (job,) = await jobs_for(app, generation_id)
    assert (job.status, job.attempts) == ("failed", 2)
    assert await api.balance() == start
    assert await ledger(app, generation_id) == [("hold", -6), ("refund", 6)]
    (event,) = await events(app, generation_id)
    assert event["event"] == "generation.failed"
    assert event["data"] == {
        "generation_id": generation_id,
        "status": "failed",
        "error_code": "GENERATION_FAILED",
        "error_message": "the model refused the content",
    }

    # The handler runs again (a duplicate job), through both of its paths: nothing moves.
    await run_handler_again(app, api, generation_id, JobError("again", code="GENERATION_FAILED"))
    await run_handler_again(app, api, generation_id, None)
    assert await ledger(app, generation_id) == [("hold", -6), ("refund", 6)]
    assert len(await events(app, generation_id)) == 1
    assert await api.balance() == start
    assert len(script.requests) == 2
    assert (await api.wait(generation_id))["error"]["message"] == "the model refused the content"


async def test_retries_exhausted_fail_once_with_a_safe_message(
    api: Api, script: Script, app: FastAPI
) -> None:
    start = await api.balance()
    generation_id = await generation_with_failure(
        api, script, *[RuntimeError("db password is hunter2")] * 5
    )
    done = await api.wait(generation_id)
    assert done["status"] == "failed"
    assert done["error"]["code"] == "GENERATION_FAILED"
    assert "hunter2" not in done["error"]["message"]
    assert len(script.requests) == 5
    (job,) = await jobs_for(app, generation_id)
    assert (job.status, job.attempts) == ("failed", 5)
    assert await ledger(app, generation_id) == [("hold", -6), ("refund", 6)]
    assert await api.balance() == start
    assert [e["event"] for e in await events(app, generation_id)] == ["generation.failed"]


async def test_a_completed_generation_is_not_charged_or_announced_twice(
    api: Api, script: Script, app: FastAPI
) -> None:
    generation_id = await generation_with_failure(api, script)
    done = await api.wait(generation_id)
    assert done["status"] == "completed"
    await run_handler_again(app, api, generation_id, None)
    await run_handler_again(app, api, generation_id, JobError("late", code="GENERATION_FAILED"))
    again = await api.wait(generation_id)
    assert again == done
    assert await ledger(app, generation_id) == [("hold", -6)]
    assert [e["event"] for e in await events(app, generation_id)] == ["generation.completed"]
    assert len(script.requests) == 1


async def test_captions_over_a_limit_fail_the_generation_and_refund(
    api: Api, script: Script, app: FastAPI
) -> None:
    start = await api.balance()
    generation_id = await generation_with_failure(api, script, {"x": "y" * 281})
    done = await api.wait(generation_id)
    assert done["status"] == "failed"
    assert done["error"]["code"] == "GENERATION_FAILED"
    assert "over its limit" in done["error"]["message"]
    assert await api.balance() == start
    assert await ledger(app, generation_id) == [("hold", -6), ("refund", 6)]


async def test_a_provider_answer_breaking_platform_rules_is_fitted(
    api: Api, script: Script
) -> None:
    instagram = "Launch day!\n\n" + " ".join(f"#run{i}" for i in range(33))
    script.steps.append(
        {
            "instagram": instagram,
            "youtube": {"title": "Shoes <new>", "description": "Fast -> faster <3"},
        }
    )
    post_types = ["instagram-feed", "youtube-video"]
    response = await api.generate(
        prompt="Launch day for the new running shoes",
        post_types=post_types,
        research_mode="regular",
    )
    done = await api.wait(response.json()["generation_id"])
    assert done["status"] == "completed", done
    assert done["outputs"]["instagram"] == "Launch day!\n\n" + " ".join(
        f"#run{i}" for i in range(30)
    )
    assert done["outputs"]["youtube"] == {
        "title": "Shoes \u2039new\u203a",
        "description": "Fast -\u203a faster \u20393",
    }
    assert_within_limits(done["outputs"], post_types)


@pytest.mark.parametrize("prompt", ["!!! ???", "\U0001f680\U0001f680\U0001f680 " * 400])
async def test_a_prompt_without_words_still_gets_captions(
    api: Api, script: Script, prompt: str
) -> None:
    post_types = ["youtube-short", "instagram-reel", "linkedin-post", "x-post"]
    response = await api.generate(
        prompt=prompt[:2000], post_types=post_types, research_mode="regular"
    )
    assert response.status_code == 200, response.text
    done = await api.wait(response.json()["generation_id"])
    assert done["status"] == "completed", done
    assert done["outputs"]["youtube"]["title"] == "New Short"
    assert_within_limits(done["outputs"], post_types)
    (request,) = script.requests
    assert request.post_types == tuple(post_types)


async def test_generations_are_private_to_their_workspace(
    api: Api, script: Script, client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    generation_id = await generation_with_failure(api, script)
    await api.wait(generation_id)
    second_ws = await factory.workspace(api.tenant)
    other = await make_api(client, app, factory)
    for hdrs in (headers(api.secret, second_ws), other.headers):
        one = await client.get(f"/api/v1/content/generations/{generation_id}", headers=hdrs)
        assert one.status_code == 404
        assert one.json()["error"]["code"] == "NOT_FOUND"
        listed = await client.get("/api/v1/content/generations", headers=hdrs)
        assert listed.json() == {"data": [], "next_cursor": None, "has_more": False}
    for bad in ("nope", "00000000-0000-4000-8000-000000000000", generation_id + "x"):
        assert (await api.get(bad)).status_code == 404
    assert (await api.get(generation_id.upper())).status_code == 200

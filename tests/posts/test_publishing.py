"""Publishing end to end through HTTP, the embedded job engine and the simulated platforms:
the quickstart with a test key, exactly-once under concurrency and crashes, failure
scenarios, retry of failed items only, credits held and charged only for what posted."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from tests.fixtures import media
from tests.fixtures.factories import Factory
from tests.posts.support import (
    PostsApi,
    attempts,
    make_posts_api,
    post_events,
    sandbox_posts,
)

from powerpost.credits import service as credits
from powerpost.kit.platforms import POST_TYPES
from powerpost.publishing import adapters
from powerpost.publishing.adapters import OutgoingItem, PublishedPost
from powerpost.publishing.sandbox import SandboxPlatform

TEXT = [{"post_type": "x-post", "content": "Hello from the sandbox #launch"}]


async def test_quickstart_with_a_test_key(sandbox: PostsApi, tmp_path: Path) -> None:
    """§13 on the embedded default: credits → generate → poll → post → publish → poll."""
    credits = await sandbox.http.get("/api/v1/account/credits", headers=sandbox.headers)
    assert credits.status_code == 200
    assert credits.json()["balance"] == 50
    started = await sandbox.http.post(
        "/api/v1/content/generate",
        json={
            "prompt": "Our bakery opens a second shop downtown this Saturday",
            "post_types": ["instagram-feed", "x-post", "linkedin-post", "youtube-short"],
            "research_mode": "regular",
        },
        headers=sandbox.headers,
    )
    assert started.status_code == 200, started.text
    generation_id = started.json()["generation_id"]
    generation = await media.wait_finished(
        sandbox.http, f"/api/v1/content/generations/{generation_id}", sandbox.headers
    )
    assert generation["status"] == "completed"

    photo = await sandbox.image()
    clip = media.make_mp4(tmp_path / "clip.mp4", seconds=2.0)
    video = await sandbox.upload(clip.read_bytes(), "video", "clip.mp4")
    post = await sandbox.create_ok(
        [
            {"post_type": "instagram-feed", "media_ids": [photo]},
            {"post_type": "x-post"},
            {"post_type": "linkedin-post", "media_ids": [photo]},
            {"post_type": "youtube-short", "media_ids": [video]},
        ],
        generation_id=generation_id,
    )
    assert post["status"] == "draft"
    outputs = generation["outputs"]
    by_type = {i["post_type"]: i for i in post["items"]}
    assert by_type["x-post"]["content"] == outputs["x"]
    assert by_type["youtube-short"]["title"] == outputs["youtube"]["title"]
    assert all(i["status"] == "draft" for i in post["items"])

    before_publish = await sandbox.balance()
    published = await sandbox.action(post["post_id"], "publish")
    assert published.status_code == 200, published.text
    assert published.json() == {
        "post_id": post["post_id"],
        "status": "publishing",
        "credits_used": 0,
        "status_url": f"/api/v1/posts/{post['post_id']}",
    }
    done = await sandbox.wait(post["post_id"])
    assert done["status"] == "published"
    for item in done["items"]:
        assert item["status"] == "posted"
        assert item["platform_post_id"]
        assert item["platform_url"].startswith("https://")
        assert await sandbox_posts(sandbox.app, item["item_id"]) == 1
    urls = {i["post_type"]: i["platform_url"] for i in done["items"]}
    assert re.fullmatch(r"https://x\.com/pp_sandbox_[0-9a-f]{8}/status/1\d{18}", urls["x-post"])
    assert re.fullmatch(r"https://www\.youtube\.com/shorts/[\w-]{11}", urls["youtube-short"])
    # Test mode spends nothing: the balance is where it started.
    assert await sandbox.balance() == before_publish
    assert await media.ledger(sandbox.app, f"post:{post['post_id']}:") == []
    events = await post_events(sandbox.app, post["post_id"])
    assert [e["event"] for e in events] == ["post.published"]
    assert events[0]["data"] == done


async def test_live_key_without_connections_names_the_platforms(live: PostsApi) -> None:
    post = await live.create_ok(
        [
            {"post_type": "x-post", "content": "hello"},
            {"post_type": "facebook-post", "content": "hello"},
        ]
    )
    response = await live.action(post["post_id"], "publish")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "PLATFORM_NOT_CONNECTED"
    assert "facebook" in error["message"]
    assert error["platforms"] == ["facebook", "x"]
    again = await live.get(post["post_id"])
    assert again.json()["status"] == "draft"


@pytest.mark.parametrize("verb", ["publish", "schedule", "cancel", "retry"])
async def test_draft_only_keys_cannot_publish(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory, verb: str
) -> None:
    drafter = await make_posts_api(client, app, factory, mode="test", key_type="read_draft")
    post = await drafter.create_ok(TEXT)  # a Draft Only key makes drafts
    body = {"scheduled_at": "2099-01-01T00:00:00Z"} if verb == "schedule" else None
    response = await drafter.action(post["post_id"], verb, json=body)
    assert response.status_code == 403
    assert response.json()["error"] == {
        "message": "This API key lacks the 'posts:publish' scope",
        "code": "INSUFFICIENT_SCOPE",
        "required_scope": "posts:publish",
    }
    assert (await drafter.get(post["post_id"])).json()["status"] == "draft"


async def test_concurrent_publishes_one_wins(sandbox: PostsApi) -> None:
    post = await sandbox.create_ok(TEXT)
    answers = await asyncio.gather(*(sandbox.action(post["post_id"], "publish") for _ in range(6)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 409, 409, 409, 409, 409], [a.text for a in answers]
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 409} == {
        "ALREADY_PUBLISHED"
    }
    done = await sandbox.wait(post["post_id"])
    assert done["status"] == "published"
    assert await sandbox_posts(sandbox.app, done["items"][0]["item_id"]) == 1
    again = await sandbox.action(post["post_id"], "publish")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "ALREADY_PUBLISHED"


ALL_TEXT_TYPES = ["x-post", "facebook-post", "linkedin-post"]


async def test_partial_then_retry_fixes_only_the_failed_items(sandbox: PostsApi) -> None:
    post = await sandbox.create_ok(
        [{"post_type": t, "content": f"Text for {t}"} for t in ALL_TEXT_TYPES]
    )
    started = await sandbox.action(post["post_id"], "publish", scenario="partial")
    assert started.status_code == 200, started.text
    done = await sandbox.wait(post["post_id"])
    assert done["status"] == "partial"
    statuses = [i["status"] for i in done["items"]]
    assert statuses == ["posted", "failed", "posted"]
    failed = done["items"][1]
    assert failed["error"]["code"] == "CONTENT_REJECTED"
    assert "facebook" in failed["error"]["message"]
    first_ids = {
        i["item_id"]: i["platform_post_id"] for i in done["items"] if i["platform_post_id"]
    }
    assert [e["event"] for e in await post_events(sandbox.app, post["post_id"])] == ["post.partial"]

    retried = await sandbox.action(post["post_id"], "retry")
    assert retried.status_code == 200, retried.text
    final = await sandbox.wait(post["post_id"])
    assert final["status"] == "published"
    for item in final["items"]:
        assert await sandbox_posts(sandbox.app, item["item_id"]) == 1
        if item["item_id"] in first_ids:
            assert item["platform_post_id"] == first_ids[item["item_id"]]
    assert len(await attempts(sandbox.app, done["items"][0]["item_id"])) == 1
    retried_attempts = await attempts(sandbox.app, failed["item_id"])
    assert [a.outcome for a in retried_attempts] == ["failed", "posted"]
    assert "community standards" in (retried_attempts[0].raw_error or "")
    nothing_left = await sandbox.action(post["post_id"], "retry")
    assert nothing_left.status_code == 409
    assert nothing_left.json()["error"]["code"] == "INVALID_STATE"


async def test_timeout_after_the_platform_posted_is_reconciled_not_reposted(
    sandbox: PostsApi,
) -> None:
    post = await sandbox.create_ok(TEXT)
    assert (await sandbox.action(post["post_id"], "publish", scenario="timeout")).status_code == 200
    done = await sandbox.wait(post["post_id"])
    assert done["status"] == "published"
    item = done["items"][0]
    # The first call made the post and lost its answer; the retry found it instead of
    # posting again.
    assert await sandbox_posts(sandbox.app, item["item_id"]) == 1
    history = await attempts(sandbox.app, item["item_id"])
    assert [a.outcome for a in history] == ["posted", "reconciled"]
    assert history[0].error_code == "PLATFORM_TIMEOUT"


async def test_token_expired_fails_every_item_without_retrying(sandbox: PostsApi) -> None:
    post = await sandbox.create_ok(
        [{"post_type": t, "content": "hello"} for t in ("x-post", "linkedin-post")]
    )
    await sandbox.action(post["post_id"], "publish", scenario="token_expired")
    done = await sandbox.wait(post["post_id"])
    assert done["status"] == "failed"
    for item in done["items"]:
        assert item["error"]["code"] == "TOKEN_EXPIRED"
        history = await attempts(sandbox.app, item["item_id"])
        assert [a.outcome for a in history] == ["failed"]
        assert re.search(r"expired|revoked|invalid|Unauthorized", history[0].raw_error or "")
    assert [e["event"] for e in await post_events(sandbox.app, post["post_id"])] == ["post.failed"]


async def test_rate_limited_waits_for_the_reset_and_posts(sandbox: PostsApi) -> None:
    post = await sandbox.create_ok(TEXT)
    await sandbox.action(post["post_id"], "publish", scenario="rate_limited")
    done = await sandbox.wait(post["post_id"])
    assert done["status"] == "published"
    history = await attempts(sandbox.app, done["items"][0]["item_id"])
    assert [a.outcome for a in history] == ["retrying", "posted"]
    assert history[0].error_code == "RATE_LIMITED"
    # The platform asked for a 1 s pause; the retry honoured it.
    assert (history[1].started_at - history[0].finished_at).total_seconds() >= 0.9


async def test_media_rejected_fails_items_with_media_only(sandbox: PostsApi) -> None:
    photo = await sandbox.image()
    post = await sandbox.create_ok(
        [
            {"post_type": "instagram-feed", "content": "look", "media_ids": [photo]},
            {"post_type": "x-post", "content": "no media here"},
        ]
    )
    await sandbox.action(post["post_id"], "publish", scenario="media_rejected")
    done = await sandbox.wait(post["post_id"])
    assert done["status"] == "partial"
    assert [i["status"] for i in done["items"]] == ["failed", "posted"]
    assert done["items"][0]["error"]["code"] == "MEDIA_REJECTED"


async def test_scenarios_are_for_test_keys_and_must_be_known(
    sandbox: PostsApi, live: PostsApi
) -> None:
    post = await sandbox.create_ok(TEXT)
    unknown = await sandbox.action(post["post_id"], "publish", scenario="meteor")
    assert unknown.status_code == 400
    assert "X-Test-Scenario" in unknown.json()["error"]["message"]
    live_post = await live.create_ok(TEXT)
    refused = await live.action(live_post["post_id"], "publish", scenario="timeout")
    assert refused.status_code == 400


async def test_crash_after_the_intent_reconciles_through_lookup(sandbox: PostsApi) -> None:
    """A worker that died after the platform accepted the post (the intent row is left
    `pending`) is followed by a try that finds the post instead of making a second one."""
    post = await sandbox.create_ok(TEXT)
    app = sandbox.app
    item_id = post["items"][0]["item_id"]
    calls = {"publish": 0, "lookup": 0}

    class Crashing(SandboxPlatform):
        async def publish(self, item: OutgoingItem) -> PublishedPost:
            calls["publish"] += 1
            made = await super().publish(item)
            if calls["publish"] == 1:
                raise SystemError("worker killed after the platform answered")
            return made

        async def lookup(self, item: OutgoingItem) -> PublishedPost | None:
            calls["lookup"] += 1
            return await super().lookup(item)

    adapters.register_adapter("test", "x", lambda ctx, platform: Crashing(ctx, platform))
    try:
        assert (await sandbox.action(post["post_id"], "publish")).status_code == 200
        done = await sandbox.wait(post["post_id"])
    finally:
        adapters.register_adapter("test", "x", lambda ctx, platform: SandboxPlatform(ctx, platform))
    assert done["status"] == "published"
    assert calls == {"publish": 1, "lookup": 1}
    assert await sandbox_posts(app, item_id) == 1
    assert [a.outcome for a in await attempts(app, item_id)] == ["posted", "reconciled"]


@pytest.fixture
def live_x(app: FastAPI) -> Iterator[list[OutgoingItem]]:
    """A live "x" adapter (the platforms issue brings the real one): records what it is
    sent and fails the items whose content says so."""
    sent: list[OutgoingItem] = []

    class FakeLive(SandboxPlatform):
        async def publish(self, item: OutgoingItem) -> PublishedPost:
            sent.append(item)
            if "fail me" in (item.content or ""):
                raise adapters.PlatformError(adapters.CONTENT_REJECTED, "refused by the fake")
            return await super().publish(item)

    for platform in ("x", "linkedin"):
        adapters.register_adapter("live", platform, lambda ctx, p: FakeLive(ctx, p))
    yield sent
    for platform in ("x", "linkedin"):
        adapters.unregister_adapter("live", platform)


async def test_live_credits_held_then_charged_only_for_what_posted(
    live: PostsApi, live_x: list[OutgoingItem]
) -> None:
    before = await live.balance()
    post = await live.create_ok(
        [
            {"post_type": "x-post", "content": "posts fine"},
            {"post_type": "linkedin-post", "content": "fail me please"},
        ]
    )
    quote = await live.action(post["post_id"], "publish", params={"dry_run": "true"})
    assert quote.status_code == 200
    assert quote.json()["dry_run"] is True
    assert quote.json()["credits_required"] == 1 + 3
    assert await live.balance() == before
    started = await live.action(post["post_id"], "publish")
    assert started.json()["credits_used"] == 4
    done = await live.wait(post["post_id"])
    assert done["status"] == "partial"
    # The X item posted: 1 for the action + 3 for the X item; LinkedIn's failure is free.
    assert done["credits_used"] == 4
    assert await live.balance() == before - 4
    ledger = await media.ledger(live.app, f"post:{post['post_id']}:")
    assert ledger == [("hold", -4)]  # all captured: nothing to release


async def test_retry_charges_its_own_round(live: PostsApi, live_x: list[OutgoingItem]) -> None:
    before = await live.balance()
    post = await live.create_ok(
        [
            {"post_type": "x-post", "content": "fail me on X"},
            {"post_type": "linkedin-post", "content": "fine"},
        ]
    )
    await live.action(post["post_id"], "publish")
    first = await live.wait(post["post_id"])
    assert first["status"] == "partial"
    assert first["credits_used"] == 1  # the action; the X item failed
    ledger = await media.ledger(live.app, f"post:{post['post_id']}:")
    assert ledger == [("hold", -4), ("release", 3)]
    assert await live.balance() == before - 1
    quote = await live.action(post["post_id"], "retry", params={"dry_run": "true"})
    assert quote.json()["credits_required"] == 4
    await live.action(post["post_id"], "retry")
    second = await live.wait(post["post_id"])
    assert second["status"] == "partial"  # the fake still refuses it
    assert second["credits_used"] == 1
    assert await live.balance() == before - 1
    # Only the failed X item went out again.
    # (the first round's two items run in parallel, in either order)
    sent = [i.item_id for i in live_x]
    assert sorted(sent[:2]) == sorted(i["item_id"] for i in post["items"])
    assert sent[2:] == [post["items"][0]["item_id"]]
    assert await media.ledger(live.app, f"post:{post['post_id']}:round:2") == [
        ("hold", -4),
        ("release", 4),
    ]


async def test_insufficient_credits_is_402_and_nothing_moves(
    live: PostsApi, live_x: list[OutgoingItem], app: FastAPI
) -> None:
    post = await live.create_ok([{"post_type": "x-post", "content": "hello"}])
    async with app.state.db.write() as session:
        balance = await credits.balance(session, live.tenant.account_id)
        await credits.hold(
            session,
            live.tenant.account_id,
            balance - 2,
            reference="test:drain",
            reason="drain",
        )
    response = await live.action(post["post_id"], "publish")
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "INSUFFICIENT_CREDITS"
    assert (await live.get(post["post_id"])).json()["status"] == "draft"
    assert await media.ledger(live.app, f"post:{post['post_id']}:") == []


def test_every_post_type_has_a_sandbox() -> None:
    assert set(POST_TYPES.values()) <= adapters.connected_platforms("test")

"""Each publish round is a paid job row (`publish_rounds`, `jobs.paid`): one per round,
holding the round's price, concluded once when its last item settles, capturing the price of
what posted and releasing the rest; a refused hold leaves no round behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from tests.fixtures import media
from tests.posts.support import PostsApi, post_events

from powerpost.credits import service as credits
from powerpost.kit.platforms import RULES
from powerpost.models import CreditHold, Job, PublishRound
from powerpost.publishing import adapters, service, tasks
from powerpost.publishing.adapters import OutgoingItem, PublishedPost
from powerpost.publishing.sandbox import SandboxPlatform


async def rounds(app: FastAPI, post_id: str) -> list[PublishRound]:
    async with app.state.db.read() as session:
        stmt = (
            select(PublishRound)
            .where(PublishRound.post_id == post_id)
            .order_by(PublishRound.number)
        )
        return list((await session.execute(stmt)).scalars())


@pytest.fixture
def refused(app: FastAPI) -> Iterator[set[str]]:
    """Live "x" and "linkedin" adapters that refuse the item ids in the returned set (a test
    changes it between rounds)."""
    refuse: set[str] = set()

    class FakeLive(SandboxPlatform):
        async def publish(self, item: OutgoingItem) -> PublishedPost:
            if item.item_id in refuse:
                raise adapters.PlatformError(adapters.CONTENT_REJECTED, "refused by the fake")
            return await super().publish(item)

    for platform in ("x", "linkedin"):
        adapters.register_adapter("live", platform, lambda ctx, p: FakeLive(ctx, p))
    yield refuse
    for platform in ("x", "linkedin"):
        adapters.unregister_adapter("live", platform)


TWO = [
    {"post_type": "x-post", "content": "on X"},
    {"post_type": "linkedin-post", "content": "on LinkedIn"},
]


async def test_one_round_per_publish_charged_what_posted(live: PostsApi, refused: set[str]) -> None:
    before = await live.balance()
    post = await live.create_ok(TWO)
    x_item, linkedin_item = (i["item_id"] for i in post["items"])
    refused.add(x_item)
    started = await live.action(post["post_id"], "publish")
    assert started.json()["credits_used"] == 4
    first = await live.wait(post["post_id"])
    assert first["status"] == "partial"
    (round_1,) = await rounds(live.app, post["post_id"])
    # the action posted (LinkedIn): 1 captured, the X item's 3 released
    assert (round_1.number, round_1.status, round_1.items_sent) == (1, "partial", 2)
    assert round_1.credits_used == 1
    assert round_1.finished_at is not None
    assert round_1.api_key_id == live.key_id
    reference = f"post:{post['post_id']}:round:1"
    assert await media.ledger(live.app, reference) == [("hold", -4), ("release", 3)]

    refused.clear()
    assert (await live.action(post["post_id"], "retry")).status_code == 200
    second = await live.wait(post["post_id"])
    assert second["status"] == "published"
    round_1_again, round_2 = await rounds(live.app, post["post_id"])
    assert (round_1_again.status, round_1_again.credits_used) == ("partial", 1)
    # the retry sent only the X item; it posted: the action and the X item, all captured
    assert (round_2.number, round_2.status, round_2.items_sent) == (2, "published", 1)
    assert round_2.credits_used == 4
    assert await media.ledger(live.app, f"post:{post['post_id']}:round:2") == [("hold", -4)]
    # the post's total is what its rounds captured, and so is the balance
    assert second["credits_used"] == 1 + 4
    assert await live.balance() == before - 5
    events = [e["event"] for e in await post_events(live.app, post["post_id"])]
    assert events == ["post.partial", "post.published"]
    assert linkedin_item in {i["item_id"] for i in second["items"]}


async def test_a_round_where_nothing_posted_releases_its_whole_hold(
    live: PostsApi, refused: set[str]
) -> None:
    before = await live.balance()
    post = await live.create_ok(TWO)
    refused.update(i["item_id"] for i in post["items"])
    await live.action(post["post_id"], "publish")
    done = await live.wait(post["post_id"])
    assert done["status"] == "failed"
    (round_1,) = await rounds(live.app, post["post_id"])
    assert (round_1.status, round_1.credits_used) == ("failed", 0)
    assert round_1.error_code == "PUBLISH_FAILED"
    assert "refused by the fake" in (round_1.error_message or "")
    assert await media.ledger(live.app, f"post:{post['post_id']}:") == [
        ("hold", -4),
        ("release", 4),
    ]
    assert await live.balance() == before
    assert done["credits_used"] == 0
    assert [e["event"] for e in await post_events(live.app, post["post_id"])] == ["post.failed"]


async def twelve_items(api: PostsApi, tmp_path: Path) -> list[dict[str, Any]]:
    """One item of every post type (12), each with the media its platform requires."""
    photo = await api.image()
    clip = media.make_mp4(tmp_path / "clip.mp4", seconds=4.0)
    video = await api.upload(clip.read_bytes(), "video", "clip.mp4")
    items: list[dict[str, Any]] = []
    for post_type, rules in RULES.items():
        item: dict[str, Any] = {"post_type": post_type, "content": f"Hello from {post_type}"}
        if rules.media_min:
            item["media_ids"] = [photo if "image" in rules.media_kinds else video]
        if rules.needs_title:
            item["title"] = "A title"
        items.append(item)
    assert len(items) == 12
    return items


async def test_twelve_items_conclude_their_round_once(sandbox: PostsApi, tmp_path: Path) -> None:
    items = await twelve_items(sandbox, tmp_path)
    post = await sandbox.create_ok(items)
    await sandbox.action(post["post_id"], "publish", scenario="partial")
    done = await sandbox.wait(post["post_id"])
    assert done["status"] == "partial"
    (round_1,) = await rounds(sandbox.app, post["post_id"])
    assert (round_1.status, round_1.items_sent, round_1.credits_used) == (
        "partial",
        len(items),
        0,
    )
    assert [e["event"] for e in await post_events(sandbox.app, post["post_id"])] == ["post.partial"]
    # a late twin of the last item's conclusion (a job run twice) finds the round finished
    async with sandbox.app.state.db.write() as session:
        await tasks.conclude_round(
            session, sandbox.app.state.settings, post["post_id"], 1, round_1.created_at
        )
    assert len(await post_events(sandbox.app, post["post_id"])) == 1


async def test_a_refused_hold_leaves_no_round_job_or_hold(
    live: PostsApi, refused: set[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 402 of the hold itself (the balance spent between the check and the hold): the
    request's transaction rolls back whole."""
    post = await live.create_ok(TWO)
    async with live.app.state.db.write() as session:
        balance = await credits.balance(session, live.tenant.account_id)
        await credits.hold(
            session, live.tenant.account_id, balance - 2, reference="test:drain", reason="drain"
        )

    async def stale_balance(session: AsyncSession, account_id: str) -> int:
        return 50  # what the check read before a concurrent spend took all but 2

    monkeypatch.setattr(service.credits, "balance", stale_balance)
    response = await live.action(post["post_id"], "publish")
    monkeypatch.undo()
    assert response.status_code == 402, response.text
    assert response.json()["error"]["code"] == "INSUFFICIENT_CREDITS"
    assert (await live.get(post["post_id"])).json()["status"] == "draft"
    assert await rounds(live.app, post["post_id"]) == []
    async with live.app.state.db.read() as session:
        jobs = (await session.execute(select(Job).where(Job.kind == service.PUBLISH_ITEM))).all()
        holds = (
            await session.execute(
                select(CreditHold).where(CreditHold.reference.startswith(f"post:{post['post_id']}"))
            )
        ).all()
    assert jobs == []
    assert holds == []
    assert await media.ledger(live.app, f"post:{post['post_id']}:") == []

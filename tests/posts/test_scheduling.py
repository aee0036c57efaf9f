"""Scheduling: the time rules, checks at schedule time, cancel, and a due post firing once
however many times its fire job runs (a second dispatcher, a restart)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from tests.posts.support import PostsApi, sandbox_posts

from powerpost.jobs import enqueue
from powerpost.kit.clock import iso_z, utcnow
from powerpost.models import Job, Post

TEXT = [{"post_type": "x-post", "content": "Scheduled hello"}]


async def _fire_jobs(app: FastAPI, post_id: str) -> list[Job]:
    async with app.state.db.read() as session:
        stmt = select(Job).where(Job.subject_id == post_id, Job.kind == "publishing.fire")
        return list((await session.execute(stmt)).scalars())


async def _make_due(app: FastAPI, post_id: str) -> None:
    """Bring the post's moment to now, as the clock would."""
    async with app.state.db.write() as session:
        await session.execute(
            update(Job)
            .where(Job.subject_id == post_id, Job.kind == "publishing.fire")
            .values(next_attempt_at=utcnow(), kicked_at=None)
        )


async def _wait_job_done(app: FastAPI, post_id: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        jobs = await _fire_jobs(app, post_id)
        if jobs and all(j.status in ("succeeded", "failed") for j in jobs):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the fire jobs did not finish")


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("2020-01-01T00:00:00Z", "at least 1 minute"),
        (None, "at most 60 days"),
        ("2030-01-01T09:00:00", "UTC offset"),
        ("2030-01-01", "date and a time"),
        ("next tuesday", "ISO-8601"),
        ("", "ISO-8601"),
    ],
)
async def test_schedule_time_rules(sandbox: PostsApi, value: str | None, fragment: str) -> None:
    post = await sandbox.create_ok(TEXT)
    when = value if value is not None else iso_z(utcnow() + timedelta(days=61))
    response = await sandbox.action(post["post_id"], "schedule", json={"scheduled_at": when})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert fragment in response.json()["error"]["message"]
    assert "scheduled_at" in response.json()["error"]["message"]
    assert (await sandbox.get(post["post_id"])).json()["status"] == "draft"
    assert await _fire_jobs(sandbox.app, post["post_id"]) == []


async def test_schedule_checks_platforms_now(live: PostsApi) -> None:
    post = await live.create_ok(TEXT)
    when = iso_z(utcnow() + timedelta(hours=2))
    response = await live.action(post["post_id"], "schedule", json={"scheduled_at": when})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "PLATFORM_NOT_CONNECTED"


async def test_scheduled_post_fires_exactly_once(sandbox: PostsApi) -> None:
    post = await sandbox.create_ok(TEXT)
    when = (utcnow() + timedelta(minutes=5)).replace(microsecond=0)
    offset = when.astimezone().isoformat()  # any offset is fine
    scheduled = await sandbox.action(post["post_id"], "schedule", json={"scheduled_at": offset})
    assert scheduled.status_code == 200, scheduled.text
    assert scheduled.json() == {
        "post_id": post["post_id"],
        "status": "scheduled",
        "scheduled_at": iso_z(when),
    }
    shown = (await sandbox.get(post["post_id"])).json()
    assert shown["status"] == "scheduled"
    assert shown["scheduled_at"] == iso_z(when)
    again = await sandbox.action(post["post_id"], "publish")
    assert again.status_code == 409  # cancel first

    # A second dispatcher (or a restart that re-queued it) runs the same fire again.
    async with sandbox.app.state.db.write() as session:
        await enqueue(
            session,
            kind="publishing.fire",
            account_id=sandbox.tenant.account_id,
            workspace_id=sandbox.tenant.workspace_id,
            subject_id=post["post_id"],
            payload={"scheduled_at": iso_z(when), "api_key_id": sandbox.key_id},
            delay=3600,
        )
    await _make_due(sandbox.app, post["post_id"])
    done = await sandbox.wait(post["post_id"])
    await _wait_job_done(sandbox.app, post["post_id"])
    assert done["status"] == "published"
    assert await sandbox_posts(sandbox.app, done["items"][0]["item_id"]) == 1
    async with sandbox.app.state.db.read() as session:
        row = await session.get(Post, post["post_id"])
        assert row is not None
        assert row.publish_round == 1


async def test_cancelled_post_does_not_fire(sandbox: PostsApi) -> None:
    post = await sandbox.create_ok(TEXT)
    when = iso_z(utcnow() + timedelta(minutes=10))
    await sandbox.action(post["post_id"], "schedule", json={"scheduled_at": when})
    cancelled = await sandbox.action(post["post_id"], "cancel")
    assert cancelled.status_code == 200
    assert cancelled.json() == {"post_id": post["post_id"], "status": "draft"}
    twice = await sandbox.action(post["post_id"], "cancel")
    assert twice.status_code == 409
    await _make_due(sandbox.app, post["post_id"])
    await _wait_job_done(sandbox.app, post["post_id"])
    shown = (await sandbox.get(post["post_id"])).json()
    assert shown["status"] == "draft"
    assert shown["scheduled_at"] is None
    assert await sandbox_posts(sandbox.app, post["items"][0]["item_id"]) == 0


async def test_dry_run_schedule_changes_nothing(sandbox: PostsApi) -> None:
    post = await sandbox.create_ok(TEXT)
    when = iso_z(utcnow() + timedelta(days=3))
    quote = await sandbox.action(
        post["post_id"], "schedule", json={"scheduled_at": when}, params={"dry_run": "true"}
    )
    assert quote.status_code == 200
    assert quote.json()["dry_run"] is True
    assert quote.json()["credits_required"] == 0
    assert (await sandbox.get(post["post_id"])).json()["status"] == "draft"
    assert await _fire_jobs(sandbox.app, post["post_id"]) == []

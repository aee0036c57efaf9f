"""The webhook outbox writer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from powerpost.kit.clock import utcnow
from powerpost.kit.db import Database
from powerpost.models import WebhookEvent
from powerpost.webhooks.events import WEBHOOK_EVENTS, UnknownWebhookEvent, record_event
from tests.jobs.support import Tenant


async def all_events(db: Database) -> list[WebhookEvent]:
    async with db.read() as session:
        return list((await session.execute(select(WebhookEvent))).scalars())


def test_the_event_list_is_the_contracts() -> None:
    assert set(WEBHOOK_EVENTS) == {
        "generation.completed",
        "generation.failed",
        "image_generation.completed",
        "image_generation.failed",
        "video_generation.completed",
        "video_generation.failed",
        "post.published",
        "post.failed",
        "post.partial",
    }


async def test_an_event_is_stored_as_its_full_envelope(db: Database, tenant: Tenant) -> None:
    before = utcnow().replace(microsecond=0)
    data = {"generation_id": "g1", "status": "completed", "outputs": {"x": {"caption": "hi"}}}
    async with db.write() as session:
        event_id = await record_event(
            session,
            workspace_id=tenant.workspace_id,
            mode="live",
            event="generation.completed",
            data=data,
        )
    (row,) = await all_events(db)
    assert row.id == event_id
    assert row.event == "generation.completed"
    assert row.workspace_id == tenant.workspace_id
    assert row.delivered_at is None
    assert set(row.payload) == {"event", "timestamp", "workspace_id", "data"}
    assert row.payload["event"] == "generation.completed"
    assert row.payload["workspace_id"] == tenant.workspace_id
    assert row.payload["data"] == data
    stamp = row.payload["timestamp"]
    assert stamp.endswith("Z")
    assert stamp[:19] >= before.isoformat()[:19]
    assert abs(row.created_at - utcnow()) < timedelta(minutes=1)


async def test_an_event_rolls_back_with_its_transaction(db: Database, tenant: Tenant) -> None:
    async def outcome_that_fails() -> None:
        async with db.write() as session:
            await record_event(
                session,
                workspace_id=tenant.workspace_id,
                mode="live",
                event="generation.failed",
                data={"generation_id": "g", "status": "failed"},
            )
            raise RuntimeError("the outcome could not be saved")

    with pytest.raises(RuntimeError):
        await outcome_that_fails()
    assert await all_events(db) == []


async def test_unknown_events_and_non_json_data_are_refused(db: Database, tenant: Tenant) -> None:
    async with db.write() as session:
        with pytest.raises(UnknownWebhookEvent):
            await record_event(
                session,
                workspace_id=tenant.workspace_id,
                mode="live",
                event="generation.done",
                data={},
            )
        with pytest.raises(TypeError):
            await record_event(
                session,
                workspace_id=tenant.workspace_id,
                mode="live",
                event="post.published",
                data={"when": object()},
            )
    assert await all_events(db) == []

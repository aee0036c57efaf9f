"""The webhook outbox: events are rows written in the caller's transaction.

A job's outcome and the event announcing it commit together or not at all, so a client is
never told about a generation that rolled back, and a committed outcome always has its
event waiting for delivery: the event's delivery rows and their jobs are written in that
same transaction too (`deliveries.fan_out`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.kit.clock import iso_z, utcnow
from powerpost.kit.ids import new_id
from powerpost.models import WebhookEvent
from powerpost.webhooks.deliveries import fan_out

# Contract §12, including the [decision] events for videos and partially published posts.
WEBHOOK_EVENTS: tuple[str, ...] = (
    "generation.completed",
    "generation.failed",
    "image_generation.completed",
    "image_generation.failed",
    "video_generation.completed",
    "video_generation.failed",
    "post.published",
    "post.failed",
    "post.partial",
)


class UnknownWebhookEvent(ValueError):
    pass


def envelope(
    *, event: str, workspace_id: str, data: Mapping[str, Any], at: datetime
) -> dict[str, Any]:
    """The delivered body: `{event, timestamp, workspace_id, data}`."""
    return {
        "event": event,
        "timestamp": iso_z(at),
        "workspace_id": workspace_id,
        "data": dict(data),
    }


async def record_event(
    session: AsyncSession, *, workspace_id: str, mode: str, event: str, data: Mapping[str, Any]
) -> str:
    """Add an event about an object of `mode` to the outbox in the caller's transaction;
    returns its id."""
    if event not in WEBHOOK_EVENTS:
        raise UnknownWebhookEvent(f"unknown webhook event {event!r}")
    now = utcnow()
    payload = envelope(event=event, workspace_id=workspace_id, data=data, at=now)
    # Fail here, at the caller, rather than at commit time inside the JSON column.
    json.dumps(payload, allow_nan=False)
    row = WebhookEvent(
        id=new_id(),
        workspace_id=workspace_id,
        mode=mode,
        event=event,
        payload=payload,
        created_at=now,
        delivered_at=None,
    )
    session.add(row)
    await fan_out(session, row)
    return row.id


# Sent only by "send test event", to one endpoint, whatever it subscribes to.
TEST_EVENT = "webhook.test"


def test_event(*, workspace_id: str, mode: str, endpoint_id: str) -> WebhookEvent:
    """An outbox row for a test delivery; the caller adds it and creates its delivery."""
    now = utcnow()
    data = {"endpoint_id": endpoint_id, "message": "A test event from PowerPost"}
    return WebhookEvent(
        id=new_id(),
        workspace_id=workspace_id,
        mode=mode,
        event=TEST_EVENT,
        payload=envelope(event=TEST_EVENT, workspace_id=workspace_id, data=data, at=now),
        created_at=now,
        delivered_at=None,
    )

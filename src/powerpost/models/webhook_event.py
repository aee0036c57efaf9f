from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from powerpost.kit.db import Base, UTCDateTime
from powerpost.models.paid_row import LIVE, MODE_KNOWN


class WebhookEvent(Base):
    """The outbox: an event is written in the same transaction as the outcome it reports,
    so no outcome is committed without its event and no event without its outcome.
    `payload` is the complete envelope `{event, timestamp, workspace_id, data}` as it
    will be delivered."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        Index("ix_webhook_events_delivered_at_created_at", "delivered_at", "created_at"),
        Index("ix_webhook_events_workspace_id_created_at", "workspace_id", "created_at"),
        CheckConstraint(MODE_KNOWN, name="mode_known"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    # The mode of the object the event reports: only that mode's endpoints receive it.
    mode: Mapped[str] = mapped_column(String(4), server_default=LIVE)
    event: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

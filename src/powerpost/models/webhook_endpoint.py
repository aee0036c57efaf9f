from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from powerpost.kit.db import Base, UTCDateTime
from powerpost.models.paid_row import LIVE, MODE_KNOWN


class WebhookEndpoint(Base):
    """Where a workspace wants its events (§12): a URL, the events it takes, and the
    `whsec_…` secret deliveries are signed with.

    The secret is kept as given, not hashed: every delivery needs it to sign. During a
    rotation the previous secret keeps signing beside the new one until
    `previous_secret_expires_at`, so a receiver can switch without dropping a message.
    `failing_since` is the first failed attempt of the current unbroken run of failures;
    a success clears it. `disabled_reason` says why an endpoint stopped: `manual`, `gone`
    (the receiver answered 410) or `failing` (failed for days straight: flagged)."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        Index("ix_webhook_endpoints_workspace_id", "workspace_id"),
        CheckConstraint(
            "disabled_reason IS NULL OR disabled_reason IN ('manual', 'gone', 'failing')",
            name="disabled_reason_known",
        ),
        CheckConstraint(MODE_KNOWN, name="mode_known"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    # Live endpoints get live events, test endpoints test events; a key manages only its
    # own mode's endpoints (a test key never reads a live endpoint or its deliveries).
    mode: Mapped[str] = mapped_column(String(4), server_default=LIVE)
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str | None] = mapped_column(String(200))
    events: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(100))
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    enabled: Mapped[bool] = mapped_column(Boolean)
    disabled_reason: Mapped[str | None] = mapped_column(String(16))
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        # Never the secrets: a repr ends up in logs and tracebacks.
        return f"WebhookEndpoint(id={self.id!r}, url={self.url!r})"


class WebhookDelivery(Base):
    """One event for one endpoint: created with the event, in the same transaction, and
    driven to `succeeded` or `failed` by delivery jobs. `attempts` counts HTTP attempts;
    `next_attempt_at` is when the queued job will try again. Retention (30 days) goes by
    `created_at`, through the event it belongs to."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # event first: it also serves "is any delivery of this event still pending" and
        # the retention sweep, which look deliveries up by event
        UniqueConstraint("event_id", "endpoint_id", name="uq_webhook_deliveries_event_endpoint"),
        Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at"),
        Index("ix_webhook_deliveries_created_at", "created_at"),
        CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status_known"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(ForeignKey("webhook_events.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # The one job allowed to attempt this delivery; a redelivery replaces it, and a job
    # that finds another id here stops, so two jobs never deliver the same row at once.
    job_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebhookAttempt(Base):
    """One HTTP attempt of a delivery, kept 30 days: when, the status (None when no
    answer came), how long it took, the first 2 KB of the answer, or the error."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (
        Index("ix_webhook_attempts_delivery_id", "delivery_id"),
        Index("ix_webhook_attempts_endpoint_attempted", "endpoint_id", "attempted_at"),
        Index("ix_webhook_attempts_attempted_at", "attempted_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE")
    )
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(String(500))
    succeeded: Mapped[bool] = mapped_column(Boolean)

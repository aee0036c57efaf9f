from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from powerpost.kit.db import Base, UTCDateTime
from powerpost.models.paid_row import LIVE, MODE_KNOWN, PaidJobRow

GENERATION_STATUSES = ("pending", "processing", "completed", "failed")


class Generation(Base, PaidJobRow):
    """One `POST /content/generate`: what was asked, what it cost, and the captions.

    `credits_used` is the price held at the start; when the job ends it becomes what was
    really captured (source URLs that could not be used are given back, a failure gives
    back everything). `outputs` maps platform → caption, YouTube → {"title", "description"}.
    """

    __tablename__ = "generations"
    __table_args__ = (
        # Keyset pagination walks (created_at, id) newest first within a workspace and mode.
        Index(
            "ix_generations_workspace_mode_created_id", "workspace_id", "mode", "created_at", "id"
        ),
        Index("ix_generations_writing_style_id", "writing_style_id"),
        CheckConstraint(
            "status IN ('pending', 'processing', 'completed', 'failed')", name="status_known"
        ),
        CheckConstraint("research_mode IN ('regular', 'deep')", name="research_mode_known"),
        CheckConstraint("credits_used >= 0", name="credits_used_not_negative"),
        CheckConstraint(MODE_KNOWN, name="mode_known"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    api_key_id: Mapped[str | None] = mapped_column(String(36))
    # the key's mode: a test key sees only test generations, a live key only live ones
    mode: Mapped[str] = mapped_column(String(4), server_default=LIVE)
    status: Mapped[str] = mapped_column(String(16))
    prompt: Mapped[str | None] = mapped_column(Text)
    post_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    # distinct, in the order of the request's post types
    platforms: Mapped[list[str]] = mapped_column(JSON, default=list)
    research_mode: Mapped[str] = mapped_column(String(16))
    media_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    writing_style_id: Mapped[str | None] = mapped_column(
        ForeignKey("writing_styles.id", ondelete="SET NULL")
    )
    cta_text: Mapped[str | None] = mapped_column(String(100))
    source_urls: Mapped[list[str]] = mapped_column(JSON, default=list)
    # [{"url", "reason"}] for the source URLs that were not used (and so not charged)
    source_failures: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    credits_used: Mapped[int] = mapped_column(Integer)
    outputs: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from powerpost.kit.db import Base, UTCDateTime
from powerpost.models.paid_row import LIVE, MODE_KNOWN, PaidJobRow


class VideoGeneration(Base, PaidJobRow):
    """One `POST /videos/generate` and its outcome (the stored MP4 once completed)."""

    __tablename__ = "video_generations"
    __table_args__ = (
        Index("ix_video_generations_workspace_created", "workspace_id", "created_at"),
        CheckConstraint(
            "status IN ('pending', 'processing', 'completed', 'failed')", name="status_known"
        ),
        CheckConstraint("duration > 0", name="duration_positive"),
        CheckConstraint(MODE_KNOWN, name="mode_known"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    api_key_id: Mapped[str | None] = mapped_column(String(36))
    # the key's mode ("live" or "test"): the generation and its video are seen only in it
    mode: Mapped[str] = mapped_column(String(4), server_default=LIVE)
    status: Mapped[str] = mapped_column(String(16))
    prompt: Mapped[str] = mapped_column(Text)
    size: Mapped[str] = mapped_column(String(16))
    duration: Mapped[int] = mapped_column(Integer)  # seconds, as requested
    has_audio: Mapped[bool] = mapped_column(Boolean)
    model: Mapped[str] = mapped_column(String(32))
    enhance_prompt: Mapped[bool] = mapped_column(Boolean, default=False)
    source_media_id: Mapped[str | None] = mapped_column(ForeignKey("media.id", ondelete="SET NULL"))
    media_id: Mapped[str | None] = mapped_column(ForeignKey("media.id", ondelete="SET NULL"))
    credits_used: Mapped[int] = mapped_column(Integer)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

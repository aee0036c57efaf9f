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
from powerpost.models.paid_row import LIVE, MODE_KNOWN, PaidJobRow

GENERATION_STATUSES = ("pending", "processing", "completed", "failed")


class ImageGeneration(Base, PaidJobRow):
    """One `POST /images/generate`: what was asked, what it cost, how it ended.

    `unit_price` is the per-picture price held at the start, so settling a partly failed
    job captures exactly what was held for the good pictures even if prices change.
    """

    __tablename__ = "image_generations"
    __table_args__ = (
        Index("ix_image_generations_workspace_created", "workspace_id", "created_at"),
        CheckConstraint(
            "status IN ('pending', 'processing', 'completed', 'failed')", name="status_known"
        ),
        CheckConstraint("input_mode IN ('text', 'reference', 'post')", name="input_mode_known"),
        CheckConstraint(MODE_KNOWN, name="mode_known"),
        CheckConstraint("quantity BETWEEN 1 AND 4", name="quantity_range"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    api_key_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(16))
    # the key's mode ("live" or "test"): the generation and its pictures are seen only in it
    mode: Mapped[str] = mapped_column(String(4), server_default=LIVE)
    # what the pictures are made from: a prompt, reference pictures or a post's caption
    input_mode: Mapped[str] = mapped_column(String(16))
    # What GET shows: the client's prompt, or in post mode without one the caption-derived one.
    prompt: Mapped[str] = mapped_column(Text)
    prompt_from_caption: Mapped[bool] = mapped_column(Boolean, default=False)
    size: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[int] = mapped_column(Integer)
    model: Mapped[str] = mapped_column(String(32))
    enhance_prompt: Mapped[bool] = mapped_column(Boolean, default=False)
    style_media_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Post mode. No foreign key: the source is a snapshot taken when the job was started.
    source_generation_id: Mapped[str | None] = mapped_column(String(36))
    source_post_type: Mapped[str | None] = mapped_column(String(32))
    caption: Mapped[str | None] = mapped_column(Text)
    unit_price: Mapped[int] = mapped_column(Integer)
    credits_used: Mapped[int] = mapped_column(Integer)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ImageGenerationImage(Base):
    """The outcome of picture `position` of a generation: stored media or an error.

    A stored picture's row is written in the same transaction as its media row, so a
    retried job sees which pictures already exist and never stores one twice.
    """

    __tablename__ = "image_generation_images"
    __table_args__ = (
        UniqueConstraint("image_generation_id", "position"),
        CheckConstraint("position BETWEEN 0 AND 3", name="position_range"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    image_generation_id: Mapped[str] = mapped_column(
        ForeignKey("image_generations.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(Integer)
    media_id: Mapped[str | None] = mapped_column(ForeignKey("media.id", ondelete="SET NULL"))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

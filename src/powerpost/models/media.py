from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from powerpost.kit.db import Base, UTCDateTime


class Media(Base):
    """An uploaded or generated file of a workspace; its bytes live in the storage backend."""

    __tablename__ = "media"
    __table_args__ = (
        Index("ix_media_workspace_created", "workspace_id", "created_at"),
        Index("ix_media_account_id", "account_id"),
        CheckConstraint("kind IN ('image', 'video')", name="kind_known"),
        CheckConstraint("origin IN ('upload', 'generated')", name="origin_known"),
        CheckConstraint("file_size >= 0", name="file_size_not_negative"),
        CheckConstraint("mode IN ('live', 'test')", name="mode_known"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    # The mode of the key that uploaded or generated it: a test key can use only test media,
    # a live key only live media.
    mode: Mapped[str] = mapped_column(String(4), server_default="live")
    kind: Mapped[str] = mapped_column(String(8))
    mime_type: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(255))
    # What the account's storage quota counts (the original only, not the thumbnail).
    file_size: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    has_audio: Mapped[bool | None] = mapped_column(Boolean)
    # "#rrggbb" strings, most pixels first
    dominant_colors: Mapped[list[str]] = mapped_column(JSON, default=list)
    storage_key: Mapped[str] = mapped_column(String(512))
    thumbnail_key: Mapped[str | None] = mapped_column(String(512))
    thumbnail_width: Mapped[int | None] = mapped_column(Integer)
    thumbnail_height: Mapped[int | None] = mapped_column(Integer)
    origin: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Soft delete: the quota is given back and the files removed when this is set.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

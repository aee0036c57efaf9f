from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from powerpost.kit.db import Base, UTCDateTime

EMOJI_USES = ("none", "light", "heavy")


class WritingStyleRow(Base):
    """A workspace's house voice, applied by the caption providers when a request names it.

    (`WritingStyle` is the provider-facing dataclass in `generation.providers.base`.)
    """

    __tablename__ = "writing_styles"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name", name="uq_writing_styles_workspace_id_name"),
        Index("ix_writing_styles_account_id", "account_id"),
        CheckConstraint("emoji_use IN ('none', 'light', 'heavy')", name="emoji_use_known"),
        CheckConstraint("hashtag_count BETWEEN 0 AND 30", name="hashtag_count_range"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    tone: Mapped[str] = mapped_column(String(200))
    emoji_use: Mapped[str] = mapped_column(String(8))
    hashtag_count: Mapped[int] = mapped_column(Integer)
    example_posts: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

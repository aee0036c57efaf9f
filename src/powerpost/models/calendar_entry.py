from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from powerpost.kit.db import Base, UTCDateTime


class CalendarEntry(Base):
    """A note on the content calendar (§9): a plan for a day, not a post.

    `scheduled_time` is kept as its "HH:MM" text: zero-padded 24-hour text sorts like the
    time it names, on both databases, with no time-zone conversion to get wrong (an entry
    is a wall-clock plan, not an instant). `mode` is the mode of the key that made it:
    test keys see only test entries and live keys only live ones.
    """

    __tablename__ = "calendar_entries"
    __table_args__ = (
        # The range listing walks one workspace's entries of one mode by date.
        Index(
            "ix_calendar_entries_workspace_mode_date",
            "workspace_id",
            "mode",
            "scheduled_date",
        ),
        CheckConstraint("mode IN ('live', 'test')", name="mode_known"),
        CheckConstraint("status IN ('planned')", name="status_known"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    scheduled_date: Mapped[date] = mapped_column(Date())
    scheduled_time: Mapped[str | None] = mapped_column(String(5))
    platforms: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from powerpost.kit.db import Base, UTCDateTime
from powerpost.models.paid_row import PaidJobRow

POST_STATUSES = ("draft", "scheduled", "publishing", "published", "partial", "failed")
ITEM_STATUSES = ("draft", "posting", "posted", "failed")
ROUND_STATUSES = ("publishing", "published", "partial", "failed")


def _known(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Post(Base):
    """A post: 1-12 items, one per post type, published together.

    `publish_round` counts publish actions (publish, a scheduled fire, each retry); every
    round holds credits under its own reference and its item jobs carry the round, so a job
    left over from an earlier round can never touch a later one.
    """

    __tablename__ = "posts"
    __table_args__ = (
        # Keyset pagination walks (created_at, id) newest first within a workspace and mode.
        Index("ix_posts_workspace_mode_created_id", "workspace_id", "mode", "created_at", "id"),
        Index("ix_posts_status_scheduled_at", "status", "scheduled_at"),
        CheckConstraint(_known("status", POST_STATUSES), name="status_known"),
        CheckConstraint("mode IN ('live', 'test')", name="mode_known"),
        CheckConstraint("credits_used >= 0", name="credits_used_not_negative"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(4))
    # Who made it: an API key (its id) or a person in the dashboard (the account itself).
    created_by_key_id: Mapped[str | None] = mapped_column(String(36))
    generation_id: Mapped[str | None] = mapped_column(
        ForeignKey("generations.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(16))
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    publish_round: Mapped[int] = mapped_column(Integer, default=0)
    # What the X-Test-Scenario header asked of this round's simulated platforms.
    test_scenario: Mapped[str | None] = mapped_column(String(32))
    credits_used: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PostItem(Base):
    """One post type of a post, and what happened when it was sent to its platform."""

    __tablename__ = "post_items"
    __table_args__ = (
        Index("ix_post_items_post_position", "post_id", "position", unique=True),
        CheckConstraint(_known("status", ITEM_STATUSES), name="status_known"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    post_id: Mapped[str] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    post_type: Mapped[str] = mapped_column(String(32))
    platform: Mapped[str] = mapped_column(String(16))
    content: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(String(400))
    media_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16))
    # The round this item was last sent in (0: never).
    publish_round: Mapped[int] = mapped_column(Integer, default=0)
    platform_post_id: Mapped[str | None] = mapped_column(String(128))
    platform_url: Mapped[str | None] = mapped_column(String(512))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PublishRound(Base, PaidJobRow):
    """One publish round of a post (a publish, a scheduled fire, each retry): the paid job
    `jobs.paid` runs for it. It holds the round's price when it starts and, once every item
    sent in it has settled, captures the price of what posted and releases the rest.

    `credits_used` is what is held while the round runs and what it captured once finished;
    its status is the round's own (`partial`: some of the items it sent posted), while the
    post's status counts every item, including those posted by earlier rounds.
    """

    __tablename__ = "publish_rounds"
    __table_args__ = (
        Index("ix_publish_rounds_post_number", "post_id", "number", unique=True),
        CheckConstraint(_known("status", ROUND_STATUSES), name="status_known"),
        CheckConstraint("mode IN ('live', 'test')", name="mode_known"),
        CheckConstraint("credits_used >= 0", name="credits_used_not_negative"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    post_id: Mapped[str] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    # the post's `publish_round` this row is for (1 for the first publish)
    number: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    api_key_id: Mapped[str | None] = mapped_column(String(36))
    mode: Mapped[str] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(16))
    items_sent: Mapped[int] = mapped_column(Integer)
    credits_used: Mapped[int] = mapped_column(Integer)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PublishAttempt(Base):
    """One call (or reconciliation) of a platform for an item, recorded before the call.

    A row left at `outcome = 'pending'` is an intent whose answer never arrived (a crash, a
    timeout): the next try asks the platform first whether the post exists.
    """

    __tablename__ = "publish_attempts"
    __table_args__ = (
        Index("ix_publish_attempts_item_started", "item_id", "started_at"),
        CheckConstraint(
            "outcome IN ('pending', 'posted', 'failed', 'retrying', 'reconciled', 'unknown')",
            name="outcome_known",
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("post_items.id", ondelete="CASCADE"))
    post_id: Mapped[str] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    publish_round: Mapped[int] = mapped_column(Integer)
    adapter: Mapped[str] = mapped_column(String(64))
    # The reference sent with the post, by which `lookup` finds a post made before a crash.
    client_reference: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(64))
    # What the platform said, as it said it (secrets redacted), for people, never clients.
    raw_error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SandboxPost(Base):
    """A post "made" on a simulated platform (test mode): the platform's own record.

    Kept apart from our post rows, as a real platform's would be, so reconciliation after a
    crash asks the sandbox what exists exactly as it would ask a real network.
    """

    __tablename__ = "sandbox_posts"
    __table_args__ = (
        # Not unique: like a real network, the sandbox would take a second post with the same
        # reference, so a test can count double posts instead of having them refused.
        Index("ix_sandbox_posts_platform_reference", "platform", "client_reference"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    post_type: Mapped[str] = mapped_column(String(32))
    client_reference: Mapped[str] = mapped_column(String(64))
    platform_post_id: Mapped[str] = mapped_column(String(128))
    platform_url: Mapped[str] = mapped_column(String(512))
    body: Mapped[dict[str, object]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

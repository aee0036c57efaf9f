"""posts and publishing

Revision ID: 0012
Revises: 0011_idempotency
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011_idempotency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "sandbox_posts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("post_type", sa.String(length=32), nullable=False),
        sa.Column("client_reference", sa.String(length=64), nullable=False),
        sa.Column("platform_post_id", sa.String(length=128), nullable=False),
        sa.Column("platform_url", sa.String(length=512), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_sandbox_posts_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_posts")),
    )
    with op.batch_alter_table("sandbox_posts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sandbox_posts_platform_reference", ["platform", "client_reference"], unique=True
        )

    op.create_table(
        "posts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("mode", sa.String(length=4), nullable=False),
        sa.Column("created_by_key_id", sa.String(length=36), nullable=True),
        sa.Column("generation_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("publish_round", sa.Integer(), nullable=False),
        sa.Column("test_scenario", sa.String(length=32), nullable=True),
        sa.Column("credits_used", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("mode IN ('live', 'test')", name=op.f("ck_posts_mode_known")),
        sa.CheckConstraint(
            "status IN ('draft', 'scheduled', 'publishing', 'published', 'partial', 'failed')",
            name=op.f("ck_posts_status_known"),
        ),
        sa.CheckConstraint("credits_used >= 0", name=op.f("ck_posts_credits_used_not_negative")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_posts_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["generation_id"],
            ["generations.id"],
            name=op.f("fk_posts_generation_id_generations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_posts_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posts")),
    )
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_posts_status_scheduled_at", ["status", "scheduled_at"], unique=False
        )
        batch_op.create_index(
            "ix_posts_workspace_mode_created_id",
            ["workspace_id", "mode", "created_at", "id"],
            unique=False,
        )

    op.create_table(
        "post_items",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("post_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("post_type", sa.String(length=32), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("title", sa.String(length=400), nullable=True),
        sa.Column("media_ids", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("publish_round", sa.Integer(), nullable=False),
        sa.Column("platform_post_id", sa.String(length=128), nullable=True),
        sa.Column("platform_url", sa.String(length=512), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'posting', 'posted', 'failed')",
            name=op.f("ck_post_items_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_post_items_post_id_posts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_items")),
    )
    with op.batch_alter_table("post_items", schema=None) as batch_op:
        batch_op.create_index("ix_post_items_post_position", ["post_id", "position"], unique=True)

    op.create_table(
        "publish_attempts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("post_id", sa.String(length=36), nullable=False),
        sa.Column("publish_round", sa.Integer(), nullable=False),
        sa.Column("adapter", sa.String(length=64), nullable=False),
        sa.Column("client_reference", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("raw_error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('pending', 'posted', 'failed', 'retrying', 'reconciled', 'unknown')",
            name=op.f("ck_publish_attempts_outcome_known"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["post_items.id"],
            name=op.f("fk_publish_attempts_item_id_post_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_publish_attempts_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publish_attempts")),
    )
    with op.batch_alter_table("publish_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_publish_attempts_item_started", ["item_id", "started_at"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("publish_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_publish_attempts_item_started")

    op.drop_table("publish_attempts")
    with op.batch_alter_table("post_items", schema=None) as batch_op:
        batch_op.drop_index("ix_post_items_post_position")

    op.drop_table("post_items")
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index("ix_posts_workspace_mode_created_id")
        batch_op.drop_index("ix_posts_status_scheduled_at")

    op.drop_table("posts")
    with op.batch_alter_table("sandbox_posts", schema=None) as batch_op:
        batch_op.drop_index("ix_sandbox_posts_platform_reference")

    op.drop_table("sandbox_posts")

"""caption generations and writing styles

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "writing_styles",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("tone", sa.String(length=200), nullable=False),
        sa.Column("emoji_use", sa.String(length=8), nullable=False),
        sa.Column("hashtag_count", sa.Integer(), nullable=False),
        sa.Column("example_posts", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "emoji_use IN ('none', 'light', 'heavy')",
            name=op.f("ck_writing_styles_emoji_use_known"),
        ),
        sa.CheckConstraint(
            "hashtag_count BETWEEN 0 AND 30", name=op.f("ck_writing_styles_hashtag_count_range")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_writing_styles_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_writing_styles_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_writing_styles")),
        sa.UniqueConstraint(
            "workspace_id", "name", name=op.f("uq_writing_styles_workspace_id_name")
        ),
    )
    with op.batch_alter_table("writing_styles", schema=None) as batch_op:
        batch_op.create_index("ix_writing_styles_account_id", ["account_id"], unique=False)

    op.create_table(
        "generations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("api_key_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=True),
        sa.Column("post_types", sa.JSON(), nullable=False),
        sa.Column("platforms", sa.JSON(), nullable=False),
        sa.Column("research_mode", sa.String(length=16), nullable=False),
        sa.Column("media_ids", sa.JSON(), nullable=False),
        sa.Column("writing_style_id", sa.String(length=36), nullable=True),
        sa.Column("cta_text", sa.String(length=100), nullable=True),
        sa.Column("source_urls", sa.JSON(), nullable=False),
        sa.Column("source_failures", sa.JSON(), nullable=False),
        sa.Column("credits_used", sa.Integer(), nullable=False),
        sa.Column("outputs", sa.JSON(), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'processing', 'completed', 'failed')",
            name=op.f("ck_generations_status_known"),
        ),
        sa.CheckConstraint(
            "research_mode IN ('regular', 'deep')",
            name=op.f("ck_generations_research_mode_known"),
        ),
        sa.CheckConstraint(
            "credits_used >= 0", name=op.f("ck_generations_credits_used_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_generations_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_generations_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["writing_style_id"],
            ["writing_styles.id"],
            name=op.f("fk_generations_writing_style_id_writing_styles"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_generations")),
    )
    with op.batch_alter_table("generations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_generations_workspace_created_id",
            ["workspace_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index("ix_generations_writing_style_id", ["writing_style_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("generations", schema=None) as batch_op:
        batch_op.drop_index("ix_generations_writing_style_id")
        batch_op.drop_index("ix_generations_workspace_created_id")
    op.drop_table("generations")

    with op.batch_alter_table("writing_styles", schema=None) as batch_op:
        batch_op.drop_index("ix_writing_styles_account_id")
    op.drop_table("writing_styles")

"""image and video generations

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUS_KNOWN = "status IN ('pending', 'processing', 'completed', 'failed')"


def upgrade() -> None:
    op.create_table(
        "image_generations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("api_key_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("prompt_from_caption", sa.Boolean(), nullable=False),
        sa.Column("size", sa.String(length=16), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=32), nullable=False),
        sa.Column("enhance_prompt", sa.Boolean(), nullable=False),
        sa.Column("style_media_ids", sa.JSON(), nullable=False),
        sa.Column("source_generation_id", sa.String(length=36), nullable=True),
        sa.Column("source_post_type", sa.String(length=32), nullable=True),
        sa.Column("caption", sa.Text(), nullable=True),
        sa.Column("unit_price", sa.Integer(), nullable=False),
        sa.Column("credits_used", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(_STATUS_KNOWN, name=op.f("ck_image_generations_status_known")),
        sa.CheckConstraint(
            "mode IN ('text', 'reference', 'post')", name=op.f("ck_image_generations_mode_known")
        ),
        sa.CheckConstraint(
            "quantity BETWEEN 1 AND 4", name=op.f("ck_image_generations_quantity_range")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_image_generations_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_image_generations_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image_generations")),
    )
    with op.batch_alter_table("image_generations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_image_generations_workspace_created", ["workspace_id", "created_at"], unique=False
        )

    op.create_table(
        "image_generation_images",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("image_generation_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.String(length=36), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "position BETWEEN 0 AND 3", name=op.f("ck_image_generation_images_position_range")
        ),
        sa.ForeignKeyConstraint(
            ["image_generation_id"],
            ["image_generations.id"],
            name=op.f("fk_image_generation_images_image_generation_id_image_generations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media.id"],
            name=op.f("fk_image_generation_images_media_id_media"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image_generation_images")),
        sa.UniqueConstraint(
            "image_generation_id",
            "position",
            name=op.f("uq_image_generation_images_image_generation_id"),
        ),
    )

    op.create_table(
        "video_generations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("api_key_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("size", sa.String(length=16), nullable=False),
        sa.Column("duration", sa.Integer(), nullable=False),
        sa.Column("has_audio", sa.Boolean(), nullable=False),
        sa.Column("model", sa.String(length=32), nullable=False),
        sa.Column("enhance_prompt", sa.Boolean(), nullable=False),
        sa.Column("source_media_id", sa.String(length=36), nullable=True),
        sa.Column("media_id", sa.String(length=36), nullable=True),
        sa.Column("credits_used", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(_STATUS_KNOWN, name=op.f("ck_video_generations_status_known")),
        sa.CheckConstraint("duration > 0", name=op.f("ck_video_generations_duration_positive")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_video_generations_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_video_generations_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_media_id"],
            ["media.id"],
            name=op.f("fk_video_generations_source_media_id_media"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media.id"],
            name=op.f("fk_video_generations_media_id_media"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_generations")),
    )
    with op.batch_alter_table("video_generations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_video_generations_workspace_created", ["workspace_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("video_generations", schema=None) as batch_op:
        batch_op.drop_index("ix_video_generations_workspace_created")
    op.drop_table("video_generations")
    op.drop_table("image_generation_images")
    with op.batch_alter_table("image_generations", schema=None) as batch_op:
        batch_op.drop_index("ix_image_generations_workspace_created")
    op.drop_table("image_generations")

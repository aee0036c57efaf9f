"""object modes: caption, image and video generations and media belong to the mode (live or
test) of the key that made them, as posts and calendar entries do. Image generations' old
`mode` (what the pictures are made from) becomes `input_mode`.

Revision ID: 0013_object_modes
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_object_modes"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MODE_KNOWN = "mode IN ('live', 'test')"
INPUT_MODE_KNOWN = "input_mode IN ('text', 'reference', 'post')"
OLD_MODE_KNOWN = "mode IN ('text', 'reference', 'post')"


def _mode_column() -> sa.Column[str]:
    # Every row made before this revision was made by a live key (test keys saw them).
    return sa.Column("mode", sa.String(length=4), server_default="live", nullable=False)


def upgrade() -> None:
    with op.batch_alter_table("generations", schema=None) as batch_op:
        batch_op.add_column(_mode_column())
        batch_op.create_check_constraint(op.f("ck_generations_mode_known"), MODE_KNOWN)
        batch_op.drop_index("ix_generations_workspace_created_id")
        batch_op.create_index(
            "ix_generations_workspace_mode_created_id",
            ["workspace_id", "mode", "created_at", "id"],
            unique=False,
        )

    # The old constraint names the old column: drop it before the rename (SQLite's batch
    # rebuild would otherwise copy a CHECK on a column that no longer exists).
    with op.batch_alter_table("image_generations", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_image_generations_mode_known"), type_="check")
        batch_op.alter_column("mode", new_column_name="input_mode")
    with op.batch_alter_table("image_generations", schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_image_generations_input_mode_known"), INPUT_MODE_KNOWN
        )
        batch_op.add_column(_mode_column())
        batch_op.create_check_constraint(op.f("ck_image_generations_mode_known"), MODE_KNOWN)

    for table in ("video_generations", "media"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(_mode_column())
            batch_op.create_check_constraint(op.f(f"ck_{table}_mode_known"), MODE_KNOWN)


def downgrade() -> None:
    for table in ("media", "video_generations"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_mode_known"), type_="check")
            batch_op.drop_column("mode")

    with op.batch_alter_table("image_generations", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_image_generations_mode_known"), type_="check")
        batch_op.drop_column("mode")
        batch_op.drop_constraint(op.f("ck_image_generations_input_mode_known"), type_="check")
    with op.batch_alter_table("image_generations", schema=None) as batch_op:
        batch_op.alter_column("input_mode", new_column_name="mode")
    with op.batch_alter_table("image_generations", schema=None) as batch_op:
        batch_op.create_check_constraint(op.f("ck_image_generations_mode_known"), OLD_MODE_KNOWN)

    with op.batch_alter_table("generations", schema=None) as batch_op:
        batch_op.drop_index("ix_generations_workspace_mode_created_id")
        batch_op.create_index(
            "ix_generations_workspace_created_id",
            ["workspace_id", "created_at", "id"],
            unique=False,
        )
        batch_op.drop_constraint(op.f("ck_generations_mode_known"), type_="check")
        batch_op.drop_column("mode")

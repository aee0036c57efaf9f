"""paid jobs share one vocabulary: caption generations end at `finished_at`, as image and
video generations (and jobs) do

Revision ID: 0009_paid_lifecycle
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009_paid_lifecycle"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # batch mode: SQLite renames a column by rebuilding the table; PostgreSQL renames in place
    with op.batch_alter_table("generations", schema=None) as batch_op:
        batch_op.alter_column("completed_at", new_column_name="finished_at")


def downgrade() -> None:
    with op.batch_alter_table("generations", schema=None) as batch_op:
        batch_op.alter_column("finished_at", new_column_name="completed_at")

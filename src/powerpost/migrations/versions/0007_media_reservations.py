"""media quota reservations (uploads in flight), for the media sweep

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "media_reservations",
        sa.Column("media_id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("size_bytes >= 0", name=op.f("ck_media_reservations_size_not_negative")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_media_reservations_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("media_id", name=op.f("pk_media_reservations")),
    )
    with op.batch_alter_table("media_reservations", schema=None) as batch_op:
        batch_op.create_index("ix_media_reservations_created", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("media_reservations", schema=None) as batch_op:
        batch_op.drop_index("ix_media_reservations_created")
    op.drop_table("media_reservations")

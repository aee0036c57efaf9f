"""sandbox posts: the (platform, client_reference) index is not unique

0012 made it unique, while the model says it must not be: like a real network, the
sandbox takes a second post with the same reference, so a double post is stored and
counted by the exactly-once tests instead of failing with an IntegrityError.

Revision ID: 0016_sandbox_reference
Revises: 0015_webhook_delivery
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0016_sandbox_reference"
down_revision: str | None = "0015_webhook_delivery"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _recreate(*, unique: bool) -> None:
    with op.batch_alter_table("sandbox_posts") as batch_op:
        batch_op.drop_index("ix_sandbox_posts_platform_reference")
        batch_op.create_index(
            "ix_sandbox_posts_platform_reference", ["platform", "client_reference"], unique=unique
        )


def upgrade() -> None:
    _recreate(unique=False)


def downgrade() -> None:
    _recreate(unique=True)

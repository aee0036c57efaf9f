"""webhook modes: endpoints and events belong to a mode (live or test) like every other
workspace object, so a test key never reads or changes a live endpoint and test-mode
events reach only test endpoints.

Revision ID: 0017_webhook_modes
Revises: 0016_sandbox_reference
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_webhook_modes"
down_revision: str | None = "0016_sandbox_reference"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MODE_KNOWN = "mode IN ('live', 'test')"
TABLES = ("webhook_endpoints", "webhook_events")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            # Every endpoint and event before this revision was live (test keys shared them).
            batch_op.add_column(
                sa.Column("mode", sa.String(length=4), server_default="live", nullable=False)
            )
            batch_op.create_check_constraint(op.f(f"ck_{table}_mode_known"), MODE_KNOWN)


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_mode_known"), type_="check")
            batch_op.drop_column("mode")

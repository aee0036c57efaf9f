"""publish rounds: each publish round of a post is a paid job row

Revision ID: 0014_publish_rounds
Revises: 0013_object_modes
Create Date: 2026-12-05
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_publish_rounds"
down_revision: str | None = "0013_object_modes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "publish_rounds",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("post_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("api_key_id", sa.String(length=36), nullable=True),
        sa.Column("mode", sa.String(length=4), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("items_sent", sa.Integer(), nullable=False),
        sa.Column("credits_used", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("mode IN ('live', 'test')", name=op.f("ck_publish_rounds_mode_known")),
        sa.CheckConstraint(
            "status IN ('publishing', 'published', 'partial', 'failed')",
            name=op.f("ck_publish_rounds_status_known"),
        ),
        sa.CheckConstraint(
            "credits_used >= 0", name=op.f("ck_publish_rounds_credits_used_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_publish_rounds_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_publish_rounds_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_publish_rounds_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publish_rounds")),
    )
    with op.batch_alter_table("publish_rounds", schema=None) as batch_op:
        batch_op.create_index("ix_publish_rounds_post_number", ["post_id", "number"], unique=True)
    _backfill_rounds_in_flight()


def _backfill_rounds_in_flight() -> None:
    """A post publishing while this runs has item jobs that will conclude its round through
    the round's row: give each such round its row, holding what its credit hold holds.
    (Finished rounds need none: nothing concludes them again.)"""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT p.id, p.publish_round, p.account_id, p.workspace_id, p.mode, p.updated_at,"
            " (SELECT count(*) FROM post_items i"
            "   WHERE i.post_id = p.id AND i.publish_round = p.publish_round),"
            " (SELECT h.amount FROM credit_holds h"
            "   WHERE h.reference = 'post:' || p.id || ':round:' || CAST(p.publish_round AS"
            "   VARCHAR(12)))"
            " FROM posts p WHERE p.status = 'publishing'"
        )
    ).all()
    table = sa.table(
        "publish_rounds",
        *(
            sa.column(name)
            for name in (
                "id",
                "post_id",
                "number",
                "account_id",
                "workspace_id",
                "mode",
                "status",
                "items_sent",
                "credits_used",
                "created_at",
            )
        ),
    )
    for post_id, number, account_id, workspace_id, mode, updated_at, sent, held in rows:
        bind.execute(
            table.insert().values(
                id=str(uuid.uuid4()),
                post_id=post_id,
                number=number,
                account_id=account_id,
                workspace_id=workspace_id,
                mode=mode,
                status="publishing",
                items_sent=sent,
                credits_used=held or 0,
                created_at=updated_at,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("publish_rounds", schema=None) as batch_op:
        batch_op.drop_index("ix_publish_rounds_post_number")
    op.drop_table("publish_rounds")

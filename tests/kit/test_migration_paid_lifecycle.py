"""Migration 0009_paid_lifecycle on SQLite (batch mode rebuilds the table): a caption
generation's `completed_at` becomes `finished_at` with its value, the table keeps its
constraints and indexes, and the downgrade restores the old name. (PostgreSQL renames in
place; the PostgreSQL test run migrates through it.)"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from alembic import command

from powerpost.kit.migrate import alembic_config, upgrade


def _columns(path: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return [row[1] for row in db.execute("PRAGMA table_info(generations)")]


def _schema(path: Path) -> str:
    with contextlib.closing(sqlite3.connect(path)) as db:
        rows = db.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'generations' ORDER BY name"
        ).fetchall()
    return "\n".join(str(sql) for (sql,) in rows)


def test_rename_keeps_the_value_and_the_constraints_and_goes_back(tmp_path: Path) -> None:
    path = tmp_path / "paid.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url, "0008")
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA foreign_keys = OFF")
        db.execute(
            "INSERT INTO generations (id, account_id, workspace_id, status, post_types, "
            "platforms, research_mode, media_ids, source_urls, source_failures, credits_used, "
            "created_at, updated_at, completed_at) VALUES ('g1', 'a1', 'w1', 'completed', "
            "'[]', '[]', 'regular', '[]', '[]', '[]', 3, '2026-12-01 10:00:00', "
            "'2026-12-01 10:01:00', '2026-12-01 10:01:00')"
        )
        db.commit()
    before = _schema(path)

    # up to this revision only: later ones change the table again (0013 re-indexes it)
    upgrade(url, "0009_paid_lifecycle")
    assert "finished_at" in _columns(path)
    assert "completed_at" not in _columns(path)
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT finished_at FROM generations WHERE id = 'g1'").fetchone() == (
            "2026-12-01 10:01:00",
        )
    after = _schema(path)
    for kept in (
        "status_known",
        "research_mode_known",
        "credits_used_not_negative",
        "ix_generations_workspace_created_id",
        "fk_generations_account_id_accounts",
    ):
        assert kept in before
        assert kept in after, kept

    command.downgrade(alembic_config(url), "0008")
    assert "completed_at" in _columns(path)
    assert "finished_at" not in _columns(path)

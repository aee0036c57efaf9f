"""Migration 0013_object_modes on SQLite (batch mode rebuilds each table): rows made before
it become live, an image generation's old `mode` (text, reference, post) moves to
`input_mode` with its value, the new checks refuse an unknown mode, and the downgrade
restores the old shape. (PostgreSQL alters in place; its test run migrates through it.)"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest
from alembic import command

from powerpost.kit.migrate import alembic_config, upgrade


def _columns(path: Path, table: str) -> list[str]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]


def test_existing_rows_become_live_and_image_modes_move_to_input_mode(tmp_path: Path) -> None:
    path = tmp_path / "modes.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url, "0012")
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA foreign_keys = OFF")
        db.execute(
            "INSERT INTO image_generations (id, account_id, workspace_id, status, mode, prompt, "
            "prompt_from_caption, size, quantity, model, enhance_prompt, style_media_ids, "
            "unit_price, credits_used, created_at) VALUES ('i1', 'a1', 'w1', 'completed', "
            "'post', 'p', 0, 'square', 1, 'flux2-flex', 0, '[]', 5, 5, '2026-12-01 10:00:00')"
        )
        db.execute(
            "INSERT INTO media (id, account_id, workspace_id, kind, mime_type, file_name, "
            "file_size, width, height, dominant_colors, storage_key, origin, created_at) "
            "VALUES ('m1', 'a1', 'w1', 'image', 'image/png', 'a.png', 1, 1, 1, '[]', 'k', "
            "'upload', '2026-12-01 10:00:00')"
        )
        db.commit()

    upgrade(url, "0013_object_modes")
    for table in ("generations", "image_generations", "video_generations", "media"):
        assert "mode" in _columns(path, table), table
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT mode, input_mode FROM image_generations").fetchall() == [
            ("live", "post")
        ]
        assert db.execute("SELECT mode FROM media").fetchall() == [("live",)]
        with pytest.raises(sqlite3.IntegrityError, match="mode_known"):
            db.execute("UPDATE media SET mode = 'demo'")
        with pytest.raises(sqlite3.IntegrityError, match="input_mode_known"):
            db.execute("UPDATE image_generations SET input_mode = 'live'")
        indexes = [row[1] for row in db.execute("PRAGMA index_list(generations)")]
        assert "ix_generations_workspace_mode_created_id" in indexes

    command.downgrade(alembic_config(url), "0012")
    assert "input_mode" not in _columns(path, "image_generations")
    assert "mode" not in _columns(path, "media")
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT mode FROM image_generations").fetchall() == [("post",)]
        with pytest.raises(sqlite3.IntegrityError, match="mode_known"):
            db.execute("UPDATE image_generations SET mode = 'live'")

"""Migration 0015 gives keys made before it the webhook scopes their preset now includes
(keys store their scopes), and leaves hand-picked scope sets alone."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from powerpost.kit.migrate import upgrade
from tests.fixtures import db as testdb

pytestmark = pytest.mark.skipif(
    bool(testdb.PG_URL), reason="migrates its own SQLite file from scratch"
)

BEFORE = "0014_publish_rounds"  # the revision 0015 follows


def test_preset_keys_gain_the_webhook_scopes(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url, BEFORE)
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO accounts (id, email, balance, storage_used_bytes, storage_quota_bytes,"
            " created_at) VALUES ('a1', 'old@example.com', 0, 0, 1, '2026-01-01 00:00:00')"
        )
        for key_id, key_type, scopes in [
            ("k1", "read_write", "account:read posts:publish posts:read"),
            ("k2", "read_draft", "account:read posts:read"),
            ("k3", "read_only", "account:read posts:read"),
            ("k4", "custom", "posts:read"),
        ]:
            db.execute(
                "INSERT INTO api_keys (id, account_id, name, type, scopes, mode, digest,"
                " pepper_version, display_prefix, display_suffix, created_at, created_by)"
                " VALUES (?, 'a1', 'k', ?, ?, 'live', ?, 1, 'pp', 'x',"
                " '2026-01-01 00:00:00', 'test')",
                (key_id, key_type, scopes, key_id.encode() * 16),
            )
    upgrade(url)
    with sqlite3.connect(path) as db:
        scopes = dict(db.execute("SELECT id, scopes FROM api_keys").fetchall())
    assert scopes["k1"] == "account:read posts:publish posts:read webhooks:read webhooks:write"
    assert scopes["k2"] == "account:read posts:read webhooks:read webhooks:write"
    assert scopes["k3"] == "account:read posts:read webhooks:read"
    assert scopes["k4"] == "posts:read"

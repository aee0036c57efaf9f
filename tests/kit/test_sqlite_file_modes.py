"""Issue 8, B6: the SQLite database and its -wal/-shm files are owner-only (0600)."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from powerpost.kit.db import Database
from powerpost.kit.migrate import upgrade


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The common default (files 0644): what made the database world-readable."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int | None:
    """The permission bits, None when the file is not there."""
    return stat.S_IMODE(path.stat().st_mode) if path.exists() else None


def _readable_database(path: Path) -> Path:
    """A database and a -wal file as an earlier version left them (0644); returns the -wal."""
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (x INTEGER)")
    wal = Path(f"{path}-wal")
    wal.write_bytes(b"")
    return wal


async def test_a_new_database_and_the_files_sqlite_adds_are_0600(
    tmp_path: Path, usual_umask: None
) -> None:
    path = tmp_path / "data" / "powerpost.db"
    path.parent.mkdir()
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    assert _mode(path) == 0o600
    db = Database(url)
    try:
        async with db.write() as session:
            await session.execute(text("CREATE TABLE mode_probe (x INTEGER)"))
        # Open connections keep the WAL files in place; SQLite made them after the fix
        # ran, with the database file's mode.
        for suffix in ("-wal", "-shm"):
            assert _mode(Path(f"{path}{suffix}")) == 0o600, suffix
    finally:
        await db.dispose()


async def test_files_left_readable_by_an_earlier_version_are_narrowed(
    tmp_path: Path, usual_umask: None
) -> None:
    path = tmp_path / "powerpost.db"
    wal = _readable_database(path)
    assert _mode(path) == _mode(wal) == 0o644
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        assert _mode(path) == 0o600
        assert _mode(wal) == 0o600
    finally:
        await db.dispose()

"""Apply Alembic migrations programmatically (serve, CLI, tests): no alembic.ini needed."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from powerpost.kit.db import make_sqlite_file_private

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Run migrations to `revision`. env.py calls asyncio.run, so inside a running loop
    the work moves to a fresh thread."""
    make_sqlite_file_private(database_url)  # before anything opens (and so creates) it
    _run_upgrade(database_url, revision)
    _use_wal(database_url)


def _use_wal(database_url: str) -> None:
    """Leave a SQLite file in WAL mode (it is stored in the file): readers then never wait
    for the writer, and no later connection has to switch modes while others read."""
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite") or url.database in (None, "", ":memory:"):
        return
    with contextlib.closing(sqlite3.connect(url.database, timeout=30)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")


def _run_upgrade(database_url: str, revision: str) -> None:
    config = alembic_config(database_url)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        command.upgrade(config, revision)
        return
    errors: list[BaseException] = []

    def target() -> None:
        try:
            command.upgrade(config, revision)
        except BaseException as exc:  # handed back to the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]

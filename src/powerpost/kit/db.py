"""Database engines and sessions for SQLite (embedded) and PostgreSQL (scaled).

SQLite allows one writer at a time. A deferred transaction that reads and then writes can
fail with "database is locked" instead of waiting, so write work starts with
`BEGIN IMMEDIATE` (it waits on `busy_timeout` for the lock up front), while reads use plain
deferred transactions and, in WAL mode, never block. On PostgreSQL both are one engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy import DateTime, MetaData, event, make_url
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from powerpost.kit.sqlite_inline import inline_creator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 30_000
HOT_READER_CACHE_KIB = 64 * 1024  # 64 MiB
HOT_READER_MMAP_BYTES = 256 * 1024 * 1024


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in Python on both databases (SQLite hands back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # Switching a file to WAL needs it to itself and fails at once ("database is locked")
    # while any other connection reads it, so only switch when it is not WAL yet; the
    # migrations leave every database in WAL (kit.migrate), making this the rare case.
    cursor.execute("PRAGMA journal_mode")
    if str(cursor.fetchone()[0]).lower() != "wal":
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    # Let SQLAlchemy, not the driver, issue BEGIN (the driver's implicit BEGIN is deferred).
    dbapi_connection.isolation_level = None


def _sqlite_engine(url: str, *, immediate: bool, pool_size: int) -> AsyncEngine:
    options: dict[str, Any] = {}
    database = make_url(url).database
    if immediate and database and database != ":memory:" and not database.startswith("file:"):
        # The writer runs its statements in place, not on aiosqlite's thread (see
        # kit.sqlite_inline): the write lock is held for the work, not for thread hops.
        options["async_creator"] = inline_creator(database, busy_timeout_ms=SQLITE_BUSY_TIMEOUT_MS)
    else:
        options["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0 if immediate else pool_size,
        pool_timeout=60,
        **options,
    )
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    if "async_creator" in options:
        # after the pragmas: its BEGIN waits for another process's lock without blocking
        event.listen(engine.sync_engine, "connect", _no_busy_wait)
    begin_sql = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql(begin_sql)

    return engine


def _no_busy_wait(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=0")
    cursor.close()


_NAMED_PARAM = re.compile(r"(?<!:):([A-Za-z_][A-Za-z0-9_]*)")


@functools.lru_cache(maxsize=64)
def _positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """`:name` parameters to asyncpg's `$1` form, with the names in order."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return _NAMED_PARAM.sub(number, sql), tuple(names)


def as_utc(value: datetime | str | None) -> datetime | None:
    """A datetime column read by `Database.fetch_one` (SQLite gives text) as aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite creates these beside the database with the database file's own mode bits.
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def make_sqlite_file_private(url: str) -> None:
    """Create a SQLite database file owner-only (0600), like the key pepper beside it.

    It holds password hashes, key digests and sessions. SQLite creates a new file with the
    process umask (world-readable by default) and gives its `-wal`, `-shm` and `-journal`
    files the database file's mode, so creating the (empty) file 0600 first makes every
    one of them private. Files left readable by an earlier version are narrowed too.
    Nothing for PostgreSQL or an in-memory database.
    """
    if not url.startswith("sqlite"):
        return
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    with contextlib.suppress(FileExistsError):
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for path in (database, *(database + suffix for suffix in SQLITE_COMPANIONS)):
        # Not there (companions come and go) or not ours to change: leave it.
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if os.stat(path).st_mode & 0o077:
                os.chmod(path, 0o600)


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._hot: sqlite3.Connection | None = None
        self._pool: asyncpg.Pool | None = None
        self._pool_lock = asyncio.Lock()
        self._trace: Callable[[str], None] | None = None
        if self.is_sqlite:
            make_sqlite_file_private(url)
            self._hot = self._open_hot_reader(url)
            self.read_engine = _sqlite_engine(url, immediate=False, pool_size=8)
            # One writer connection is all SQLite can use: more would only wait on the lock
            # (in SQLite's busy handler, which polls) instead of in the pool's queue.
            self.write_engine = _sqlite_engine(url, immediate=True, pool_size=1)
        else:
            engine = create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
            self.read_engine = self.write_engine = engine
        self._reader = async_sessionmaker(self.read_engine, expire_on_commit=False)
        self._writer = async_sessionmaker(self.write_engine, expire_on_commit=False)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._reader() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A write transaction, committed when the block ends without an exception."""
        async with self._writer() as session, session.begin():
            yield session

    @staticmethod
    def _open_hot_reader(url: str) -> sqlite3.Connection | None:
        """A plain sqlite3 connection for the few indexed reads on every request's path.

        Measured here: aiosqlite costs a thread hop and ~1 ms per query under load, while an
        indexed read on this connection takes ~10 µs, so running it on the event loop is
        cheaper than handing it off. WAL readers do not wait for writers, and the
        connection is query-only, so it can never take the write lock.
        """
        database = make_url(url).database
        if not database or database == ":memory:":
            return None
        connection = sqlite3.connect(
            database, check_same_thread=False, isolation_level=None, timeout=5.0
        )
        connection.execute("PRAGMA query_only=ON")
        connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # The key index is read on every request: keep its pages in this connection's
        # cache (default 2 MB) and read the file through the OS page cache without copies.
        # Measured with 100,000 keys (bench/key_verification.py): median 44 µs -> 26 µs.
        connection.execute(f"PRAGMA cache_size=-{HOT_READER_CACHE_KIB}")
        connection.execute(f"PRAGMA mmap_size={HOT_READER_MMAP_BYTES}")
        return connection

    async def fetch_one(self, sql: str, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """One row of a small indexed read on the hot path (raw SQL, `:name` parameters).

        Datetime columns come back as text on SQLite: read them with `as_utc`.
        """
        if self._hot is not None:
            row: tuple[Any, ...] | None = self._hot.execute(sql, params).fetchone()
            return row
        # PostgreSQL: asyncpg directly, a prepared statement per query text. Measured here
        # with 100,000 keys: ~0.8 ms a lookup through the SQLAlchemy session machinery.
        if self._trace is not None:
            self._trace(sql)
        pool = await self._pg_pool()
        positional_sql, names = _positional(sql)
        record = await pool.fetchrow(positional_sql, *(params[name] for name in names))
        return None if record is None else tuple(record)

    async def _pg_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._pool_lock:
                if self._pool is None:
                    url = make_url(self.url).set(drivername="postgresql")
                    self._pool = await asyncpg.create_pool(
                        url.render_as_string(hide_password=False), min_size=1, max_size=10
                    )
        return self._pool

    def trace_hot_reads(self, callback: Callable[[str], None] | None) -> None:
        """Observe the SQL `fetch_one` sends (tests count queries with it)."""
        self._trace = callback
        if self._hot is not None:
            self._hot.set_trace_callback(callback)

    async def dispose(self) -> None:
        if self._hot is not None:
            self._hot.close()
            self._hot = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
        await self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            await self.write_engine.dispose()

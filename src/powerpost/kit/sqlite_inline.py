"""The SQLite writer connection, run on the event loop's own thread.

aiosqlite runs every statement on a thread of its own and hands the result back through
the event loop: a thread hop per statement, each waiting behind whatever else the loop is
doing. SQLite lets one writer in at a time, so a write transaction of five statements held
the write lock for five hops. Measured with bench/publish_fanout.py (a 12-item publish,
about 40 write transactions): a transaction's body took ~5 ms and the next writer waited
~35 ms for the lock. A statement of those transactions takes tens of microseconds on the
connection itself, so running it in place costs the loop less than handing it off, and
the lock is held for the transaction's own work only (the hot reader in `kit.db` does the
same for reads).

`InlineConnection` keeps aiosqlite's interface (what SQLAlchemy's aiosqlite dialect
drives) and executes in place. The one statement that can wait, `BEGIN IMMEDIATE` while
another process holds the lock, must not block the loop: the connection's busy timeout is
0, and the BEGIN is retried here with asyncio sleeps until `busy_timeout_ms` has passed.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from typing import Any

import aiosqlite

__all__ = ["InlineConnection", "inline_creator"]

_BUSY_FIRST_SLEEP = 0.001
_BUSY_MAX_SLEEP = 0.02


class _InPlace:
    """Stands in for aiosqlite's queue to its thread: runs what is put on it at once."""

    def put_nowait(self, entry: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = entry
        try:
            result = function()
        except BaseException as error:
            if future is not None and not future.done():
                future.set_exception(error)
            return
        if future is not None and not future.done():
            future.set_result(result)


def _is_busy(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return bool(code & 0xFF == sqlite3.SQLITE_BUSY)
    return "database is locked" in str(error)


class InlineConnection(aiosqlite.Connection):
    """aiosqlite's connection without its thread (see the module doc)."""

    def __init__(
        self, connector: Callable[[], sqlite3.Connection], *, busy_timeout_ms: int
    ) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _InPlace()  # type: ignore[assignment]
        self._busy_timeout = busy_timeout_ms / 1000

    def __await__(self) -> Any:
        # no thread to start: connect here
        return self._connect().__await__()

    async def _connect(self) -> InlineConnection:
        if self._connection is None:
            self._connection = self._connector()
            self._connection.execute("PRAGMA busy_timeout=0")
        return self

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        if not (args and isinstance(args[0], str) and args[0].lstrip().upper().startswith("BEGIN")):
            return fn(*args, **kwargs)
        deadline = time.monotonic() + self._busy_timeout
        pause = _BUSY_FIRST_SLEEP
        while True:
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as error:
                if not _is_busy(error) or time.monotonic() >= deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, _BUSY_MAX_SLEEP)


def inline_creator(database: str, *, busy_timeout_ms: int) -> Callable[..., Any]:
    """An `async_creator` for `create_async_engine`: connections to `database` that run
    in place."""

    async def create() -> InlineConnection:
        def connect() -> sqlite3.Connection:
            return sqlite3.connect(database, isolation_level=None, check_same_thread=False)

        connection = InlineConnection(connect, busy_timeout_ms=busy_timeout_ms)
        return await connection._connect()

    return create

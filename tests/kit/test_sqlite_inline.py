"""The SQLite writer runs its statements on the event loop (kit.sqlite_inline): waiting for
another process's write lock must not block the loop, and the write goes through once the
lock is free."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

from sqlalchemy import text

from powerpost.kit.db import Database


async def test_a_writer_waits_for_another_process_lock_without_blocking_the_loop(
    tmp_path: Path,
) -> None:
    path = tmp_path / "inline.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        async with db.write() as session:
            await session.execute(text("CREATE TABLE t (x INTEGER)"))
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock

        async def write() -> None:
            async with db.write() as session:
                await session.execute(text("INSERT INTO t (x) VALUES (1)"))

        waiting = asyncio.create_task(write())
        started = time.monotonic()
        for _ in range(20):
            await asyncio.sleep(0.01)
        # the loop kept running while the writer waited (a blocking BEGIN would have held
        # it for the whole busy timeout, 30 s)
        assert time.monotonic() - started < 2
        assert not waiting.done()
        other.execute("COMMIT")
        other.close()
        await asyncio.wait_for(waiting, timeout=5)
        async with db.read() as session:
            assert (await session.execute(text("SELECT count(*) FROM t"))).scalar_one() == 1
    finally:
        await db.dispose()

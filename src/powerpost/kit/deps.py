"""Request-scoped resources as dependencies: one session per request, committed at the edge."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.config import Settings
from powerpost.kit.db import Database


def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def _read_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with get_database(request).read() as session:
        yield session


async def _write_session(request: Request) -> AsyncIterator[AsyncSession]:
    # Committed when the route returns; rolled back if it raises. Nothing half-written.
    async with get_database(request).write() as session:
        yield session


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _database(request: Request) -> Database:
    return get_database(request)


Db = Annotated[Database, Depends(_database)]
# scope="function": the session closes (and the write commits) before the response is
# sent, so a client that got 200 can read its write at once, and a failed commit is a 500,
# not a success followed by a silent rollback.
ReadSession = Annotated[AsyncSession, Depends(_read_session, scope="function")]
WriteSession = Annotated[AsyncSession, Depends(_write_session, scope="function")]
AppSettings = Annotated[Settings, Depends(_settings)]

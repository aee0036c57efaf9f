"""Fixtures for the job engine tests: a database, a tenant, engines stopped at teardown."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from taskiq import InMemoryBroker

from powerpost.accounts import service as accounts
from powerpost.config import Settings
from powerpost.jobs import JobEngine
from powerpost.kit.db import Database
from powerpost.kit.ids import new_id
from tests.jobs import handlers
from tests.jobs.support import FAST, EngineFactory, Tenant


@pytest.fixture
def job_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, jobs=FAST)


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def tenant(db: Database) -> Tenant:
    async with db.write() as session:
        created = await accounts.create_account(
            session,
            email=f"jobs-{new_id()[:8]}@example.com",
            password=None,
            signup_credits=50,
            storage_quota_bytes=10**9,
        )
    return Tenant(created.account.id, created.workspace.id)


@pytest.fixture(autouse=True)
def _clear_calls() -> None:
    handlers.CALLS.clear()
    handlers.CANCELLED.clear()


@pytest.fixture
async def make_engine(job_settings: Settings, db: Database) -> AsyncIterator[EngineFactory]:
    """Engines on the in-memory broker unless `broker=` says otherwise; stopped at teardown."""
    made: list[JobEngine] = []

    def make(**kwargs: Any) -> JobEngine:
        kwargs.setdefault("broker", InMemoryBroker(propagate_exceptions=False))
        kwargs.setdefault("dispatch", False)
        kwargs.setdefault("load_modules", False)
        kwargs.setdefault("shutdown_grace", 0.2)
        engine = JobEngine(kwargs.pop("settings", job_settings), db, **kwargs)
        made.append(engine)
        return engine

    yield make
    for engine in made:
        await engine.stop()

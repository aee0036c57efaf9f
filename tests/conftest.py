"""Shared fixtures: a migrated database (SQLite, or PostgreSQL + Redis when the
POWERPOST_TEST_* variables say so), the app with its lifespan, an HTTP client, factories."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from powerpost.app import create_app
from powerpost.config import Settings, load_settings
from tests.fixtures import db as testdb
from tests.fixtures.factories import Factory


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> str | Path:
    if testdb.PG_URL:
        return testdb.prepare_pg(worker_id)
    return testdb.prepare_sqlite_template(tmp_path_factory.mktemp("template"))


@pytest.fixture
def database_url(database_template: str | Path, tmp_path: Path) -> Iterator[str]:
    if isinstance(database_template, Path):
        yield testdb.sqlite_copy(database_template, tmp_path / "powerpost.db")
        return
    asyncio.run(testdb.empty_pg(database_template))
    yield database_template


@pytest.fixture
def env(tmp_path: Path, database_url: str, worker_id: str) -> dict[str, str]:
    """The POWERPOST_* environment a server or CLI under test runs with."""
    values = {
        "POWERPOST_DATA_DIR": str(tmp_path / "data"),
        "POWERPOST_DATABASE_URL": database_url,
        "POWERPOST_KEY_PEPPERS": "1:" + "11" * 32,
        "POWERPOST_SECRET_KEY": "22" * 32,
    }
    if testdb.REDIS_URL:
        # one Redis database per xdist worker keeps rate-limit windows apart
        index = 1 + (int(worker_id[2:]) if worker_id.startswith("gw") else 0)
        values["POWERPOST_REDIS_URL"] = testdb.REDIS_URL.rstrip("/") + f"/{index}"
    return values


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return load_settings(env)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    await application.state.limiter.reset()
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def factory(app: FastAPI) -> Factory:
    return Factory(app)


@pytest.fixture(scope="session")
def worker_id() -> str:
    # pytest-xdist provides this fixture; without xdist we are the "master".
    return os.environ.get("PYTEST_XDIST_WORKER", "master")


@pytest.fixture
async def probe_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose app also has the test-only probe routes (tests/fixtures/probe.py)."""
    from tests.fixtures.probe import router

    app.include_router(router, prefix="/api/v1")
    transport = httpx.ASGITransport(app=app, client=("203.0.113.8", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c

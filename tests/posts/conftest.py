"""Posts and publishing run the real app with its embedded job engine, retries at once and
simulated platforms that answer without a pause."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from fastapi import FastAPI
from tests.fixtures.factories import Factory
from tests.generation.support import FAST_JOBS
from tests.posts.support import PostsApi, make_posts_api

from powerpost.config import Settings, load_settings


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return dataclasses.replace(load_settings(env), jobs=FAST_JOBS, sandbox_latency_ms=(0, 0))


@pytest.fixture
async def live(client: httpx.AsyncClient, app: FastAPI, factory: Factory) -> PostsApi:
    return await make_posts_api(client, app, factory, mode="live")


@pytest.fixture
async def sandbox(client: httpx.AsyncClient, app: FastAPI, factory: Factory) -> PostsApi:
    """A test-mode key: simulated platforms, no credits spent."""
    return await make_posts_api(client, app, factory, mode="test")

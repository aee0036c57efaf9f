"""Caption tests run the real app with its embedded job engine, tuned to retry at once."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from tests.fixtures.factories import Factory
from tests.generation.support import FAST_JOBS, Api, Script, make_api

from powerpost.config import ProviderSettings, Settings, load_settings
from powerpost.generation.providers import registry


@pytest.fixture
def provider_settings() -> ProviderSettings:
    """Override in a test module to change providers or the outbound URL policy."""
    return ProviderSettings()


@pytest.fixture
def settings(env: dict[str, str], provider_settings: ProviderSettings) -> Settings:
    return dataclasses.replace(load_settings(env), jobs=FAST_JOBS, providers=provider_settings)


@pytest.fixture
async def api(client: httpx.AsyncClient, app: FastAPI, factory: Factory) -> Api:
    return await make_api(client, app, factory)


@pytest.fixture
def script() -> Iterator[Script]:
    """Registered as the "scripted" caption provider; select it with provider_settings."""
    scripted = Script()
    registry.register("scripted", lambda settings, http: scripted)
    yield scripted
    registry.unregister("scripted")

"""Video generations in test mode (invisible to live keys and back, no credits, offline
provider) and `?dry_run=true` on POST /videos/generate (scenarios: tests/fixtures/modes.py).
Renders are the 4 s veo-3.1 ones, the shortest the contract allows."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from tests.fixtures import modes
from tests.fixtures.factories import Factory
from tests.images.support import with_providers

from powerpost.config import Settings, load_settings
from powerpost.models import VideoGeneration

VIDEOS = modes.Case(
    generate="/api/v1/videos/generate",
    body={"prompt": "Pumpkin soup steaming", "model": "veo-3.1", "duration": 4},
    id_field="video_generation_id",
    get="/api/v1/videos/generations/{}",
    model=VideoGeneration,
    reference_prefix="video_generation",
    event_prefix="video_generation",
    invalid={"prompt": "Pumpkin soup steaming", "model": "veo-3.1", "duration": 5},
    # 16 credits, more than the 5 left
    dear={"prompt": "Pumpkin soup steaming", "model": "veo-3.1", "duration": 4},
)


@pytest.fixture
def settings(env: dict[str, str], request: pytest.FixtureRequest) -> Settings:
    # indirect parametrisation names the configured live provider; offline by default
    return with_providers(load_settings(env), videos=getattr(request, "param", "offline"))


async def test_test_and_live_video_generations_are_invisible_to_each_other(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    await modes.modes_do_not_see_each_other(client, app, factory, VIDEOS)


async def test_a_test_video_generation_leaves_balance_and_ledger_untouched(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    await modes.spends_nothing_in_test_mode(client, app, factory, VIDEOS)


@pytest.mark.parametrize("settings", ["openai"], indirect=True)
async def test_a_test_key_uses_the_offline_provider_whatever_is_configured(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    await modes.uses_the_offline_provider_in_test_mode(client, app, factory, VIDEOS)


async def test_dry_run_fails_exactly_as_the_real_call(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    await modes.dry_run_fails_as_the_real_call(client, app, factory, VIDEOS)


async def test_dry_run_quotes_and_creates_nothing(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    await modes.dry_run_quotes_and_creates_nothing(client, app, factory, VIDEOS, price=16)


async def test_dry_run_checks_a_source_image_of_the_callers_mode(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    await modes.dry_run_refuses_foreign_mode_media(
        client,
        app,
        factory,
        VIDEOS,
        lambda media_id: {**VIDEOS.body, "source_image": media_id},
    )

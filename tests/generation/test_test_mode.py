"""Caption generations in test mode (invisible to live keys and back, no credits, offline
provider) and `?dry_run=true` on POST /content/generate (the scenarios are shared with
images and videos: tests/fixtures/modes.py)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from tests.fixtures import modes
from tests.fixtures.factories import Factory

from powerpost.config import ProviderSettings
from powerpost.models import Generation

CAPTIONS = modes.Case(
    generate="/api/v1/content/generate",
    body={"prompt": "Autumn menu launch", "post_types": ["x-post"], "research_mode": "regular"},
    id_field="generation_id",
    get="/api/v1/content/generations/{}",
    model=Generation,
    reference_prefix="generation",
    event_prefix="generation",
    list_url="/api/v1/content/generations",
    invalid={"prompt": "x", "post_types": ["x-post"], "research_mode": "regular"},
    # 6 credits (regular), more than the 5 left
    dear={"prompt": "Autumn menu launch", "post_types": ["x-post"], "research_mode": "regular"},
)


@pytest.fixture
def provider_settings(request: pytest.FixtureRequest) -> ProviderSettings:
    # indirect parametrisation names the configured live provider; offline by default
    return ProviderSettings(captions=getattr(request, "param", "offline"))


async def test_test_and_live_generations_are_invisible_to_each_other(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    await modes.modes_do_not_see_each_other(client, app, factory, CAPTIONS)


async def test_a_test_generation_leaves_balance_and_ledger_untouched(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    await modes.spends_nothing_in_test_mode(client, app, factory, CAPTIONS)


@pytest.mark.parametrize("provider_settings", ["openai"], indirect=True)
async def test_a_test_key_uses_the_offline_provider_whatever_is_configured(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    await modes.uses_the_offline_provider_in_test_mode(client, app, factory, CAPTIONS)


async def test_dry_run_fails_exactly_as_the_real_call(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    await modes.dry_run_fails_as_the_real_call(client, app, factory, CAPTIONS)


async def test_dry_run_quotes_and_creates_nothing(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    await modes.dry_run_quotes_and_creates_nothing(client, app, factory, CAPTIONS, price=6)


async def test_dry_run_checks_media_of_the_callers_mode(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    """Live media is a missing id to a test key, in the dry run as in the real call."""
    await modes.dry_run_refuses_foreign_mode_media(
        client,
        app,
        factory,
        CAPTIONS,
        lambda media_id: {
            "media_ids": [media_id],
            "post_types": ["x-post"],
            "research_mode": "regular",
        },
    )

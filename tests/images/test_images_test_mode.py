"""Image generations in test mode (invisible to live keys and back, no credits, offline
provider) and `?dry_run=true` on POST /images/generate (scenarios: tests/fixtures/modes.py)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from tests.fixtures import modes
from tests.fixtures.factories import Factory
from tests.fixtures.media import wait_finished
from tests.images.support import with_providers

from powerpost.config import Settings, load_settings
from powerpost.models import ImageGeneration

IMAGES = modes.Case(
    generate="/api/v1/images/generate",
    body={"prompt": "Autumn menu on a chalkboard"},
    id_field="image_generation_id",
    get="/api/v1/images/generations/{}",
    model=ImageGeneration,
    reference_prefix="image_generation",
    event_prefix="image_generation",
    invalid={"prompt": "Autumn menu", "model": "gpt-image-1.5", "size": "feed"},
    # 2 × 5 credits, more than the 5 left
    dear={"prompt": "Autumn menu on a chalkboard", "quantity": 2},
)


@pytest.fixture
def settings(env: dict[str, str], request: pytest.FixtureRequest) -> Settings:
    # indirect parametrisation names the configured live provider; offline by default
    return with_providers(load_settings(env), images=getattr(request, "param", "offline"))


async def test_test_and_live_image_generations_are_invisible_to_each_other(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    await modes.modes_do_not_see_each_other(client, app, factory, IMAGES)


async def test_a_test_image_generation_leaves_balance_and_ledger_untouched(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    await modes.spends_nothing_in_test_mode(client, app, factory, IMAGES)


@pytest.mark.parametrize("settings", ["openai"], indirect=True)
async def test_a_test_key_uses_the_offline_provider_whatever_is_configured(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    await modes.uses_the_offline_provider_in_test_mode(client, app, factory, IMAGES)


async def test_pictures_of_a_test_generation_are_test_media(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    """The stored pictures belong to the generation's mode: a test key can use them as
    style images, a live key cannot (a missing id to it)."""
    k = await modes.keys(factory)
    started = await modes.start(client, IMAGES, k.test)
    done = await modes.finished(client, IMAGES, started["image_generation_id"], k.test)
    (picture,) = done["images"]
    body = {"prompt": "More of the same", "style_images": [picture["media_id"]]}
    quote = {"dry_run": "true"}
    own = await client.post(IMAGES.generate, params=quote, json=body, headers=k.test)
    assert own.status_code == 200, own.text
    foreign = await client.post(IMAGES.generate, params=quote, json=body, headers=k.live)
    assert foreign.status_code == 404, foreign.text


async def test_dry_run_fails_exactly_as_the_real_call(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    await modes.dry_run_fails_as_the_real_call(client, app, factory, IMAGES)


async def test_dry_run_quotes_and_creates_nothing(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    await modes.dry_run_quotes_and_creates_nothing(client, app, factory, IMAGES, price=5)


async def test_dry_run_checks_style_images_of_the_callers_mode(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    await modes.dry_run_refuses_foreign_mode_media(
        client,
        app,
        factory,
        IMAGES,
        lambda media_id: {"prompt": "In this style", "style_images": [media_id]},
    )


async def test_post_mode_takes_only_a_generation_of_the_callers_mode(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    """A caption generation of the other mode is a missing one to post mode, dry run or
    not; nothing is created."""
    k = await modes.keys(factory)
    captions = {
        "prompt": "Autumn menu launch",
        "post_types": ["x-post"],
        "research_mode": "regular",
    }
    made = {}
    for name, h in (("live", k.live), ("test", k.test)):
        response = await client.post("/api/v1/content/generate", json=captions, headers=h)
        assert response.status_code == 200, response.text
        made[name] = response.json()["generation_id"]
        url = f"/api/v1/content/generations/{made[name]}"
        assert (await wait_finished(client, url, h))["status"] == "completed"
    before = await modes.footprint(app, IMAGES, k.tenant.account_id)
    for h, foreign in ((k.test, made["live"]), (k.live, made["test"])):
        for params in ({"dry_run": "true"}, {}):
            response = await client.post(
                IMAGES.generate, params=params, json={"generation_id": foreign}, headers=h
            )
            assert response.status_code == 404, response.text
            assert response.json()["error"]["message"] == f"Generation '{foreign}' not found"
    assert await modes.footprint(app, IMAGES, k.tenant.account_id) == before
    own = await client.post(
        IMAGES.generate, params={"dry_run": "true"}, json={"generation_id": made["test"]},
        headers=k.test,
    )  # fmt: skip
    assert own.status_code == 200, own.text
    assert own.json()["credits_required"] == 0

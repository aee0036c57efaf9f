"""Failures, partial failures and retries of image jobs, with a scripted provider found
through the provider registry: exact refunds, one event per outcome, nothing stored twice."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from tests.fixtures.factories import Factory
from tests.fixtures.paid import assert_postponed, make_due
from tests.images.support import Api, api_for, count, events, ledger, with_providers

from powerpost.config import Settings, load_settings
from powerpost.images.providers import registry
from powerpost.images.providers.base import (
    ImageRequest,
    ImageResult,
    ProviderError,
    RenderedImage,
)
from powerpost.images.providers.offline import OfflineImageProvider
from powerpost.models import Account, ImageGenerationImage, Media

NAME = "scripted-images"


class _Exploding:
    """A picture whose bytes cannot be read: storing it raises mid-job, like a crash."""

    mime_type = "image/png"
    width = 1024
    height = 1024

    @property
    def data(self) -> bytes:
        raise RuntimeError("the worker died while storing this picture")


@dataclass
class Plan:
    fail: frozenset[int] = frozenset()  # positions reported as failed by the provider
    garbage: frozenset[int] = frozenset()  # positions whose bytes are not an image
    explode: frozenset[int] = frozenset()  # positions that crash the job while stored
    error: BaseException | None = None  # the whole call fails


@dataclass
class ScriptedImages:
    name: str = NAME
    plans: list[Plan] = field(default_factory=list)
    requests: list[ImageRequest] = field(default_factory=list)

    async def generate(self, request: ImageRequest) -> list[ImageResult]:
        self.requests.append(request)
        plan = self.plans.pop(0) if self.plans else Plan()
        if plan.error is not None:
            raise plan.error
        results = await OfflineImageProvider().generate(request)
        scripted: list[ImageResult] = []
        for result in results:
            if result.index in plan.fail:
                scripted.append(ImageResult(result.index, None, "content policy refused it"))
            elif result.index in plan.garbage:
                junk = RenderedImage(b"not a picture", "image/png", 1024, 1024)
                scripted.append(ImageResult(result.index, junk, None))
            elif result.index in plan.explode:
                scripted.append(ImageResult(result.index, cast(RenderedImage, _Exploding()), None))
            else:
                scripted.append(result)
        return scripted


@pytest.fixture
def provider() -> Iterator[ScriptedImages]:
    scripted = ScriptedImages()
    registry.register(NAME, lambda settings, http: scripted)
    yield scripted
    registry.unregister(NAME)


@pytest.fixture
def settings(env: dict[str, str], provider: ScriptedImages) -> Settings:
    return with_providers(load_settings(env), images=NAME)


@pytest.fixture
async def api(client: httpx.AsyncClient, app: FastAPI, factory: Factory) -> Api:
    return await api_for(client, app, factory)


async def start(api: Api, **body: Any) -> dict[str, Any]:
    response = await api.post("/images/generate", {"prompt": "Harbour festival", **body})
    assert response.status_code == 200, response.text
    return await api.finished(response.json()["status_url"])


async def outcomes(api: Api, generation_id: str) -> list[tuple[int, bool, str | None]]:
    async with api.app.state.db.read() as session:
        rows = (
            await session.execute(
                select(ImageGenerationImage)
                .where(ImageGenerationImage.image_generation_id == generation_id)
                .order_by(ImageGenerationImage.position)
            )
        ).scalars()
        return [(r.position, r.media_id is not None, r.error) for r in rows]


async def test_some_pictures_failing_refunds_exactly_those(
    api: Api, provider: ScriptedImages
) -> None:
    provider.plans = [Plan(fail=frozenset({1, 3}))]
    done = await start(api, quantity=4, model="ideogram-3")
    generation_id = done["image_generation_id"]

    assert done["status"] == "failed"
    assert done["error"]["code"] == "IMAGE_GENERATION_FAILED"
    assert "2 of 4 images" in done["error"]["message"]
    assert "content policy" in done["error"]["message"]
    assert len(done["images"]) == 2
    assert done["credits_used"] == 12
    assert await outcomes(api, generation_id) == [
        (0, True, None),
        (1, False, "content policy refused it"),
        (2, True, None),
        (3, False, "content policy refused it"),
    ]
    # held 4 x 6, kept 2 x 6, gave back 2 x 6
    assert await ledger(api.app, api.account_id, f"image_generation:{generation_id}") == [
        ("hold", -24),
        ("release", 12),
    ]
    assert await api.balance() == 50 - 12
    (event,) = await events(api.app, api.workspace_id, "image_generation.")
    assert event["event"] == "image_generation.failed"
    assert event["data"]["status"] == "failed"
    assert event["data"]["error"] == done["error"]
    assert [i["media_id"] for i in event["data"]["images"]] == [
        i["media_id"] for i in done["images"]
    ]


async def test_every_picture_failing_refunds_everything(api: Api, provider: ScriptedImages) -> None:
    provider.plans = [Plan(fail=frozenset({0, 1}))]
    done = await start(api, quantity=2)
    assert done["status"] == "failed"
    assert done["images"] == []
    assert done["credits_used"] == 0
    assert done["error"]["message"].startswith("The images could not be generated")
    ref = f"image_generation:{done['image_generation_id']}"
    assert await ledger(api.app, api.account_id, ref) == [("hold", -10), ("refund", 10)]
    assert await api.balance() == 50
    (event,) = await events(api.app, api.workspace_id, "image_generation.")
    assert event["event"] == "image_generation.failed"


async def test_a_picture_that_is_not_an_image_fails_alone(
    api: Api, provider: ScriptedImages
) -> None:
    provider.plans = [Plan(garbage=frozenset({2}))]
    done = await start(api, quantity=3)
    assert done["status"] == "failed"
    assert len(done["images"]) == 2
    assert await api.balance() == 50 - 10
    assert await count(api.app, Media, workspace_id=api.workspace_id) == 2


async def test_a_final_provider_error_fails_at_once_and_refunds(
    api: Api, provider: ScriptedImages
) -> None:
    provider.plans = [Plan(error=ProviderError("the vendor rejected the prompt (400)"))]
    done = await start(api, quantity=2, model="nano-banana-2")
    assert done["status"] == "failed"
    assert done["error"] == {
        "code": "IMAGE_GENERATION_FAILED",
        "message": "The images could not be generated: the vendor rejected the prompt (400)",
    }
    assert len(provider.requests) == 1  # not retried
    assert await api.balance() == 50


async def test_a_transient_provider_error_is_retried(api: Api, provider: ScriptedImages) -> None:
    provider.plans = [Plan(error=ProviderError("vendor busy (503)", retryable=True))]
    done = await start(api, quantity=1)
    assert done["status"] == "completed"
    assert len(provider.requests) == 2
    assert await api.balance() == 45


async def test_transient_errors_that_never_stop_fail_after_the_last_attempt(
    api: Api, provider: ScriptedImages
) -> None:
    busy = ProviderError("vendor busy (503)", retryable=True)
    provider.plans = [Plan(error=busy), Plan(error=busy), Plan(error=busy)]
    done = await start(api, quantity=1)
    assert done["status"] == "failed"
    assert "vendor busy" in done["error"]["message"]
    assert len(provider.requests) == 3
    assert await api.balance() == 50
    assert len(await events(api.app, api.workspace_id, "image_generation.failed")) == 1


async def test_a_crash_after_some_pictures_were_stored_does_not_store_them_twice(
    api: Api, provider: ScriptedImages
) -> None:
    # attempt 1 stores position 0, then dies on position 1; attempt 2 stores position 1 only
    provider.plans = [Plan(explode=frozenset({1})), Plan()]
    done = await start(api, quantity=2)
    assert done["status"] == "completed", done
    assert len(provider.requests) == 2
    assert await outcomes(api, done["image_generation_id"]) == [(0, True, None), (1, True, None)]
    assert await count(api.app, Media, workspace_id=api.workspace_id) == 2
    assert len({i["media_id"] for i in done["images"]}) == 2
    ref = f"image_generation:{done['image_generation_id']}"
    assert await ledger(api.app, api.account_id, ref) == [("hold", -10)]
    assert len(await events(api.app, api.workspace_id, "image_generation.")) == 1


async def test_storage_quota_exhausted_fails_and_refunds(
    api: Api, provider: ScriptedImages
) -> None:
    async with api.app.state.db.write() as session:
        await session.execute(
            update(Account).where(Account.id == api.account_id).values(storage_quota_bytes=1000)
        )
    done = await start(api, quantity=2)
    assert done["status"] == "failed"
    assert "quota" in done["error"]["message"]
    assert await api.balance() == 50
    assert await count(api.app, Media, workspace_id=api.workspace_id) == 0


SECRET = "postgres://admin:hunter2@10.0.0.5/powerpost"


async def test_an_internal_exception_never_reaches_the_client(
    api: Api, provider: ScriptedImages
) -> None:
    crash = RuntimeError(f"could not connect to {SECRET}")
    provider.plans = [Plan(error=crash), Plan(error=crash), Plan(error=crash)]
    done = await start(api, quantity=2)
    assert done["status"] == "failed"
    assert done["error"] == {
        "code": "IMAGE_GENERATION_FAILED",
        "message": "The images could not be generated: "
        "producing the images failed because of an internal error",
    }
    assert len(provider.requests) == 3  # retried like any other failure, then given up
    again = (await api.get(f"/images/generations/{done['image_generation_id']}")).json()
    (event,) = await events(api.app, api.workspace_id, "image_generation.")
    for shown in (str(again), str(event), str(await outcomes(api, done["image_generation_id"]))):
        assert "hunter2" not in shown
        assert "RuntimeError" not in shown
    assert await api.balance() == 50


async def test_key_shaped_text_in_a_provider_error_is_redacted(
    api: Api, provider: ScriptedImages
) -> None:
    leaky = ProviderError("the vendor said: bad key sk-live-0123456789abcdef, contact support")
    provider.plans = [Plan(error=leaky)]
    done = await start(api)
    assert done["error"]["message"] == (
        "The images could not be generated: the vendor said: bad key [redacted], contact support"
    )


async def test_a_long_retry_after_is_waited_out_not_dropped(
    api: Api, provider: ScriptedImages
) -> None:
    provider.plans = [Plan(error=ProviderError("rate limited", retry_after=600.0))]
    response = await api.post("/images/generate", {"prompt": "Patience", "quantity": 1})
    generation_id = response.json()["image_generation_id"]
    job = await assert_postponed(api.app, generation_id, at_least=590)
    pending = (await api.get(f"/images/generations/{generation_id}")).json()
    assert pending["status"] == "processing"
    assert len(provider.requests) == 1

    await make_due(api.app, job.id)  # as if the ten minutes had passed
    done = await api.finished(response.json()["status_url"])
    assert done["status"] == "completed", done
    assert len(provider.requests) == 2
    assert await api.balance() == 45

"""Helpers for the caption generation tests: a tenant's API client, media made on the fly,
polling with a deadline, and views of the ledger, jobs and webhook outbox."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from PIL import Image
from sqlalchemy import select
from starlette.types import ASGIApp
from tests.fixtures import media
from tests.fixtures.factories import Factory

from powerpost.config import JobSettings
from powerpost.generation.providers.base import CaptionOutputs, CaptionRequest
from powerpost.generation.providers.offline import OfflineCaptionProvider
from powerpost.models import CreditHold, Generation, Job, WebhookEvent

GENERATE = "/api/v1/content/generate"
GENERATIONS = "/api/v1/content/generations"
UPLOAD = "/api/v1/media/upload"

# Retries come back at once and the dispatcher looks often, so a retried job ends within a
# test's deadline.
FAST_JOBS = JobSettings(
    concurrency=4,
    lease_seconds=30.0,
    dispatch_interval=0.05,
    rekick_seconds=1.0,
    backoff_base=0.01,
    backoff_cap=0.05,
)


def image_bytes(
    size: tuple[int, int] = (96, 64), colour: tuple[int, int, int] = (200, 40, 40), fmt: str = "PNG"
) -> bytes:
    im = Image.new("RGB", size, colour)
    for x in range(0, size[0], 8):
        im.putpixel((x, size[1] // 2), (255, 255, 255))
    buffer = io.BytesIO()
    im.save(buffer, format=fmt)
    return buffer.getvalue()


def make_mp4(path: Path, *, seconds: float = 1.0, audio: bool = False, rate: int = 25) -> Path:
    """A real H.264 MP4 (160x90) whose tone is 16 kHz, the rate the caption provider
    extracts audio at for transcription."""
    return media.make_mp4(path, seconds=seconds, audio=audio, rate=rate, sample_rate=16000)


@dataclass
class Api(media.TenantApi):
    """One tenant's full-access key, bound to the tenant's first workspace."""

    key_id: str

    async def generate(self, **body: Any) -> httpx.Response:
        return await self.http.post(GENERATE, json=body, headers=self.headers)

    async def get(self, generation_id: str) -> httpx.Response:
        return await self.http.get(f"{GENERATIONS}/{generation_id}", headers=self.headers)

    async def wait(self, generation_id: str, deadline: float = 30.0) -> dict[str, Any]:
        """Poll until the generation finishes (the embedded engine runs the job)."""
        url = f"{GENERATIONS}/{generation_id}"
        return await media.wait_finished(self.http, url, self.headers, within=deadline)


async def make_api(http: httpx.AsyncClient, app: FastAPI, factory: Factory) -> Api:
    tenant = await factory.account()
    key_id, secret = await factory.key(tenant)
    return Api(http, app, tenant, secret, key_id)


async def ledger(app: FastAPI, generation_id: str) -> list[tuple[str, int]]:
    """(kind, amount) of every ledger entry of one generation, in order."""
    return await media.ledger(app, f"generation:{generation_id}:")


async def hold(app: FastAPI, generation_id: str) -> CreditHold | None:
    async with app.state.db.read() as session:
        found: CreditHold | None = await session.get(CreditHold, f"generation:{generation_id}")
    return found


async def events(app: FastAPI, generation_id: str) -> list[dict[str, Any]]:
    """The webhook envelopes written for one generation."""
    async with app.state.db.read() as session:
        rows = (
            (await session.execute(select(WebhookEvent).order_by(WebhookEvent.created_at)))
            .scalars()
            .all()
        )
    return [
        r.payload for r in rows if r.payload.get("data", {}).get("generation_id") == generation_id
    ]


async def jobs_for(app: FastAPI, generation_id: str) -> list[Job]:
    async with app.state.db.read() as session:
        return list(
            (await session.execute(select(Job).where(Job.subject_id == generation_id)))
            .scalars()
            .all()
        )


async def count_generations(app: FastAPI, account_id: str) -> int:
    return await media.count_rows(app, Generation, account_id=account_id)


async def count_jobs(app: FastAPI, account_id: str) -> int:
    return await media.count_rows(app, Job, account_id=account_id)


@contextmanager
def serve_on_loopback(app: ASGIApp) -> Iterator[str]:
    """Run an ASGI app under uvicorn on a free loopback port (in a thread); yields its URL."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        lifespan="off",
        log_config=None,
        access_log=False,
        http="h11",
        ws="none",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="loopback-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError("the loopback test server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


class Script:
    """A caption provider whose next answers the test decides; it writes real captions
    (the offline provider's) when nothing is scripted, and records every request."""

    def __init__(self) -> None:
        self.steps: list[BaseException | CaptionOutputs] = []
        self.requests: list[CaptionRequest] = []
        self.name = "scripted"

    async def write_captions(self, request: CaptionRequest) -> CaptionOutputs:
        self.requests.append(request)
        if self.steps:
            step = self.steps.pop(0)
            if isinstance(step, BaseException):
                raise step
            return step
        return await OfflineCaptionProvider().write_captions(request)

"""Helpers for the caption generation tests: a tenant's API client, media made on the fly,
polling with a deadline, and views of the ledger, jobs and webhook outbox."""

from __future__ import annotations

import asyncio
import io
import subprocess
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
from sqlalchemy import func, select
from starlette.types import ASGIApp
from tests.fixtures.factories import Factory, Tenant, headers

from powerpost.config import JobSettings
from powerpost.credits import service as credits
from powerpost.generation.providers.base import CaptionOutputs, CaptionRequest
from powerpost.generation.providers.offline import OfflineCaptionProvider
from powerpost.kit.ffmpeg import ffmpeg_exe
from powerpost.models import CreditHold, CreditLedgerEntry, Generation, Job, WebhookEvent

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
    """A real H.264 MP4 from ffmpeg's test source (optionally with a sine tone)."""
    args = [ffmpeg_exe(), "-nostdin", "-v", "error", "-y"]
    args += ["-f", "lavfi", "-i", f"testsrc2=size=160x90:rate={rate}:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=16000:duration={seconds}"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    args += ["-c:a", "aac", "-shortest"] if audio else ["-an"]
    args += ["-movflags", "+faststart", "-f", "mp4", str(path)]
    subprocess.run(args, check=True, timeout=60)
    return path


@dataclass
class Api:
    """One tenant's full-access key, bound to the tenant's first workspace."""

    http: httpx.AsyncClient
    app: FastAPI
    tenant: Tenant
    secret: str
    key_id: str

    @property
    def headers(self) -> dict[str, str]:
        return headers(self.secret, self.tenant.workspace_id)

    async def generate(self, **body: Any) -> httpx.Response:
        return await self.http.post(GENERATE, json=body, headers=self.headers)

    async def get(self, generation_id: str) -> httpx.Response:
        return await self.http.get(f"{GENERATIONS}/{generation_id}", headers=self.headers)

    async def upload(self, content: bytes, kind: str, name: str) -> str:
        response = await self.http.post(
            UPLOAD,
            headers=self.headers,
            files={"file": (name, content, "application/octet-stream")},
            data={"type": kind},
        )
        assert response.status_code == 200, response.text
        media_id: str = response.json()["media_id"]
        return media_id

    async def wait(self, generation_id: str, deadline: float = 30.0) -> dict[str, Any]:
        """Poll until the generation finishes (the embedded engine runs the job)."""
        until = time.monotonic() + deadline
        while True:
            response = await self.get(generation_id)
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            if body["status"] in ("completed", "failed"):
                return body
            if time.monotonic() > until:
                raise AssertionError(f"generation {generation_id} still {body['status']}")
            await asyncio.sleep(0.05)

    async def balance(self) -> int:
        async with self.app.state.db.read() as session:
            return await credits.balance(session, self.tenant.account_id)


async def make_api(http: httpx.AsyncClient, app: FastAPI, factory: Factory) -> Api:
    tenant = await factory.account()
    key_id, secret = await factory.key(tenant)
    return Api(http, app, tenant, secret, key_id)


async def ledger(app: FastAPI, generation_id: str) -> list[tuple[str, int]]:
    """(kind, amount) of every ledger entry of one generation, in order."""
    reference = f"generation:{generation_id}"
    async with app.state.db.read() as session:
        rows = (
            await session.execute(
                select(CreditLedgerEntry.kind, CreditLedgerEntry.amount)
                .where(CreditLedgerEntry.reference.like(reference + ":%"))
                .order_by(CreditLedgerEntry.created_at)
            )
        ).all()
    return [(kind, amount) for kind, amount in rows]


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
    async with app.state.db.read() as session:
        value = await session.scalar(
            select(func.count()).select_from(Generation).where(Generation.account_id == account_id)
        )
    return int(value or 0)


async def count_jobs(app: FastAPI, account_id: str) -> int:
    async with app.state.db.read() as session:
        value = await session.scalar(
            select(func.count()).select_from(Job).where(Job.account_id == account_id)
        )
    return int(value or 0)


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

"""Helpers for the image and video generation tests: a tenant's API client, polling,
decoding stored media through its signed URLs, and the ledger, jobs and webhook outbox."""

from __future__ import annotations

import asyncio
import dataclasses
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI
from PIL import Image
from sqlalchemy import select
from tests.fixtures import media
from tests.fixtures.factories import Factory

from powerpost.config import JobSettings, Settings
from powerpost.credits import service as credits
from powerpost.kit.ffmpeg import probe
from powerpost.models import (
    Account,
    ImageGeneration,
    Job,
    Media,
    VideoGeneration,
    WebhookEvent,
)

# Retries come back quickly and the dispatcher looks often, so a retried job finishes
# within a test's deadline.
FAST_JOBS = JobSettings(
    concurrency=4,
    lease_seconds=30.0,
    dispatch_interval=0.1,
    rekick_seconds=2.0,
    backoff_base=0.05,
    backoff_cap=0.2,
)


def with_providers(settings: Settings, **changes: Any) -> Settings:
    return dataclasses.replace(
        settings,
        jobs=FAST_JOBS,
        providers=dataclasses.replace(settings.providers, **changes),
    )


def png_bytes(
    size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (200, 30, 30)
) -> bytes:
    image = Image.new("RGB", size, colour)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def tiny_mp4(
    path: Path, *, seconds: float = 1.0, audio: bool = False, size: str = "160x90"
) -> Path:
    """A real H.264 MP4 made by ffmpeg's test source (optionally with a 48 kHz AAC tone)."""
    return media.make_mp4(path, seconds=seconds, audio=audio, size=size)


@dataclass
class Api(media.TenantApi):
    """One tenant's API key, bound to its first workspace."""

    @property
    def account_id(self) -> str:
        return self.tenant.account_id

    @property
    def workspace_id(self) -> str:
        return self.tenant.workspace_id

    async def post(self, path: str, body: Any) -> httpx.Response:
        return await self.http.post(f"/api/v1{path}", json=body, headers=self.headers)

    async def get(self, path: str) -> httpx.Response:
        return await self.http.get(f"/api/v1{path}", headers=self.headers)

    async def finished(self, status_url: str, *, within: float = 30.0) -> dict[str, Any]:
        """Poll `status_url` (the way a client does, only faster) until the job ends."""
        return await media.wait_finished(self.http, status_url, self.headers, within=within)

    async def fetch(self, url: str) -> httpx.Response:
        """GET a signed media URL (absolute, for the configured host) from the test app."""
        parts = urlsplit(url)
        response = await self.http.get(f"{parts.path}?{parts.query}")
        assert response.status_code == 200, response.text
        return response

    async def grant(self, amount: int) -> None:
        async with self.app.state.db.write() as session:
            await credits.grant(session, self.account_id, amount, reason="test top-up")

    async def drain(self, keep: int) -> None:
        """Leave only `keep` credits (a hold that is never settled)."""
        current = await self.balance()
        async with self.app.state.db.write() as session:
            await credits.hold(
                session, self.account_id, current - keep, reference="test:drain", reason="test"
            )


async def api_for(http: httpx.AsyncClient, app: FastAPI, factory: Factory) -> Api:
    tenant = await factory.account()
    _, secret = await factory.key(tenant)
    return Api(http, app, tenant, secret)


async def decode_image(api: Api, url: str) -> Image.Image:
    response = await api.fetch(url)
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


async def probe_video(api: Api, url: str, target: Path) -> dict[str, Any]:
    """Download a stored video through its signed URL and return ffprobe's report."""
    response = await api.fetch(url)
    target.write_bytes(response.content)  # noqa: ASYNC240
    return await asyncio.to_thread(probe, target)


def streams(info: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [s for s in info["streams"] if s.get("codec_type") == kind]


async def media_row(app: FastAPI, media_id: str) -> Media:
    async with app.state.db.read() as session:
        row: Media | None = await session.get(Media, media_id)
    assert row is not None
    return row


async def ledger(app: FastAPI, account_id: str, reference_prefix: str) -> list[tuple[str, int]]:
    """(kind, amount) of the account's ledger entries for one reference, oldest first."""
    return await media.ledger(app, reference_prefix, account_id=account_id)


async def events(app: FastAPI, workspace_id: str, prefix: str) -> list[dict[str, Any]]:
    async with app.state.db.read() as session:
        rows = (
            await session.execute(
                select(WebhookEvent)
                .where(
                    WebhookEvent.workspace_id == workspace_id, WebhookEvent.event.startswith(prefix)
                )
                .order_by(WebhookEvent.created_at)
            )
        ).scalars()
        return [dict(row.payload) for row in rows]


count = media.count_rows


async def nothing_written(api: Api, balance: int) -> None:
    """A refused start leaves no generation, no job, no hold and the balance as it was."""
    assert await count(api.app, ImageGeneration, account_id=api.account_id) == 0
    assert await count(api.app, VideoGeneration, account_id=api.account_id) == 0
    assert await count(api.app, Job, account_id=api.account_id) == 0
    assert await api.balance() == balance
    async with api.app.state.db.read() as session:
        assert (
            await session.scalar(select(Account.balance).where(Account.id == api.account_id))
            == balance
        )


def without_urls(resource: dict[str, Any]) -> dict[str, Any]:
    """A GET resource with its signed URLs dropped (they embed the moment they were made)."""
    copy = dict(resource)
    for key in ("images",):
        if key in copy:
            copy[key] = [
                {k: v for k, v in item.items() if k not in ("url", "thumbnail_url")}
                for item in copy[key]
            ]
    if isinstance(copy.get("video"), dict):
        copy["video"] = {
            k: v for k, v in copy["video"].items() if k not in ("url", "thumbnail_url")
        }
    return copy

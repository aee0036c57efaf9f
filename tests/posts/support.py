"""Helpers for the posts tests: a tenant's client for the posts endpoints, and views of
what publishing left behind (sandbox posts, attempts, ledger, outbox)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from tests.fixtures import media
from tests.fixtures.factories import Factory
from tests.generation.support import image_bytes

from powerpost.models import PublishAttempt, SandboxPost, WebhookEvent

POSTS = "/api/v1/posts"
SETTLED = ("published", "partial", "failed")


@dataclass
class PostsApi(media.TenantApi):
    key_id: str

    async def create(self, items: list[dict[str, Any]], **extra: Any) -> httpx.Response:
        return await self.http.post(POSTS, json={"items": items, **extra}, headers=self.headers)

    async def create_ok(self, items: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        response = await self.create(items, **extra)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def get(self, post_id: str) -> httpx.Response:
        return await self.http.get(f"{POSTS}/{post_id}", headers=self.headers)

    async def action(
        self,
        post_id: str,
        verb: str,
        *,
        json: dict[str, Any] | None = None,
        scenario: str | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        headers = dict(self.headers)
        if scenario:
            headers["X-Test-Scenario"] = scenario
        return await self.http.post(
            f"{POSTS}/{post_id}/{verb}", json=json, headers=headers, params=params
        )

    async def wait(self, post_id: str, within: float = 30.0) -> dict[str, Any]:
        """Poll the post until every item has settled."""
        deadline = time.monotonic() + within
        while True:
            response = await self.get(post_id)
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            if body["status"] in SETTLED:
                return body
            assert time.monotonic() < deadline, f"post still {body['status']} after {within} s"
            await asyncio.sleep(0.02)

    async def image(self) -> str:
        return await self.upload(image_bytes((1080, 1080)), "image", "photo.png")


async def make_posts_api(
    http: httpx.AsyncClient,
    app: FastAPI,
    factory: Factory,
    *,
    mode: str,
    key_type: str = "read_write",
) -> PostsApi:
    tenant = await factory.account()
    key_id, secret = await factory.key(tenant, key_type, mode=mode)
    return PostsApi(http, app, tenant, secret, key_id)


async def sandbox_posts(app: FastAPI, reference: str) -> int:
    async with app.state.db.read() as session:
        stmt = (
            select(func.count())
            .select_from(SandboxPost)
            .where(SandboxPost.client_reference == reference)
        )
        return int((await session.execute(stmt)).scalar_one())


async def attempts(app: FastAPI, item_id: str) -> list[PublishAttempt]:
    async with app.state.db.read() as session:
        stmt = (
            select(PublishAttempt)
            .where(PublishAttempt.item_id == item_id)
            .order_by(PublishAttempt.started_at)
        )
        return list((await session.execute(stmt)).scalars())


async def post_events(app: FastAPI, post_id: str) -> list[dict[str, Any]]:
    async with app.state.db.read() as session:
        rows = (
            (await session.execute(select(WebhookEvent).order_by(WebhookEvent.created_at)))
            .scalars()
            .all()
        )
    return [r.payload for r in rows if r.payload.get("data", {}).get("post_id") == post_id]

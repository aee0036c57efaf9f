"""All dashboard pages under one router (HTML, outside /api and the OpenAPI document)."""

from __future__ import annotations

from fastapi import APIRouter

from powerpost.dashboard.routes import account, api_keys, auth, credits, workspaces
from powerpost.dashboard.routes import calendar as calendar_pages
from powerpost.dashboard.routes import media as media_pages
from powerpost.dashboard.routes import posts as post_pages
from powerpost.dashboard.routes import webhooks as webhook_pages
from powerpost.dashboard.routes import writing_styles as writing_style_pages

router = APIRouter(include_in_schema=False)
router.include_router(auth.router)
router.include_router(api_keys.router)
router.include_router(workspaces.router)
router.include_router(credits.router)
router.include_router(account.router)
router.include_router(post_pages.router)
router.include_router(calendar_pages.router)
router.include_router(media_pages.router)
router.include_router(writing_style_pages.router)
router.include_router(webhook_pages.router)

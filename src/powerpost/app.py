"""The application factory: one process serves the API (and the dashboard)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from powerpost.api_keys.usage import UsageRecorder
from powerpost.auth.authorizer import KeyAuthorizer
from powerpost.calendar.router import router as calendar_router
from powerpost.config import Settings, load_settings
from powerpost.credits.router import router as credits_router
from powerpost.dashboard.setup import install as install_dashboard
from powerpost.generation.router import router as generation_router
from powerpost.idempotency import IdempotencyGuard, PeriodicKeySweep
from powerpost.images.router import router as images_router
from powerpost.jobs import JobEngine
from powerpost.kit import error_handlers
from powerpost.kit.db import Database
from powerpost.kit.logging import protect_request_loggers
from powerpost.kit.middleware import RequestMiddleware, UsageSink
from powerpost.kit.openapi import contract_openapi
from powerpost.kit.ratelimit import RateLimiter
from powerpost.kit.security import KeyHasher
from powerpost.media.router import files_router
from powerpost.media.router import router as media_router
from powerpost.media.storage import storage_for
from powerpost.media.sweep import PeriodicSweep
from powerpost.posts.router import router as posts_router
from powerpost.publishing.router import router as publishing_router
from powerpost.videos.router import router as videos_router
from powerpost.webhooks.router import router as webhooks_router
from powerpost.webhooks.sweep import periodic_sweep as webhook_sweep
from powerpost.workspaces.router import router as workspaces_router

API_PREFIX = "/api/v1"
DOCS_STATIC = Path(__file__).resolve().parent / "kit" / "static" / "docs"
# Uploads stream to storage; everything else is JSON and small.
UPLOAD_BODY_LIMIT = 500 * 1024 * 1024 + 1024 * 1024

log = logging.getLogger("powerpost")


def api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    router.include_router(credits_router)
    router.include_router(workspaces_router)
    router.include_router(media_router)
    router.include_router(generation_router)
    router.include_router(images_router)
    router.include_router(videos_router)
    router.include_router(calendar_router)
    router.include_router(posts_router)
    router.include_router(publishing_router)
    router.include_router(webhooks_router)
    return router


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    # Also when the uvicorn command line serves the app with its own logging set-up.
    protect_request_loggers()
    db = Database(settings.database_url)
    limiter = RateLimiter(settings.rate_limits, settings.redis_url)
    usage = UsageRecorder(db)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await usage.start()
        await app.state.jobs.start()
        if app.state.jobs.dispatch:
            app.state.media_sweep.start()
            app.state.idempotency_sweep.start()
            app.state.webhook_sweep.start()
        try:
            yield
        finally:
            await app.state.webhook_sweep.stop()
            await app.state.idempotency_sweep.stop()
            await app.state.media_sweep.stop()
            await app.state.jobs.stop()
            await usage.stop()
            await db.dispose()
            await app.state.storage.aclose()
            await limiter.close()

    app = FastAPI(
        title="PowerPost API (self-hosted)",
        version="1.0.0",
        summary="The PowerPost API v1: captions, images, videos, posts, publishing.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        # "/api/v1/account/credits/" is an unknown route (404 in the envelope), not a 307
        # whose http:// Location would send the key again in cleartext behind a TLS proxy.
        redirect_slashes=False,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.limiter = limiter
    app.state.usage = usage
    app.state.hasher = KeyHasher(settings.key_peppers)
    app.state.authorizer = KeyAuthorizer(db, app.state.hasher, limiter)
    app.state.idempotency = IdempotencyGuard(db)
    app.state.idempotency_sweep = PeriodicKeySweep(db)
    app.state.webhook_sweep = webhook_sweep(db, settings)
    # Embedded (the default): this process also runs jobs and the dispatcher; otherwise it
    # only kicks them to the workers.
    embedded = settings.jobs.embedded
    app.state.jobs = JobEngine(settings, db, execute=embedded, dispatch=embedded)
    app.state.storage = storage_for(settings)
    app.state.media_sweep = PeriodicSweep(
        db,
        app.state.storage,
        interval=settings.media_sweep_interval,
        grace_hours=settings.media_sweep_grace_hours,
    )

    error_handlers.install(app)
    app.openapi = contract_openapi(app)  # type: ignore[method-assign]
    app.include_router(api_router())
    install_dashboard(app)  # after the error handlers: it adds HTML pages for browsers
    app.include_router(files_router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    app.mount("/docs/static", StaticFiles(directory=DOCS_STATIC), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "",
            title=app.title,
            swagger_js_url="/docs/static/swagger-ui-bundle.js",
            swagger_css_url="/docs/static/swagger-ui.css",
            swagger_favicon_url="data:,",  # no request anywhere, not even for an icon
            swagger_ui_parameters={"validatorUrl": None},
        )

    def body_limit_for(path: str) -> int:
        if path == f"{API_PREFIX}/media/upload":
            return UPLOAD_BODY_LIMIT
        return settings.max_json_body_bytes

    def usage_sink() -> UsageSink | None:
        recorder: UsageRecorder = app.state.usage
        return recorder.record

    app.add_middleware(RequestMiddleware, body_limit_for=body_limit_for, usage_sink=usage_sink)
    if settings.trusted_proxies:
        # Outermost, so every layer inside sees the real client address and scheme; only
        # the listed proxies are believed, anyone else's X-Forwarded-* is ignored.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
    return app


def create_app_from_env() -> FastAPI:
    """For `uvicorn --factory powerpost.app:create_app_from_env` (scaled mode)."""
    return create_app()

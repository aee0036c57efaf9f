"""Wire the dashboard into the app: pages, static files, sign-in throttle, HTML errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from powerpost.config import Settings
from powerpost.dashboard import errors
from powerpost.dashboard.rendering import STATIC_DIR, STATIC_PREFIX
from powerpost.dashboard.router import router
from powerpost.dashboard.throttle import LoginThrottle


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Merged into the app's lifespan by include_router: closes what the dashboard opened."""
    try:
        yield
    finally:
        throttle: LoginThrottle | None = getattr(app.state, "login_throttle", None)
        if throttle is not None:
            await throttle.aclose()


def install(app: FastAPI) -> None:
    """Call after kit.error_handlers.install: the HTML 404/405 handler wraps its JSON one."""
    settings: Settings = app.state.settings
    app.state.login_throttle = LoginThrottle(settings.redis_url)
    app.include_router(router)
    app.include_router(APIRouter(lifespan=_lifespan))
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="dashboard-static")
    app.add_exception_handler(errors.PageError, errors.page_error)
    app.add_exception_handler(errors.LoginRequired, errors.login_required)
    app.add_exception_handler(StarletteHTTPException, errors.http_error)

"""Jinja2 rendering for the dashboard, with the headers every page carries.

Autoescaping is on for every template and undefined names are errors, so a typo in a
template fails a test instead of rendering an empty string. Pages hold account data, so
none may be cached (and the page revealing a new key above all).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from powerpost.dashboard import nav
from powerpost.dashboard.sessions import Viewer
from powerpost.kit.clock import iso_z, utcnow

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATE_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
STATIC_PREFIX = "/static"

# No inline script or style anywhere: the strictest policy the pages can live with.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

# htmx: no eval, no history snapshots in localStorage (a snapshot could hold a new key),
# and form pages answered with 400/422 are still swapped in so their errors show.
HTMX_CONFIG = json.dumps(
    {
        "allowEval": False,
        "allowScriptTags": False,
        "includeIndicatorStyles": False,
        "historyCacheSize": 0,
        "refreshOnHistoryMiss": True,
        "selfRequestsOnly": True,
        "responseHandling": [
            {"code": "^204$", "swap": False},
            {"code": "^[23]..$", "swap": True},
            {"code": "^(400|422)$", "swap": True, "error": False},
            {"code": "^[45]..$", "swap": False, "error": True},
        ],
    },
    separators=(",", ":"),
)

NOTICES = {
    "welcome": "Welcome to PowerPost. Create an API key to start using the API.",
    "signed-out": "You are signed out.",
    "key-revoked": "The API key is revoked. Requests with it now get 401.",
    "workspace-created": "Workspace created.",
    "workspace-renamed": "Workspace renamed.",
    "workspace-deleted": "Workspace deleted. API keys now get 403 for its id.",
    "password-changed": "Password changed. Your other sessions were signed out.",
    "signed-out-others": "Every other browser is signed out.",
    "signed-out-one": "That browser is signed out.",
}


def format_utc(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def format_ago(moment: datetime | None, now: datetime | None = None) -> str:
    if moment is None:
        return "Never"
    seconds = int(((now or utcnow()) - moment).total_seconds())
    if seconds < 0:
        return format_utc(moment)
    if seconds < 60:
        return "Just now"
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return format_utc(moment)  # pragma: no cover - unreachable


def format_credits(amount: int) -> str:
    return f"{amount:+,}" if amount else "0"


@cache
def static_url(name: str) -> str:
    """A content-hashed URL, so a changed file is never served from a stale cache."""
    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]
    return f"{STATIC_PREFIX}/{name}?v={digest}"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["utc"] = format_utc
    env.filters["iso"] = iso_z
    env.filters["ago"] = format_ago
    env.filters["credits"] = format_credits
    env.globals["static_url"] = static_url
    env.globals["htmx_config"] = HTMX_CONFIG
    return env


templates = _environment()


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def render(
    request: Request,
    template: str,
    *,
    viewer: Viewer | None,
    status: int = 200,
    csrf_token: str | None = None,
    title: str = "",
    **context: Any,
) -> HTMLResponse:
    notice_code = request.query_params.get("notice", "")
    values: dict[str, Any] = {
        "viewer": viewer,
        "csrf_token": viewer.csrf_token if viewer is not None else (csrf_token or ""),
        "nav": nav.sections(request.url.path) if viewer is not None else [],
        "path": request.url.path,
        "now": viewer.now if viewer is not None else utcnow(),
        "notice": NOTICES.get(notice_code, ""),
        "title": title,
        **context,
    }
    html = templates.get_template(template).render(values)
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)

"""What the dashboard answers when a page cannot be shown: HTML for people, while every
/api path keeps the JSON envelope of kit.error_handlers."""

from __future__ import annotations

from typing import cast
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from powerpost.dashboard.rendering import PAGE_HEADERS, is_htmx, render
from powerpost.kit import error_handlers


class PageError(Exception):
    """A refusal shown as a friendly page."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.message = message


class PageNotFound(PageError):
    def __init__(self) -> None:
        super().__init__(
            404,
            "Page not found",
            "There is nothing at this address, or it belongs to another account.",
        )


class CsrfRefused(PageError):
    def __init__(self) -> None:
        super().__init__(
            403,
            "This form has expired",
            "The form was not sent from this dashboard or your session changed since the "
            "page was loaded, so nothing was done. Go back, reload the page and try again.",
        )


class FieldTooLong(PageError):
    """A form field past the dashboard's limit: refused by name, never silently emptied (an
    emptied expiry once made a key that never expires)."""

    def __init__(self, name: str, limit: int) -> None:
        super().__init__(
            400,
            "A field is too long",
            f"The “{name[:64]}” field is longer than {limit:,} characters, so nothing was "
            "done. Go back, shorten it and try again.",
        )
        self.field = name


class LoginRequired(Exception):
    def __init__(self, next_path: str | None) -> None:
        super().__init__("login required")
        self.next_path = next_path


def safe_next(candidate: str | None) -> str | None:
    """Only a path on this site: never an absolute or scheme-relative URL."""
    if not candidate or len(candidate) > 512:
        return None
    if not candidate.startswith("/") or candidate.startswith(("//", "/\\")):
        return None
    if any(ch in candidate for ch in "\\\r\n\t") or candidate.startswith(("/api/", "/logout")):
        return None
    return candidate


def login_url(next_path: str | None) -> str:
    target = safe_next(next_path)
    return "/login" if target is None else f"/login?next={quote(target, safe='/')}"


def wants_html(request: Request) -> bool:
    path = request.url.path
    if path == "/api" or path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "")


async def page_error(request: Request, exc: Exception) -> Response:
    exc = cast(PageError, exc)
    return render(
        request,
        "error.html",
        viewer=getattr(request.state, "viewer", None),
        status=exc.status,
        title=exc.title,
        message=exc.message,
    )


async def login_required(request: Request, exc: Exception) -> Response:
    exc = cast(LoginRequired, exc)
    target = login_url(exc.next_path)
    if is_htmx(request):
        # htmx would follow a redirect inside the XHR and swap the login form into a
        # table cell; this asks it to load the sign-in page as a whole page instead.
        return Response(status_code=200, headers={**PAGE_HEADERS, "HX-Redirect": target})
    response = RedirectResponse(target, status_code=303)
    response.headers.update(PAGE_HEADERS)
    return response


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's 404/405 as a page for browsers; the JSON envelope for everyone else."""
    exc = cast(StarletteHTTPException, exc)
    if not wants_html(request):
        return await error_handlers.http_error(request, exc)
    titles = {404: "Page not found", 405: "This address does not take that request"}
    title = titles.get(exc.status_code, "Something went wrong")
    message = (
        "There is nothing at this address."
        if exc.status_code == 404
        else "Go back to the dashboard and try again."
    )
    response = render(
        request,
        "error.html",
        viewer=getattr(request.state, "viewer", None),
        status=exc.status_code,
        title=title,
        message=message,
    )
    if exc.headers:
        response.headers.update(exc.headers)
    return response

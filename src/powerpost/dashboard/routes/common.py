"""Pieces the dashboard routes share: cookies, the anonymous-page token, the re-prompt,
the workspace a per-workspace page shows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from powerpost.accounts import service as accounts
from powerpost.config import Settings
from powerpost.dashboard import sessions
from powerpost.dashboard.deps import CSRF_FIELD, client_ip, field, throttle
from powerpost.dashboard.devices import DEVICE_COOKIE, LIFETIME, DeviceCookies
from powerpost.dashboard.errors import PageNotFound
from powerpost.dashboard.rendering import PAGE_HEADERS, is_htmx, render
from powerpost.dashboard.sessions import Viewer
from powerpost.kit.ids import parse_uuid
from powerpost.kit.numbers import whole_number
from powerpost.models import Workspace

REAUTH_FIELD = "reauth_password"
WRONG_CREDENTIALS = "Wrong email or password."


def chosen_workspace(listing: Sequence[Workspace], raw: str | None) -> Workspace:
    """The workspace named by `?workspace=` (the first one when absent); 404 otherwise."""
    if not listing:
        raise PageNotFound()
    if not raw:
        return listing[0]
    wanted = parse_uuid(raw)
    for workspace in listing:
        if workspace.id == wanted:
            return workspace
    raise PageNotFound()


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


async def begin_session(
    session: AsyncSession, request: Request, account_id: str
) -> sessions.IssuedSession:
    """A fresh session for this browser (any session it had is replaced, never reused)."""
    return await sessions.start_session(
        session,
        account_id,
        replaced_token=request.cookies.get(sessions.SESSION_COOKIE),
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        sessions.SESSION_COOKIE,
        token,
        max_age=int(sessions.ABSOLUTE_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request),
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        sessions.SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=is_https(request)
    )


def _device_cookies(request: Request) -> DeviceCookies:
    settings: Settings = request.app.state.settings
    return DeviceCookies(settings.secret_key)


async def known_device(
    session: AsyncSession, request: Request, email: str, now: datetime
) -> str | None:
    """This browser's device id if it signed in to the account of ``email`` before. Only a
    browser that holds a valid entry costs the account lookup."""
    cookies = _device_cookies(request)
    cookie = request.cookies.get(DEVICE_COOKIE)
    if not cookies.entries(cookie, now):
        return None
    account = await accounts.find_by_email(session, email)
    if account is None:
        return None
    return cookies.device_for(cookie, account.id, now)


def set_device_cookie(response: Response, request: Request, account_id: str, now: datetime) -> None:
    """Remember this browser for the account it just signed in to (see devices.py)."""
    value = _device_cookies(request).after_sign_in(
        request.cookies.get(DEVICE_COOKIE), account_id, now
    )
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=int(LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request),
    )


def page_number(raw: str | None, last: int) -> int:
    """A ?page= value: 1 when missing or not a number, at most ``last``."""
    return min(max(1, whole_number(raw) or 1), last)


def redirect(url: str) -> RedirectResponse:
    """See-other after a form post (the browser then GETs the page)."""
    return RedirectResponse(url, status_code=303, headers=PAGE_HEADERS)


def reload_page(request: Request, url: str) -> Response:
    """After a form that htmx posted in place: load ``url`` as a whole page, so every part
    it changed (the row above the form, the notice) shows the new state; a plain form post
    gets the usual see-other."""
    if is_htmx(request):
        return Response(status_code=200, headers={**PAGE_HEADERS, "HX-Redirect": url})
    return redirect(url)


def prelogin_token(request: Request) -> tuple[str, bool]:
    existing = request.cookies.get(sessions.PRELOGIN_COOKIE, "")
    if 32 <= len(existing) <= sessions.MAX_TOKEN_LENGTH:
        return existing, False
    return sessions.new_token(), True


def anonymous_page(
    request: Request, template: str, *, status: int = 200, title: str, **context: object
) -> HTMLResponse:
    token, fresh = prelogin_token(request)
    response = render(
        request, template, viewer=None, csrf_token=token, status=status, title=title, **context
    )
    if fresh:
        response.set_cookie(
            sessions.PRELOGIN_COOKIE,
            token,
            path="/",
            httponly=True,
            samesite="lax",
            secure=is_https(request),
        )
    return response


def minutes(seconds: int) -> str:
    count = max(1, (seconds + 59) // 60)
    return f"{count} minute{'' if count == 1 else 's'}"


async def recent_login_gate(
    request: Request, session: AsyncSession, viewer: Viewer, form: FormData, *, action: str
) -> Response | None:
    """None when the password was typed in the last 15 minutes (or is typed right now);
    otherwise the page that asks for it and then replays the original form."""
    if viewer.recent_login():
        return None
    password = field(form, REAUTH_FIELD)
    error = ""
    status = 200
    if password:
        ip = client_ip(request)
        limiter = throttle(request)
        # The owner's own browser: a stranger's failures on the email must not block it.
        device = _device_cookies(request).device_for(
            request.cookies.get(DEVICE_COOKIE), viewer.account_id, viewer.now
        )
        wait = await limiter.begin_attempt(ip, viewer.email, device)
        if wait is not None:
            error = f"Too many wrong passwords. Try again in {minutes(wait)}."
            status = 429
        else:
            account = await accounts.authenticate(session, viewer.email, password)
            if account is not None and account.id == viewer.account_id:
                await limiter.attempt_succeeded(ip, viewer.email, device)
                await sessions.confirm_password(session, viewer)
                return None
            error = "That password is not correct."
            status = 400
    replay = [
        (name, value)
        for name, value in form.multi_items()
        if name not in (CSRF_FIELD, REAUTH_FIELD) and isinstance(value, str)
    ]
    return render(
        request,
        "reauth.html",
        viewer=viewer,
        status=status,
        title="Confirm your password",
        action_url=request.url.path,
        cancel_url=(
            "/settings/workspaces"
            if request.url.path.startswith("/settings/workspaces")
            else "/settings/api"
        ),
        action=action,
        replay=replay,
        error=error,
    )

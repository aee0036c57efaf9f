"""Sign-up, sign-in and sign-out."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from powerpost.accounts import passwords
from powerpost.accounts import service as accounts
from powerpost.config import Settings
from powerpost.dashboard import sessions
from powerpost.dashboard.deps import (
    AnonymousWrite,
    CheckedViewer,
    Form,
    PageWrite,
    client_ip,
    database,
    field,
    throttle,
)
from powerpost.dashboard.errors import PageError, safe_next
from powerpost.dashboard.routes.common import (
    WRONG_CREDENTIALS,
    anonymous_page,
    begin_session,
    clear_session_cookie,
    known_device,
    minutes,
    redirect,
    set_device_cookie,
    set_session_cookie,
)
from powerpost.kit.clock import utcnow

log = logging.getLogger("powerpost.dashboard")
router = APIRouter(include_in_schema=False)

HOME = "/settings/api"
NextParam = Annotated[str | None, Query(alias="next")]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _signed_in(request: Request) -> bool:
    token = request.cookies.get(sessions.SESSION_COOKIE)
    if not token:
        return False
    async with database(request).read() as session:
        return await sessions.resolve(session, token) is not None


def _signup_closed() -> PageError:
    return PageError(
        403,
        "Sign-up is turned off",
        "This PowerPost server does not accept new accounts. Ask its operator for one.",
    )


def _signed_in_response(request: Request, token: str, account_id: str, target: str) -> Response:
    response = redirect(target)
    set_session_cookie(response, request, token)
    set_device_cookie(response, request, account_id, utcnow())
    response.delete_cookie(sessions.PRELOGIN_COOKIE, path="/")
    return response


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse(HOME, status_code=302)


@router.get("/settings")
async def settings_home() -> RedirectResponse:
    return RedirectResponse(HOME, status_code=302)


@router.get("/login")
async def login_page(request: Request, next_path: NextParam = None) -> Response:
    target = safe_next(next_path)
    if await _signed_in(request):
        return RedirectResponse(target or HOME, status_code=302)
    return anonymous_page(
        request,
        "auth/login.html",
        title="Sign in",
        next=target or "",
        email="",
        error="",
        allow_signup=_settings(request).allow_signup,
    )


@router.post("/login")
async def login(request: Request, session: AnonymousWrite, form: Form) -> Response:
    email = field(form, "email").strip()
    password = field(form, "password")
    target = safe_next(field(form, "next"))
    ip = client_ip(request)
    limiter = throttle(request)

    def again(error: str, status: int) -> Response:
        return anonymous_page(
            request,
            "auth/login.html",
            status=status,
            title="Sign in",
            next=target or "",
            email=email,
            error=error,
            allow_signup=_settings(request).allow_signup,
        )

    # A browser that signed in to this account before is throttled on its own, not by the
    # email's window that anyone can fill (dashboard/devices.py).
    device = await known_device(session, request, email, utcnow())
    wait = await limiter.begin_attempt(ip, email, device)
    if wait is not None:
        log.warning("dashboard sign-in throttled (ip=%s known_device=%s)", ip, device is not None)
        return again(f"Too many sign-in attempts. Try again in {minutes(wait)}.", 429)
    account = await accounts.authenticate(session, email, password)
    if account is None:
        log.info("dashboard sign-in failed (ip=%s known_device=%s)", ip, device is not None)
        return again(WRONG_CREDENTIALS, 400)
    await limiter.attempt_succeeded(ip, email, device)
    issued = await begin_session(session, request, account.id)
    return _signed_in_response(request, issued.token, account.id, target or HOME)


@router.get("/signup")
async def signup_page(request: Request) -> Response:
    if not _settings(request).allow_signup:
        raise _signup_closed()
    if await _signed_in(request):
        return RedirectResponse(HOME, status_code=302)
    return anonymous_page(
        request,
        "auth/signup.html",
        title="Create an account",
        email="",
        error="",
        min_password=passwords.MIN_PASSWORD_LENGTH,
        signup_credits=_settings(request).signup_credits,
    )


@router.post("/signup")
async def signup(request: Request, session: AnonymousWrite, form: Form) -> Response:
    settings = _settings(request)
    if not settings.allow_signup:
        raise _signup_closed()
    email = field(form, "email").strip()
    password = field(form, "password")
    ip = client_ip(request)
    limiter = throttle(request)

    def again(error: str, status: int) -> Response:
        return anonymous_page(
            request,
            "auth/signup.html",
            status=status,
            title="Create an account",
            email=email,
            error=error,
            min_password=passwords.MIN_PASSWORD_LENGTH,
            signup_credits=settings.signup_credits,
        )

    if password != field(form, "password_confirm"):
        return again("The two passwords are not the same.", 400)
    wait = await limiter.begin_signup(ip)
    if wait is not None:
        return again(f"Too many new accounts from this address. Try again in {minutes(wait)}.", 429)
    try:
        created = await accounts.create_account(
            session,
            email=email,
            password=password,
            signup_credits=settings.signup_credits,
            storage_quota_bytes=settings.storage_quota_bytes,
        )
    except accounts.AccountRefused as refused:
        return again(str(refused), 400)
    issued = await begin_session(session, request, created.account.id)
    log.info("dashboard sign-up: account %s", created.account.id)
    return _signed_in_response(request, issued.token, created.account.id, f"{HOME}?notice=welcome")


@router.post("/logout")
async def logout(request: Request, viewer: CheckedViewer, session: PageWrite) -> Response:
    await sessions.end_session(session, request.cookies.get(sessions.SESSION_COOKIE))
    response = redirect("/login?notice=signed-out")
    clear_session_cookie(response, request)
    return response

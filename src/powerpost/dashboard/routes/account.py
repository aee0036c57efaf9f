"""Settings → Account: who is signed in and where, signing other browsers out, and
changing the password."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.accounts import passwords
from powerpost.accounts import service as accounts
from powerpost.dashboard import sessions
from powerpost.dashboard.deps import (
    CheckedViewer,
    CurrentViewer,
    Form,
    PageRead,
    PageWrite,
    client_ip,
    field,
    throttle,
)
from powerpost.dashboard.errors import LoginRequired, PageNotFound
from powerpost.dashboard.rendering import render
from powerpost.dashboard.routes.common import (
    begin_session,
    minutes,
    redirect,
    set_session_cookie,
)
from powerpost.dashboard.sessions import Viewer

router = APIRouter(include_in_schema=False)
PAGE = "/settings/account"


async def _page(
    request: Request,
    session: AsyncSession,
    viewer: Viewer,
    *,
    status: int = 200,
    error: str = "",
) -> Response:
    return render(
        request,
        "settings/account.html",
        viewer=viewer,
        status=status,
        title="Account",
        error=error,
        min_password=passwords.MIN_PASSWORD_LENGTH,
        signed_in=await sessions.signed_in(session, viewer),
    )


@router.get(PAGE)
async def account_page(request: Request, viewer: CurrentViewer, session: PageRead) -> Response:
    return await _page(request, session, viewer)


@router.post(PAGE + "/sessions/others")
async def sign_out_others(viewer: CheckedViewer, session: PageWrite) -> Response:
    await sessions.end_other_sessions(session, viewer.account_id, viewer.session_id)
    return redirect(f"{PAGE}?notice=signed-out-others")


@router.post(PAGE + "/sessions/{session_id}/end")
async def sign_out_one(session_id: str, viewer: CheckedViewer, session: PageWrite) -> Response:
    if session_id == viewer.session_id:
        # This browser signs out through the Sign out button, which also clears the cookie.
        raise PageNotFound()
    if not await sessions.end_session_of(session, viewer.account_id, session_id):
        raise PageNotFound()
    return redirect(f"{PAGE}?notice=signed-out-one")


@router.post(PAGE + "/password")
async def change_password(
    request: Request, viewer: CheckedViewer, session: PageWrite, form: Form
) -> Response:
    current = field(form, "current_password")
    new = field(form, "new_password")
    if new != field(form, "new_password_confirm"):
        return await _page(
            request, session, viewer, status=400, error="The two new passwords are not the same."
        )
    ip = client_ip(request)
    limiter = throttle(request)
    wait = await limiter.begin_attempt(ip, viewer.email)
    if wait is not None:
        return await _page(
            request,
            session,
            viewer,
            status=429,
            error=f"Too many attempts. Try again in {minutes(wait)}.",
        )
    account = await accounts.find_by_email(session, viewer.email)
    if account is None:
        raise LoginRequired(PAGE)
    try:
        await accounts.change_password(session, account, current, new)
    except accounts.AccountRefused as refused:
        if await passwords.verify_password(account.password_hash, current):
            # The current password was right (the new one was refused): not a guess.
            await limiter.attempt_succeeded(ip, viewer.email)
        return await _page(request, session, viewer, status=400, error=str(refused))
    await limiter.attempt_succeeded(ip, viewer.email)
    # A new password ends every other session, and this one gets a fresh token too.
    issued = await begin_session(session, request, account.id)
    await sessions.end_other_sessions(session, account.id, issued.record.id)
    response = redirect(f"{PAGE}?notice=password-changed")
    set_session_cookie(response, request, issued.token)
    return response

"""Dependencies for dashboard routes: who is signed in, CSRF, forms, database sessions.

The write session here is function-scoped: it commits before the response is sent, so a
browser following the redirect after a form post always reads what the post wrote.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from powerpost.dashboard import sessions
from powerpost.dashboard.errors import CsrfRefused, FieldTooLong, LoginRequired
from powerpost.dashboard.sessions import Viewer
from powerpost.dashboard.throttle import LoginThrottle
from powerpost.kit.db import Database

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
MAX_FIELD_LENGTH = 4096


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def throttle(request: Request) -> LoginThrottle:
    found: LoginThrottle = request.app.state.login_throttle
    return found


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


async def read_form(request: Request) -> FormData:
    """The posted form; a text field over `MAX_FIELD_LENGTH` is a 400 page naming it."""
    form = await request.form()
    for name, value in form.multi_items():
        if isinstance(value, str) and len(value) > MAX_FIELD_LENGTH:
            raise FieldTooLong(name, MAX_FIELD_LENGTH)
    return form


def _clean(value: str) -> str:
    # A browser never types NUL or other control characters; a crafted post might, and
    # PostgreSQL refuses NUL in text. Tabs and line breaks stay.
    return _CONTROL.sub("", value)


def _checked_length(name: str, value: str) -> str:
    # read_form already refused this; kept so a form read another way is not emptied.
    if len(value) > MAX_FIELD_LENGTH:
        raise FieldTooLong(name, MAX_FIELD_LENGTH)
    return value


def field(form: FormData, name: str) -> str:
    """A text field, or "" when absent or a file; a 400 page when too long."""
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    return _clean(_checked_length(name, value))


def fields(form: FormData, name: str) -> list[str]:
    return [_clean(_checked_length(name, v)) for v in form.getlist(name) if isinstance(v, str)]


async def _current_viewer(request: Request) -> Viewer:
    token = request.cookies.get(sessions.SESSION_COOKIE)
    db = database(request)
    async with db.read() as session:
        viewer = await sessions.resolve(session, token)
    if viewer is None:
        next_path = request.url.path if request.method == "GET" else None
        if next_path and request.url.query:
            next_path += "?" + request.url.query
        raise LoginRequired(next_path)
    if viewer.needs_touch():
        async with db.write() as session:
            await sessions.touch(session, viewer)
    request.state.viewer = viewer
    return viewer


async def _presented_csrf(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    return field(await read_form(request), CSRF_FIELD) or None


async def _csrf_checked_viewer(request: Request) -> Viewer:
    viewer = await _current_viewer(request)
    if not sessions.tokens_match(viewer.csrf_token, await _presented_csrf(request)):
        raise CsrfRefused()
    return viewer


async def check_prelogin_csrf(request: Request) -> None:
    """Sign-in and sign-up posts: the form's token must equal the cookie's (double submit).

    A cross-site form cannot read our cookie to copy it, and SameSite keeps the browser
    from sending it along, so a forged sign-in (logging a victim into an attacker's
    account) fails here.
    """
    expected = request.cookies.get(sessions.PRELOGIN_COOKIE, "")
    if not sessions.tokens_match(expected, await _presented_csrf(request)):
        raise CsrfRefused()


async def _read_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with database(request).read() as session:
        yield session


CurrentViewer = Annotated[Viewer, Depends(_current_viewer)]
# For every state-changing route: signed in AND the session's CSRF token presented.
CheckedViewer = Annotated[Viewer, Depends(_csrf_checked_viewer)]


# The write transactions depend on the checks, so the checks always run first: on SQLite
# a write transaction holds the one write lock, and the session touch in _current_viewer
# would otherwise wait on a lock its own request holds.
async def _viewer_write_session(
    request: Request, viewer: CheckedViewer
) -> AsyncIterator[AsyncSession]:
    async with database(request).write() as session:
        yield session


async def _anonymous_write_session(
    request: Request, _checked: Annotated[None, Depends(check_prelogin_csrf)]
) -> AsyncIterator[AsyncSession]:
    async with database(request).write() as session:
        yield session


PageRead = Annotated[AsyncSession, Depends(_read_session, scope="function")]
PageWrite = Annotated[AsyncSession, Depends(_viewer_write_session, scope="function")]
AnonymousWrite = Annotated[AsyncSession, Depends(_anonymous_write_session, scope="function")]
Form = Annotated[FormData, Depends(read_form)]

"""Server-side dashboard sessions and their CSRF tokens.

The cookie carries a random 256-bit token; the row is found by the token's SHA-256 (a
fast hash is enough for a random secret of that size). A session ends at the first of: an
absolute lifetime, an idle timeout, logout (the row is deleted), a password change, or the
account being disabled. Signing in always issues a new token, so a token planted before
sign-in (session fixation) is worthless afterwards.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.dashboard import repository
from powerpost.kit.clock import utcnow
from powerpost.kit.ids import new_id
from powerpost.models import DashboardSession

SESSION_COOKIE = "pp_session"
# Double-submit token for the sign-in and sign-up forms, which have no session yet.
PRELOGIN_COOKIE = "pp_prelogin"
ABSOLUTE_LIFETIME = timedelta(days=7)
IDLE_TIMEOUT = timedelta(hours=12)
RECENT_LOGIN = timedelta(minutes=15)
# last_seen_at is written at most this often per session, not on every page view.
TOUCH_INTERVAL = timedelta(minutes=1)
MAX_TOKEN_LENGTH = 128


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii", "replace")).digest()


def tokens_match(expected: str, presented: str | None) -> bool:
    """Constant-time comparison; an absent or empty token never matches."""
    if not presented or not expected:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), presented.encode("utf-8"))


@dataclass(frozen=True)
class Viewer:
    """The signed-in person as the pages see them."""

    session_id: str
    account_id: str
    email: str
    csrf_token: str
    authenticated_at: datetime
    last_seen_at: datetime
    now: datetime

    def recent_login(self) -> bool:
        return self.now - self.authenticated_at < RECENT_LOGIN

    def needs_touch(self) -> bool:
        return self.now - self.last_seen_at >= TOUCH_INTERVAL


@dataclass(frozen=True)
class IssuedSession:
    token: str  # goes into the cookie only
    record: DashboardSession


async def start_session(
    session: AsyncSession,
    account_id: str,
    *,
    replaced_token: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> IssuedSession:
    now = utcnow()
    if replaced_token:
        await repository.delete_by_token_hash(session, hash_token(replaced_token))
    await repository.delete_stale(session, account_id, now, now - IDLE_TIMEOUT)
    token = new_token()
    record = DashboardSession(
        id=new_id(),
        token_hash=hash_token(token),
        account_id=account_id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        authenticated_at=now,
        last_seen_at=now,
        expires_at=now + ABSOLUTE_LIFETIME,
        ip=(ip or None) and ip[:45],
        user_agent=(user_agent or None) and user_agent[:200],
    )
    session.add(record)
    await session.flush()
    return IssuedSession(token=token, record=record)


async def resolve(session: AsyncSession, token: str | None) -> Viewer | None:
    """The viewer behind a cookie, or None when it is missing, unknown or expired."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    found = await repository.by_token_hash(session, hash_token(token))
    if found is None:
        return None
    row, account = found
    now = utcnow()
    if row.expires_at <= now or now - row.last_seen_at >= IDLE_TIMEOUT:
        return None
    if account.disabled_at is not None:
        return None
    return Viewer(
        session_id=row.id,
        account_id=account.id,
        email=account.email,
        csrf_token=row.csrf_token,
        authenticated_at=row.authenticated_at,
        last_seen_at=row.last_seen_at,
        now=now,
    )


async def touch(session: AsyncSession, viewer: Viewer) -> None:
    await repository.touch(session, viewer.session_id, viewer.now)


async def end_session(session: AsyncSession, token: str | None) -> None:
    if token and len(token) <= MAX_TOKEN_LENGTH:
        await repository.delete_by_token_hash(session, hash_token(token))


async def confirm_password(session: AsyncSession, viewer: Viewer) -> None:
    """The password was just typed again: the next 15 minutes count as a recent login."""
    await repository.mark_authenticated(session, viewer.session_id, utcnow())


async def end_other_sessions(session: AsyncSession, account_id: str, keep_id: str) -> None:
    await repository.delete_others(session, account_id, keep_id)


async def end_session_of(session: AsyncSession, account_id: str, session_id: str) -> bool:
    """Sign out one browser of this account; False when there is no such session."""
    return await repository.delete_of_account(session, account_id, session_id)


@dataclass(frozen=True)
class SignedIn:
    """One signed-in browser as Settings → Account lists it."""

    id: str
    current: bool
    browser: str
    ip: str | None
    created_at: datetime
    last_seen_at: datetime


async def signed_in(session: AsyncSession, viewer: Viewer) -> list[SignedIn]:
    """The account's live sessions, this browser first, then the most recently active."""
    rows = await repository.live_of_account(session, viewer.account_id, viewer.now, IDLE_TIMEOUT)
    listed = [
        SignedIn(
            id=row.id,
            current=row.id == viewer.session_id,
            browser=describe_browser(row.user_agent),
            ip=row.ip,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
        )
        for row in rows
    ]
    return sorted(listed, key=lambda s: (not s.current, -s.last_seen_at.timestamp()))


_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chromium/", "Chromium"),  # before Chrome: Chromium's User-Agent names both
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def describe_browser(user_agent: str | None) -> str:
    """ "Firefox on Linux" from a User-Agent: enough to recognise a browser, no more."""
    if not user_agent:
        return "Unknown browser"
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), None)
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or f"A browser on {system}"
    return "Unknown browser"

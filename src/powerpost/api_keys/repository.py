"""All SQL about API keys lives here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.kit.db import Database, as_utc
from powerpost.models import Account, ApiKey

LAST_USED_DEBOUNCE = timedelta(seconds=60)


@dataclass(frozen=True)
class KeyLookup:
    key_id: str
    account_id: str
    key_type: str
    scopes: str
    mode: str
    pepper_version: int
    expires_at: datetime | None
    revoked_at: datetime | None
    account_disabled_at: datetime | None
    last_used_at: datetime | None


_FIND_BY_DIGEST = """
SELECT k.id, k.account_id, k.type, k.scopes, k.mode, k.pepper_version, k.expires_at,
       k.revoked_at, a.disabled_at, k.last_used_at
FROM api_keys AS k JOIN accounts AS a ON a.id = k.account_id
WHERE k.digest = :digest
"""


async def find_by_digest(db: Database, digest: bytes) -> KeyLookup | None:
    """The one indexed lookup of the request path (unique index on digest)."""
    row = await db.fetch_one(_FIND_BY_DIGEST, {"digest": digest})
    if row is None:
        return None
    (key_id, account_id, key_type, scopes, mode, version, expires, revoked, disabled, used) = row
    return KeyLookup(
        key_id,
        account_id,
        key_type,
        scopes,
        mode,
        version,
        as_utc(expires),
        as_utc(revoked),
        as_utc(disabled),
        as_utc(used),
    )


async def rehash(session: AsyncSession, key_id: str, digest: bytes, version: int) -> None:
    await session.execute(
        update(ApiKey).where(ApiKey.id == key_id).values(digest=digest, pepper_version=version)
    )


def active_condition(now: datetime) -> object:
    """A key counts toward the limit while it still authenticates: not revoked and not
    expired. A rolled key inside its grace period still works, so it still counts; when it
    did not, rolling turned 10 keys into 20, then 40 working keys."""
    return and_(
        ApiKey.revoked_at.is_(None),
        or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),
    )


async def lock_account(session: AsyncSession, account_id: str) -> bool:
    """Serialise key creation and rolling per account for the rest of this transaction.

    PostgreSQL: a row lock. SQLite: the write transaction began IMMEDIATE and already holds
    the database's one write lock. With the lock held, count-then-insert cannot race.
    """
    row = await session.execute(
        select(Account.id).where(Account.id == account_id).with_for_update()
    )
    return row.first() is not None


async def count_active(session: AsyncSession, account_id: str, now: datetime) -> int:
    stmt = (
        select(func.count())
        .select_from(ApiKey)
        .where(ApiKey.account_id == account_id, active_condition(now))  # type: ignore[arg-type]
    )
    return int((await session.execute(stmt)).scalar_one())


async def list_for_account(session: AsyncSession, account_id: str) -> Sequence[ApiKey]:
    stmt = (
        select(ApiKey)
        .where(ApiKey.account_id == account_id)
        .order_by(ApiKey.created_at.desc(), ApiKey.id)
    )
    return (await session.execute(stmt)).scalars().all()


async def get_for_account(session: AsyncSession, account_id: str, key_id: str) -> ApiKey | None:
    stmt = select(ApiKey).where(ApiKey.id == key_id, ApiKey.account_id == account_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def revoke(session: AsyncSession, key_id: str, now: datetime, reason: str) -> bool:
    # `revoked_at IS NULL` makes revocation idempotent and irreversible: nothing clears it.
    result = await session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def touch_last_used(
    session: AsyncSession, key_id: str, used_at: datetime, ip: str | None
) -> bool:
    """Debounced in SQL too, so N processes write at most once a minute and never backwards."""
    result = await session.execute(
        update(ApiKey)
        .where(
            ApiKey.id == key_id,
            ApiKey.revoked_at.is_(None),
            or_(
                ApiKey.last_used_at.is_(None),
                ApiKey.last_used_at <= used_at - LAST_USED_DEBOUNCE,
            ),
        )
        .values(last_used_at=used_at, last_used_ip=ip)
    )
    return bool(getattr(result, "rowcount", 0) == 1)

"""All SQL of idempotency keys. Every change to a claim is a guarded UPDATE/DELETE naming
the claim's token, so a request that lost its claim (its lock lapsed and a retry took
over) can neither store its answer over the new one nor release the new claim."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.kit.sql import insert_if_absent
from powerpost.models import IdempotencyKey


async def insert_claim(session: AsyncSession, values: dict[str, Any]) -> bool:
    """True when this row was inserted; False when the key is already there.

    The unique (api key, scope, key) constraint decides: on PostgreSQL a concurrent twin
    waits for the first insert to commit and then inserts nothing; SQLite runs write
    transactions one at a time.
    """
    return await insert_if_absent(session, IdempotencyKey.__table__, values)  # type: ignore[arg-type]


async def find(
    session: AsyncSession, api_key_id: str, scope: str, key: str
) -> IdempotencyKey | None:
    stmt = (
        select(IdempotencyKey)
        .where(
            IdempotencyKey.api_key_id == api_key_id,
            IdempotencyKey.scope == scope,
            IdempotencyKey.idempotency_key == key,
        )
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def renew_expired(
    session: AsyncSession, row_id: str, now: datetime, values: dict[str, Any]
) -> bool:
    """Reuse a row whose 24 hours are over (the sweep has not removed it yet)."""
    stmt = (
        update(IdempotencyKey)
        .where(IdempotencyKey.id == row_id, IdempotencyKey.expires_at <= now)
        .where(or_(IdempotencyKey.claim_token.is_(None), IdempotencyKey.locked_until <= now))
        .values(**values)
        .returning(IdempotencyKey.id)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(stmt)).first() is not None


async def take_over_lapsed(
    session: AsyncSession, row_id: str, old_token: str, now: datetime, values: dict[str, Any]
) -> bool:
    """Take the claim of a request whose process stopped renewing its lock (it died)."""
    stmt = (
        update(IdempotencyKey)
        .where(
            IdempotencyKey.id == row_id,
            IdempotencyKey.claim_token == old_token,
            IdempotencyKey.locked_until <= now,
        )
        .values(**values)
        .returning(IdempotencyKey.id)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(stmt)).first() is not None


async def extend_lock(session: AsyncSession, row_id: str, token: str, until: datetime) -> bool:
    stmt = (
        update(IdempotencyKey)
        .where(IdempotencyKey.id == row_id, IdempotencyKey.claim_token == token)
        .values(locked_until=until)
        .returning(IdempotencyKey.id)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(stmt)).first() is not None


async def store_answer(
    session: AsyncSession,
    row_id: str,
    token: str,
    *,
    fingerprint: str,
    status: int,
    media_type: str | None,
    body: bytes,
) -> bool:
    stmt = (
        update(IdempotencyKey)
        .where(IdempotencyKey.id == row_id, IdempotencyKey.claim_token == token)
        .values(
            fingerprint=fingerprint,
            response_status=status,
            response_media_type=media_type,
            response_body=body,
            claim_token=None,
            locked_until=None,
        )
        .returning(IdempotencyKey.id)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(stmt)).first() is not None


async def release(session: AsyncSession, row_id: str, token: str) -> None:
    await session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.id == row_id, IdempotencyKey.claim_token == token
        )
    )


async def expired_ids(session: AsyncSession, now: datetime, limit: int) -> list[str]:
    stmt = (
        select(IdempotencyKey.id)
        .where(IdempotencyKey.expires_at <= now)
        # a request still running past 24 hours keeps its claim until it answers or dies
        .where(or_(IdempotencyKey.claim_token.is_(None), IdempotencyKey.locked_until <= now))
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars().all())


async def delete_expired(session: AsyncSession, ids: list[str], now: datetime) -> int:
    stmt = (
        delete(IdempotencyKey)
        .where(IdempotencyKey.id.in_(ids), IdempotencyKey.expires_at <= now)
        .where(or_(IdempotencyKey.claim_token.is_(None), IdempotencyKey.locked_until <= now))
    )
    return len((await session.execute(stmt.returning(IdempotencyKey.id))).all())

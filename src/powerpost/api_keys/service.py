"""API key lifecycle: create, list, roll, revoke. Used by the dashboard and the CLI only;
the public API can never create, widen or reveal keys."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.api_keys import repository, scopes
from powerpost.kit.clock import utcnow
from powerpost.kit.ids import new_id
from powerpost.kit.security import KeyHasher, display_parts, generate_key
from powerpost.models import ApiKey

MAX_ACTIVE_KEYS = 10
MAX_GRACE_HOURS = 24
MAX_EXPIRY_DAYS = 3650


class KeyRefused(ValueError):
    """A refusal to show the person managing keys (limit reached, bad name, …)."""


class KeyLimitReached(KeyRefused):
    """The account already has MAX_ACTIVE_KEYS keys that authenticate. Its own type so the
    dashboard and the CLI can say how to get out of it in their own words."""


@dataclass(frozen=True)
class IssuedKey:
    record: ApiKey
    secret: str  # shown exactly once, never stored


def clean_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 64:
        raise KeyRefused("Key name must be 1 to 64 characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise KeyRefused("Key name must not contain control characters")
    return name


def is_active(key: ApiKey, now: datetime) -> bool:
    """The key still authenticates, so it counts toward MAX_ACTIVE_KEYS (rolling ones too)."""
    return key.revoked_at is None and (key.expires_at is None or key.expires_at > now)


def status_of(key: ApiKey, now: datetime) -> str:
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= now:
        return "expired"
    if key.superseded_by is not None:
        return "rolling"
    return "active"


def _new_record(
    hasher: KeyHasher,
    *,
    account_id: str,
    name: str,
    key_type: str,
    scope_set: frozenset[str],
    mode: str,
    expires_at: datetime | None,
    created_by: str,
    now: datetime,
) -> IssuedKey:
    secret = generate_key(mode)
    display = display_parts(secret)
    record = ApiKey(
        id=new_id(),
        account_id=account_id,
        name=name,
        type=key_type,
        scopes=scopes.serialize(scope_set),
        mode=mode,
        digest=hasher.digest(secret),
        pepper_version=hasher.current_version,
        display_prefix=display.prefix,
        display_suffix=display.suffix,
        created_at=now,
        created_by=created_by,
        expires_at=expires_at,
    )
    return IssuedKey(record=record, secret=secret)


async def create_key(
    session: AsyncSession,
    hasher: KeyHasher,
    *,
    account_id: str,
    name: str,
    key_type: str = "read_write",
    scope_list: list[str] | None = None,
    mode: str = "live",
    expires_in_days: int | None = None,
    created_by: str,
) -> IssuedKey:
    name = clean_name(name)
    try:
        resolved_type, scope_set = scopes.resolve_scopes(key_type, scope_list)
    except ValueError as exc:
        raise KeyRefused(str(exc)) from None
    if not scope_set:
        raise KeyRefused("A key needs at least one scope")
    if mode not in ("live", "test"):
        raise KeyRefused("Key mode must be live or test")
    now = utcnow()
    expires_at = None
    if expires_in_days is not None:
        if not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
            raise KeyRefused(f"Expiry must be 1 to {MAX_EXPIRY_DAYS} days")
        expires_at = now + timedelta(days=expires_in_days)
    if not await repository.lock_account(session, account_id):
        raise KeyRefused("Account not found")
    if await repository.count_active(session, account_id, now) >= MAX_ACTIVE_KEYS:
        raise KeyLimitReached(
            f"This account already has {MAX_ACTIVE_KEYS} active API keys, the maximum "
            "(keys still in a roll's grace period count). Revoke one to create another."
        )
    issued = _new_record(
        hasher,
        account_id=account_id,
        name=name,
        key_type=resolved_type,
        scope_set=scope_set,
        mode=mode,
        expires_at=expires_at,
        created_by=created_by,
        now=now,
    )
    session.add(issued.record)
    await session.flush()
    return issued


async def roll_key(
    session: AsyncSession,
    hasher: KeyHasher,
    *,
    account_id: str,
    key_id: str,
    grace_hours: float,
    created_by: str,
) -> IssuedKey:
    """A new key with the same name, type, scopes and mode; the old one keeps working for
    the grace period, then expires.

    Both keys authenticate during the grace period, so both count toward the limit: a roll
    with a grace period needs a free slot. A roll with no grace revokes the old key in the
    same transaction, so the new key simply takes its slot. The account lock (as in
    create_key) makes count-then-insert race-free against parallel rolls and creates."""
    if not 0 <= grace_hours <= MAX_GRACE_HOURS:
        raise KeyRefused(f"Grace period must be 0 to {MAX_GRACE_HOURS} hours")
    if not await repository.lock_account(session, account_id):
        raise KeyRefused("Account not found")
    old = await repository.get_for_account(session, account_id, key_id)
    now = utcnow()
    if old is None:
        raise KeyRefused("No such API key")
    if old.superseded_by is not None or not is_active(old, now):
        raise KeyRefused("Only an active key that has not been rolled already can be rolled")
    if grace_hours > 0 and await repository.count_active(session, account_id, now) >= (
        MAX_ACTIVE_KEYS
    ):
        raise KeyLimitReached(
            f"This account has {MAX_ACTIVE_KEYS} active API keys, the maximum, and during "
            "the grace period the old and the new key both work and both count. Revoke a "
            "key you no longer use, or roll with no grace period (the old key stops at once)."
        )
    issued = _new_record(
        hasher,
        account_id=account_id,
        name=old.name,
        key_type=old.type,
        scope_set=scopes.deserialize(old.scopes),
        mode=old.mode,
        expires_at=old.expires_at,
        created_by=created_by,
        now=now,
    )
    session.add(issued.record)
    await session.flush()
    old.superseded_by = issued.record.id
    if grace_hours == 0:
        await repository.revoke(session, old.id, now, "rolled with no grace period")
    else:
        grace_end = now + timedelta(hours=grace_hours)
        old.expires_at = grace_end if old.expires_at is None else min(old.expires_at, grace_end)
    await session.flush()
    return issued


async def revoke_key(
    session: AsyncSession, *, account_id: str, key_id: str, reason: str = "revoked"
) -> ApiKey:
    key = await repository.get_for_account(session, account_id, key_id)
    if key is None:
        raise KeyRefused("No such API key")
    await repository.revoke(session, key.id, utcnow(), reason[:200])
    await session.refresh(key)
    return key


async def list_keys(session: AsyncSession, account_id: str) -> Sequence[ApiKey]:
    return await repository.list_for_account(session, account_id)

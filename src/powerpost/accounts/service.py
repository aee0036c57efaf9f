"""Accounts: email + password, 50 credits on creation (a ledger entry), a default workspace."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.accounts import passwords, repository
from powerpost.credits import service as credits
from powerpost.kit.clock import utcnow
from powerpost.kit.ids import new_id
from powerpost.models import Account, Workspace
from powerpost.workspaces import service as workspaces

_EMAIL_RE = re.compile(
    r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


class AccountRefused(ValueError):
    """A refusal to show the person (email taken, weak password, …)."""


@dataclass(frozen=True)
class NewAccount:
    account: Account
    workspace: Workspace
    balance: int


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if len(email) > 254 or not _EMAIL_RE.match(email):
        raise AccountRefused("Enter a valid email address")
    return email


async def create_account(
    session: AsyncSession,
    *,
    email: str,
    password: str | None,
    signup_credits: int,
    storage_quota_bytes: int,
) -> NewAccount:
    email = normalize_email(email)
    password_hash = None
    if password is not None:
        try:
            passwords.check_password_rules(password)
        except ValueError as exc:
            raise AccountRefused(str(exc)) from None
        password_hash = await passwords.hash_password(password)
    if await repository.by_email(session, email) is not None:
        raise AccountRefused("An account with this email already exists")
    now = utcnow()
    account = Account(
        id=new_id(),
        email=email,
        password_hash=password_hash,
        password_changed_at=now if password_hash else None,
        balance=0,
        storage_used_bytes=0,
        storage_quota_bytes=storage_quota_bytes,
        created_at=now,
    )
    session.add(account)
    try:
        await session.flush()
    except IntegrityError:
        # Two sign-ups with one email at once: the unique index decides.
        raise AccountRefused("An account with this email already exists") from None
    workspace = await workspaces.create_workspace(session, account.id, workspaces.DEFAULT_NAME)
    balance = 0
    if signup_credits > 0:
        balance = await credits.grant(
            session,
            account.id,
            signup_credits,
            reason="Free credits on sign-up",
            reference=f"signup:{account.id}",
            kind="signup",
        )
    return NewAccount(account=account, workspace=workspace, balance=balance)


async def authenticate(session: AsyncSession, email: str, password: str) -> Account | None:
    """The account if email and password match; the same time spent either way."""
    try:
        email = normalize_email(email)
    except AccountRefused:
        await passwords.burn_time(password)
        return None
    account = await repository.by_email(session, email)
    if account is None or account.disabled_at is not None:
        await passwords.burn_time(password)
        return None
    if not await passwords.verify_password(account.password_hash, password):
        return None
    return account


async def change_password(session: AsyncSession, account: Account, current: str, new: str) -> None:
    if not await passwords.verify_password(account.password_hash, current):
        raise AccountRefused("The current password is not correct")
    await set_password(session, account, new)


async def set_password(session: AsyncSession, account: Account, new: str) -> None:
    """Set the password without the old one (the operator's reset, or a CLI-made account
    that never had one); the caller ends the account's dashboard sessions."""
    try:
        passwords.check_password_rules(new)
    except ValueError as exc:
        raise AccountRefused(str(exc)) from None
    account.password_hash = await passwords.hash_password(new)
    account.password_changed_at = utcnow()
    await session.flush()


async def find_by_email(session: AsyncSession, email: str) -> Account | None:
    try:
        return await repository.by_email(session, normalize_email(email))
    except AccountRefused:
        return None

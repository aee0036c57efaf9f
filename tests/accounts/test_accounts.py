"""Accounts: normalised unique emails, argon2 passwords, 50 credits and a default workspace."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI

from powerpost.accounts import service as accounts
from powerpost.accounts.service import AccountRefused
from powerpost.credits import service as credits
from powerpost.models import Account
from powerpost.workspaces import service as workspaces


async def _create(
    app: FastAPI, email: str, password: str | None = "a good long password"
) -> accounts.NewAccount:
    async with app.state.db.write() as session:
        return await accounts.create_account(
            session, email=email, password=password, signup_credits=50, storage_quota_bytes=10
        )


async def test_new_account_has_credits_workspace_and_hashed_password(app: FastAPI) -> None:
    created = await _create(app, "  New.User@Example.COM ")
    assert created.account.email == "new.user@example.com"
    assert created.balance == 50
    async with app.state.db.read() as session:
        account = await session.get(Account, created.account.id)
        spaces = await workspaces.list_workspaces(session, created.account.id)
        ledger = await credits.ledger(session, created.account.id)
    assert account is not None
    assert account.password_hash is not None
    assert account.password_hash.startswith("$argon2id$")
    assert "a good long password" not in account.password_hash
    assert [w.name for w in spaces] == ["Default workspace"]
    assert [(e.kind, e.amount) for e in ledger] == [("signup", 50)]


@pytest.mark.parametrize(
    "email", ["", "no-at-sign", "a@b", "a b@example.com", "x" * 300 + "@example.com"]
)
async def test_bad_emails_are_refused(app: FastAPI, email: str) -> None:
    with pytest.raises(AccountRefused, match="valid email"):
        await _create(app, email)


async def test_weak_password_is_refused_and_nothing_written(app: FastAPI) -> None:
    with pytest.raises(AccountRefused, match="at least 10"):
        await _create(app, "weak@example.com", "short")
    async with app.state.db.read() as session:
        assert await accounts.find_by_email(session, "weak@example.com") is None


async def test_concurrent_signups_with_one_email_create_one_account(app: FastAPI) -> None:
    async def attempt() -> bool:
        try:
            await _create(app, "race@example.com", None)
            return True
        except AccountRefused:
            return False

    results = await asyncio.gather(*(attempt() for _ in range(8)))
    assert sum(results) == 1


async def test_authenticate_and_change_password(app: FastAPI) -> None:
    created = await _create(app, "login@example.com")
    async with app.state.db.read() as session:
        assert (
            await accounts.authenticate(session, "LOGIN@example.com", "a good long password")
            is not None
        )
        assert await accounts.authenticate(session, "login@example.com", "wrong password!!") is None
        assert (
            await accounts.authenticate(session, "nobody@example.com", "a good long password")
            is None
        )
    async with app.state.db.write() as session:
        account = await session.get(Account, created.account.id)
        assert account is not None
        with pytest.raises(AccountRefused, match="current password"):
            await accounts.change_password(
                session, account, "not it at all", "another long password"
            )
        await accounts.change_password(
            session, account, "a good long password", "another long password"
        )
    async with app.state.db.read() as session:
        assert (
            await accounts.authenticate(session, "login@example.com", "another long password")
            is not None
        )
        assert (
            await accounts.authenticate(session, "login@example.com", "a good long password")
            is None
        )

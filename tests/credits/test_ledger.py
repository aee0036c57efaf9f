"""Credits: guarded holds under concurrency, settle and refund exactly once, a ledger that
always sums to the balance."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from tests.fixtures.factories import Factory, headers

from powerpost.credits import repository
from powerpost.credits import service as credits
from powerpost.kit.errors import InsufficientCredits
from powerpost.models import CreditLedgerEntry


async def _hold(app: FastAPI, account_id: str, ref: str, amount: int = 1) -> bool:
    try:
        async with app.state.db.write() as session:
            await credits.hold(session, account_id, amount, reference=ref, reason="test")
        return True
    except InsufficientCredits:
        return False


async def _balance_and_sum(app: FastAPI, account_id: str) -> tuple[int, int]:
    async with app.state.db.read() as session:
        return await credits.balance(session, account_id), await repository.ledger_sum(
            session, account_id
        )


async def test_signup_grant_is_a_ledger_entry(app: FastAPI, factory: Factory) -> None:
    tenant = await factory.account()
    async with app.state.db.read() as session:
        entries = await credits.ledger(session, tenant.account_id)
    assert [(e.amount, e.kind, e.balance_after) for e in entries] == [(50, "signup", 50)]
    assert await _balance_and_sum(app, tenant.account_id) == (50, 50)


async def test_two_hundred_concurrent_holds_on_fifty(app: FastAPI, factory: Factory) -> None:
    tenant = await factory.account()
    results = await asyncio.gather(*(_hold(app, tenant.account_id, f"job:{i}") for i in range(200)))
    assert sum(results) == 50
    balance, ledger_sum = await _balance_and_sum(app, tenant.account_id)
    assert balance == 0
    assert ledger_sum == balance


async def test_hold_is_idempotent_per_reference(app: FastAPI, factory: Factory) -> None:
    tenant = await factory.account()
    results = await asyncio.gather(
        *(_hold(app, tenant.account_id, "same-job", 7) for _ in range(10))
    )
    assert all(results)
    assert await _balance_and_sum(app, tenant.account_id) == (43, 43)


async def test_settle_captures_part_and_releases_the_rest_once(
    app: FastAPI, factory: Factory
) -> None:
    tenant = await factory.account()
    assert await _hold(app, tenant.account_id, "img:1", 20)
    async with app.state.db.write() as session:
        assert await credits.settle(session, "img:1", capture=15, reason="3 of 4 images") == 15
    async with app.state.db.write() as session:
        assert await credits.settle(session, "img:1", capture=0, reason="again") == 0
    async with app.state.db.write() as session:
        assert await credits.refund(session, "img:1", reason="late refund") == 0
    assert await _balance_and_sum(app, tenant.account_id) == (35, 35)


async def test_refund_applied_twice_refunds_once(app: FastAPI, factory: Factory) -> None:
    tenant = await factory.account()
    assert await _hold(app, tenant.account_id, "gen:1", 8)

    async def refund() -> int:
        async with app.state.db.write() as session:
            return await credits.refund(session, "gen:1", reason="provider failed")

    refunded = await asyncio.gather(*(refund() for _ in range(5)))
    assert sorted(refunded) == [0, 0, 0, 0, 8]
    assert await _balance_and_sum(app, tenant.account_id) == (50, 50)
    async with app.state.db.read() as session:
        kinds = [e.kind for e in await credits.ledger(session, tenant.account_id)]
    assert kinds.count("refund") == 1


async def test_insufficient_credits_leaves_nothing_behind(app: FastAPI, factory: Factory) -> None:
    tenant = await factory.account()
    with pytest.raises(InsufficientCredits, match="needs 51 credits; the balance is 50"):
        async with app.state.db.write() as session:
            await credits.hold(session, tenant.account_id, 51, reference="too-big", reason="x")
    async with app.state.db.read() as session:
        assert await repository.get_hold(session, "too-big") is None
        refs = (await session.execute(select(CreditLedgerEntry.reference))).scalars().all()
    assert "too-big:hold" not in refs
    assert await _balance_and_sum(app, tenant.account_id) == (50, 50)


async def test_grant_reference_is_idempotent(app: FastAPI, factory: Factory) -> None:
    tenant = await factory.account()
    for _ in range(3):
        async with app.state.db.write() as session:
            await credits.grant(
                session, tenant.account_id, 100, reason="promo", reference="promo:2026"
            )
    assert await _balance_and_sum(app, tenant.account_id) == (150, 150)


async def test_credits_endpoint_is_account_wide(
    client: httpx.AsyncClient, factory: Factory, app: FastAPI
) -> None:
    tenant = await factory.account()
    second = await factory.workspace(tenant)
    _, key = await factory.key(tenant, "read_only")
    async with app.state.db.write() as session:
        await credits.hold(
            session, tenant.account_id, 6, reference="w2", reason="x", workspace_id=second
        )
    response = await client.get("/api/v1/account/credits", headers=headers(key))
    assert response.json() == {"balance": 44}

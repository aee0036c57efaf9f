"""All SQL about credits: the guarded balance updates and the append-only ledger."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.kit.db import Database
from powerpost.kit.sql import insert_if_absent
from powerpost.models import Account, CreditHold, CreditLedgerEntry


async def balance(session: AsyncSession, account_id: str) -> int | None:
    row = await session.execute(select(Account.balance).where(Account.id == account_id))
    value = row.scalar_one_or_none()
    return None if value is None else int(value)


async def balance_now(db: Database, account_id: str) -> int | None:
    """The hot-path read behind GET /account/credits (see Database.fetch_one)."""
    row = await db.fetch_one("SELECT balance FROM accounts WHERE id = :id", {"id": account_id})
    return None if row is None else int(row[0])


async def debit_if_covered(session: AsyncSession, account_id: str, amount: int) -> int | None:
    """One guarded statement: the balance can never go below zero, whatever the concurrency."""
    result = await session.execute(
        update(Account)
        .where(Account.id == account_id, Account.balance >= amount)
        .values(balance=Account.balance - amount)
        .returning(Account.balance)
    )
    value = result.scalar_one_or_none()
    return None if value is None else int(value)


async def credit(session: AsyncSession, account_id: str, amount: int) -> int:
    result = await session.execute(
        update(Account)
        .where(Account.id == account_id)
        .values(balance=Account.balance + amount)
        .returning(Account.balance)
    )
    return int(result.scalar_one())


async def insert_hold(
    session: AsyncSession, reference: str, account_id: str, amount: int, now: datetime
) -> bool:
    return await insert_if_absent(
        session,
        CreditHold.__table__,  # type: ignore[arg-type]
        {
            "reference": reference,
            "account_id": account_id,
            "amount": amount,
            "captured": None,
            "status": "held",
            "created_at": now,
            "settled_at": None,
        },
    )


async def close_hold(
    session: AsyncSession, reference: str, status: str, captured: int, now: datetime
) -> CreditHold | None:
    """Move a hold out of `held` exactly once; None if it already moved."""
    result = await session.execute(
        update(CreditHold)
        .where(CreditHold.reference == reference, CreditHold.status == "held")
        .values(status=status, captured=captured, settled_at=now)
        .returning(CreditHold.account_id, CreditHold.amount)
    )
    row = result.first()
    if row is None:
        return None
    return CreditHold(reference=reference, account_id=row[0], amount=row[1], captured=captured)


async def get_hold(session: AsyncSession, reference: str) -> CreditHold | None:
    return await session.get(CreditHold, reference)


async def ledger_page(
    session: AsyncSession, account_id: str, *, limit: int, offset: int
) -> Sequence[CreditLedgerEntry]:
    stmt = (
        select(CreditLedgerEntry)
        .where(CreditLedgerEntry.account_id == account_id)
        .order_by(CreditLedgerEntry.created_at.desc(), CreditLedgerEntry.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return (await session.execute(stmt)).scalars().all()


async def ledger_sum(session: AsyncSession, account_id: str) -> int:
    stmt = select(func.coalesce(func.sum(CreditLedgerEntry.amount), 0)).where(
        CreditLedgerEntry.account_id == account_id
    )
    return int((await session.execute(stmt)).scalar_one())

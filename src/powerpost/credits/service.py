"""Credits: one account-wide balance, an append-only ledger, and holds.

Work that spends credits holds them when it starts, then settles (captures what the work
really cost and releases the rest) or is refunded when it fails. Every movement carries a
unique reference, so a retried job can never charge or refund twice: the second attempt
finds the reference taken and changes nothing. Services here never commit.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.credits import repository
from powerpost.kit.clock import utcnow
from powerpost.kit.db import Database
from powerpost.kit.dry_run import Checks
from powerpost.kit.errors import InsufficientCredits
from powerpost.kit.ids import new_id
from powerpost.models import CreditLedgerEntry


class UnknownAccount(LookupError):
    pass


async def balance(session: AsyncSession, account_id: str) -> int:
    value = await repository.balance(session, account_id)
    if value is None:
        raise UnknownAccount(account_id)
    return value


def _insufficient(amount: int, balance_now: int) -> InsufficientCredits:
    return InsufficientCredits(f"This needs {amount} credits; the balance is {balance_now}")


async def require(
    session: AsyncSession, account_id: str, amount: int, *, checks: Checks | None = None
) -> int:
    """Raise the 402 a hold of `amount` would raise now, without holding anything (a dry
    run's balance check, noted in `checks`); the balance otherwise."""
    value = await balance(session, account_id)
    if amount > value:
        raise _insufficient(amount, value)
    if checks is not None:
        checks.add(f"balance covers {amount} credits")
    return value


async def current_balance(db: Database, account_id: str) -> int:
    """Outside a transaction, for reads on the request path."""
    value = await repository.balance_now(db, account_id)
    if value is None:
        raise UnknownAccount(account_id)
    return value


async def _move(
    session: AsyncSession,
    *,
    account_id: str,
    amount: int,
    kind: str,
    reason: str,
    reference: str,
    workspace_id: str | None = None,
    api_key_id: str | None = None,
) -> int | None:
    """Apply one balance change with its ledger entry; None if `reference` was used before.

    The savepoint keeps a duplicate (IntegrityError on the unique reference, which on
    PostgreSQL arrives only after a concurrent twin commits) from touching the caller's
    transaction: the balance change is undone with it.
    """
    try:
        async with session.begin_nested():
            if amount < 0:
                after = await repository.debit_if_covered(session, account_id, -amount)
                if after is None:
                    raise _insufficient(-amount, await balance(session, account_id))
            else:
                after = await repository.credit(session, account_id, amount)
            session.add(
                CreditLedgerEntry(
                    id=new_id(),
                    account_id=account_id,
                    amount=amount,
                    balance_after=after,
                    kind=kind,
                    reason=reason[:200],
                    reference=reference,
                    workspace_id=workspace_id,
                    api_key_id=api_key_id,
                    created_at=utcnow(),
                )
            )
            await session.flush()
    except IntegrityError:
        return None
    return after


async def grant(
    session: AsyncSession,
    account_id: str,
    amount: int,
    *,
    reason: str,
    reference: str | None = None,
    kind: str = "grant",
) -> int:
    if amount <= 0:
        raise ValueError("a grant must be a positive number of credits")
    await balance(session, account_id)  # raises UnknownAccount
    after = await _move(
        session,
        account_id=account_id,
        amount=amount,
        kind=kind,
        reason=reason,
        reference=reference or f"grant:{new_id()}",
    )
    return await balance(session, account_id) if after is None else after


async def hold(
    session: AsyncSession,
    account_id: str,
    amount: int,
    *,
    reference: str,
    reason: str,
    workspace_id: str | None = None,
    api_key_id: str | None = None,
) -> int:
    """Take `amount` now (402 if not covered); returns the remaining balance. Idempotent."""
    if amount < 0:
        raise ValueError("a hold cannot be negative")
    if not await repository.insert_hold(session, reference, account_id, amount, utcnow()):
        return await balance(session, account_id)
    if amount == 0:
        return await balance(session, account_id)
    after = await _move(
        session,
        account_id=account_id,
        amount=-amount,
        kind="hold",
        reason=reason,
        reference=f"{reference}:hold",
        workspace_id=workspace_id,
        api_key_id=api_key_id,
    )
    return await balance(session, account_id) if after is None else after


async def settle(session: AsyncSession, reference: str, *, capture: int, reason: str) -> int:
    """Keep `capture` of the hold and give back the rest. Returns what was captured (0 if
    the hold had already been settled or refunded)."""
    held = await repository.get_hold(session, reference)
    if held is None:
        raise LookupError(f"no credit hold {reference}")
    capture = max(0, min(capture, held.amount))
    closed = await repository.close_hold(session, reference, "settled", capture, utcnow())
    if closed is None:
        return 0
    if closed.amount - capture > 0:
        await _move(
            session,
            account_id=closed.account_id,
            amount=closed.amount - capture,
            kind="release",
            reason=reason,
            reference=f"{reference}:release",
        )
    return capture


async def refund(session: AsyncSession, reference: str, *, reason: str) -> int:
    """Give back a whole hold; exactly once however often it is called. Returns the
    amount refunded by this call."""
    closed = await repository.close_hold(session, reference, "refunded", 0, utcnow())
    if closed is None or closed.amount == 0:
        return 0
    after = await _move(
        session,
        account_id=closed.account_id,
        amount=closed.amount,
        kind="refund",
        reason=reason,
        reference=f"{reference}:refund",
    )
    return 0 if after is None else closed.amount


async def ledger(
    session: AsyncSession, account_id: str, *, limit: int = 50, offset: int = 0
) -> Sequence[CreditLedgerEntry]:
    return await repository.ledger_page(session, account_id, limit=limit, offset=offset)

"""`powerpost credits`: grant credits, read the ledger and the balance."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from powerpost.cli.common import (
    AsJson,
    Email,
    account_by_email,
    console,
    emit,
    fail,
    run,
)
from powerpost.config import Settings
from powerpost.credits import service as credits
from powerpost.kit.clock import iso_z
from powerpost.kit.db import Database

# where the group is listed in `powerpost --help` (lowest first)
POSITION = 40
group = typer.Typer(name="credits", help="The credit balance and its ledger.", no_args_is_help=True)


@group.command("grant")
def credits_grant(
    email: Email,
    amount: Annotated[int, typer.Option("--amount", help="Credits to add (1-1,000,000).")],
    reason: Annotated[str, typer.Option("--reason", help="Why; shown in the ledger.")],
    as_json: AsJson = False,
) -> None:
    """Add credits to an account (a ledger entry)."""
    if not 1 <= amount <= 1_000_000:
        fail("--amount must be between 1 and 1,000,000")
    if not reason.strip():
        fail("--reason must not be empty")

    async def work(settings: Settings, db: Database) -> dict[str, Any]:
        account = await account_by_email(db, email)
        async with db.write() as session:
            balance = await credits.grant(session, account.id, amount, reason=reason.strip())
        return {"account_id": account.id, "granted": amount, "balance": balance}

    result = run(work)
    if as_json:
        emit(result)
    else:
        console.print(f"Granted {amount} credits; balance {result['balance']}")


@group.command("ledger")
def credits_ledger(
    email: Email,
    limit: Annotated[int, typer.Option("--limit", help="Newest entries to show.")] = 50,
    as_json: AsJson = False,
) -> None:
    """The newest ledger entries and the balance."""
    if not 1 <= limit <= 1000:
        fail("--limit must be between 1 and 1000")

    async def work(settings: Settings, db: Database) -> dict[str, Any]:
        account = await account_by_email(db, email)
        async with db.read() as session:
            entries = await credits.ledger(session, account.id, limit=limit)
            balance = await credits.balance(session, account.id)
        return {
            "balance": balance,
            "data": [
                {
                    "id": e.id,
                    "amount": e.amount,
                    "balance_after": e.balance_after,
                    "kind": e.kind,
                    "reason": e.reason,
                    "reference": e.reference,
                    "workspace_id": e.workspace_id,
                    "api_key_id": e.api_key_id,
                    "created_at": iso_z(e.created_at),
                }
                for e in entries
            ],
        }

    result = run(work)
    if as_json:
        emit(result)
        return
    table = Table("time", "amount", "balance", "kind", "reason")
    for e in result["data"]:
        table.add_row(
            e["created_at"], f"{e['amount']:+d}", str(e["balance_after"]), e["kind"], e["reason"]
        )
    console.print(table)
    console.print(f"Balance: {result['balance']} credits")

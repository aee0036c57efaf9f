"""`powerpost accounts`: create an account, set its password."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from powerpost.accounts import service as accounts
from powerpost.cli.common import (
    AsJson,
    CliFailure,
    Email,
    account_by_email,
    console,
    emit,
    run,
)
from powerpost.config import Settings
from powerpost.kit.db import Database
from powerpost.models import Account

# where the group is listed in `powerpost --help` (lowest first)
POSITION = 10
group = typer.Typer(name="accounts", help="Accounts (email + password).", no_args_is_help=True)


@group.command("create")
def accounts_create(
    email: Email,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Create an account with its default workspace and the sign-up credits."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None

    async def work(settings: Settings, db: Database) -> dict[str, Any]:
        async with db.write() as session:
            created = await accounts.create_account(
                session,
                email=email,
                password=password,
                signup_credits=settings.signup_credits,
                storage_quota_bytes=settings.storage_quota_bytes,
            )
        return {
            "account_id": created.account.id,
            "email": created.account.email,
            "workspace_id": created.workspace.id,
            "balance": created.balance,
        }

    result = run(work)
    if as_json:
        emit(result)
    else:
        console.print(
            f"Created account [bold]{result['email']}[/] ({result['account_id']}), "
            f"workspace {result['workspace_id']}, balance {result['balance']} credits"
        )


@group.command("set-password")
def accounts_set_password(email: Email, as_json: AsJson = False) -> None:
    """Set an account's dashboard password from standard input (an operator's reset, or an
    account created without one); every browser signed in to it is signed out."""
    from powerpost.dashboard import repository as dashboard_sessions

    password = sys.stdin.readline().rstrip("\r\n")

    async def work(settings: Settings, db: Database) -> dict[str, Any]:
        account = await account_by_email(db, email)
        async with db.write() as session:
            row = await session.get(Account, account.id)
            if row is None:
                raise CliFailure(f"no account with email {email}")
            await accounts.set_password(session, row, password)
            await dashboard_sessions.delete_all_of_account(session, row.id)
        return {"account_id": account.id, "email": account.email, "password_set": True}

    result = run(work)
    if as_json:
        emit(result)
    else:
        console.print(f"Password set for [bold]{result['email']}[/]; its browsers are signed out.")

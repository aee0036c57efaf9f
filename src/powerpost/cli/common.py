"""What every command shares: JSON output, one-line failures, settings and the database."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console

from powerpost.accounts import service as accounts
from powerpost.accounts.service import AccountRefused
from powerpost.api_keys.service import KeyRefused
from powerpost.config import ConfigError, Settings, load_settings
from powerpost.kit.db import Database
from powerpost.models import Account
from powerpost.workspaces.service import WorkspaceRefused

console = Console()
T = TypeVar("T")

Email = Annotated[str, typer.Option("--email", help="The account's email address.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]


class CliFailure(Exception):
    """A one-line reason to print before exiting non-zero."""


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        fail(str(exc), 2)


def run(work: Callable[[Settings, Database], Awaitable[T]]) -> T:
    """Load settings, migrate, run `work` with a database, and turn refusals into one line."""
    settings = settings_or_exit()
    from powerpost.kit.migrate import upgrade

    upgrade(settings.database_url)

    async def main() -> T:
        db = Database(settings.database_url)
        try:
            return await work(settings, db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(main())
    except (AccountRefused, KeyRefused, WorkspaceRefused, CliFailure, ValueError) as exc:
        fail(str(exc))


def emit(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")


async def account_by_email(db: Database, email: str) -> Account:
    async with db.read() as session:
        account = await accounts.find_by_email(session, email)
    if account is None:
        raise CliFailure(f"no account with email {email}")
    return account


def one_line(text: str) -> str:
    first = " ".join(text.split())
    return first[:300]

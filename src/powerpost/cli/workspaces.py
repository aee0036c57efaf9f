"""`powerpost workspaces`: create and list an account's workspaces."""

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
    run,
)
from powerpost.config import Settings
from powerpost.kit.clock import iso_z
from powerpost.kit.db import Database
from powerpost.workspaces import service as workspaces

# where the group is listed in `powerpost --help` (lowest first)
POSITION = 30
group = typer.Typer(name="workspaces", help="Workspaces of an account.", no_args_is_help=True)


@group.command("create")
def workspaces_create(
    email: Email,
    name: Annotated[
        str | None,
        typer.Option("--name", help="The workspace's name (default: Workspace N)."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Create a workspace."""

    async def work(settings: Settings, db: Database) -> dict[str, Any]:
        account = await account_by_email(db, email)
        async with db.write() as session:
            chosen = name
            if chosen is None:
                existing = await workspaces.list_workspaces(session, account.id)
                chosen = f"Workspace {len(existing) + 1}"
            ws = await workspaces.create_workspace(session, account.id, chosen)
            return {"id": ws.id, "name": ws.name, "created_at": iso_z(ws.created_at)}

    result = run(work)
    if as_json:
        emit(result)
    else:
        console.print(f"Created workspace {result['name']}: {result['id']}")


@group.command("list")
def workspaces_list(email: Email, as_json: AsJson = False) -> None:
    """List an account's workspaces."""

    async def work(settings: Settings, db: Database) -> list[dict[str, Any]]:
        account = await account_by_email(db, email)
        async with db.read() as session:
            return [
                {"id": w.id, "name": w.name, "created_at": iso_z(w.created_at)}
                for w in await workspaces.list_workspaces(session, account.id)
            ]

    rows = run(work)
    if as_json:
        emit({"data": rows})
        return
    table = Table("id", "name", "created")
    for row in rows:
        table.add_row(row["id"], row["name"], row["created_at"])
    console.print(table)

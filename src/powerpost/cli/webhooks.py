"""`powerpost webhooks`: an operator's view of a workspace's webhook endpoints.

The same service as the API and the dashboard, so the same rules (URL checks, the cap,
secrets shown once). `test` queues the event; the running server's job engine sends it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.cli.common import AsJson, CliFailure, Email, account_by_email, console, emit, run
from powerpost.config import Settings
from powerpost.kit.db import Database
from powerpost.kit.errors import AppError
from powerpost.webhooks import service
from powerpost.webhooks.schemas import EndpointCreate
from powerpost.workspaces import service as workspaces

POSITION = 55
group = typer.Typer(
    name="webhooks",
    help="Webhook endpoints of a workspace: add, list, show, rotate, test, disable.",
    no_args_is_help=True,
)
T = TypeVar("T")


class Mode(StrEnum):
    live = "live"
    test = "test"


Workspace = Annotated[
    str, typer.Option("--workspace", help="The workspace's id or its exact name.")
]
EndpointId = Annotated[str, typer.Option("--id", help="The webhook endpoint's id.")]


def _scoped(
    email: str,
    workspace: str,
    work: Callable[[AsyncSession, service.Scope, Settings], Awaitable[T]],
    *,
    write: bool,
) -> T:
    async def main(settings: Settings, db: Database) -> T:
        account = await account_by_email(db, email)
        async with db.read() as session:
            found = [
                w
                for w in await workspaces.list_workspaces(session, account.id)
                if workspace in (w.id, w.name)
            ]
        if len(found) != 1:
            raise CliFailure(
                f"no workspace {workspace!r} in {email}"
                if not found
                else f"several workspaces are named {workspace!r}; give the id"
            )
        scope = service.Scope(account_id=account.id, workspace_id=found[0].id)
        try:
            async with db.write() if write else db.read() as session:
                return await work(session, scope, settings)
        except AppError as exc:
            raise CliFailure(exc.message) from None

    return run(main)


def _print_endpoint(row: dict[str, Any]) -> None:
    state = "enabled" if row["enabled"] else f"disabled ({row['disabled_reason']})"
    console.print(f"[bold]{row['webhook_id']}[/]  {row['url']}  {state}")
    console.print(f"  events: {', '.join(row['events'])}")
    if row.get("secret"):
        console.print(f"  secret: {row['secret']}")
        console.print("Copy it now: it will not be shown again.", style="yellow")


@group.command("add")
def webhooks_add(
    email: Email,
    workspace: Workspace,
    url: Annotated[str, typer.Option("--url", help="The receiver's https URL.")],
    events: Annotated[
        str | None, typer.Option("--events", help="Comma-separated events (default: all).")
    ] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
    mode: Annotated[
        Mode, typer.Option("--mode", help="live: live keys' events; test: test keys' events.")
    ] = Mode.live,
    as_json: AsJson = False,
) -> None:
    """Add an endpoint; its secret is printed once."""
    chosen = [e.strip() for e in events.split(",") if e.strip()] if events is not None else None

    async def work(session: AsyncSession, scope: service.Scope, settings: Settings) -> Any:
        body = EndpointCreate(url=url, events=chosen, description=description)
        endpoint, secret = await service.create_endpoint(
            session, replace(scope, new_mode=mode.value), body, settings
        )
        return {**service.out(endpoint).model_dump(), "secret": secret}

    row = _scoped(email, workspace, work, write=True)
    emit(row) if as_json else _print_endpoint(row)


@group.command("list")
def webhooks_list(email: Email, workspace: Workspace, as_json: AsJson = False) -> None:
    """The workspace's endpoints with their success rate over the last 24 hours."""

    async def work(session: AsyncSession, scope: service.Scope, settings: Settings) -> Any:
        endpoints = await service.list_endpoints(session, scope)
        rates = await service.success_rates(session, endpoints)
        return [{**service.out(e).model_dump(), "success_rate_24h": rates[e.id]} for e in endpoints]

    rows = _scoped(email, workspace, work, write=False)
    if as_json:
        emit({"data": rows})
        return
    table = Table("id", "mode", "url", "state", "events", "24 h success")
    for row in rows:
        rate = row["success_rate_24h"]
        table.add_row(
            row["webhook_id"],
            row["mode"],
            row["url"],
            "enabled" if row["enabled"] else f"disabled ({row['disabled_reason']})",
            str(len(row["events"])),
            "—" if rate is None else f"{rate:.0%}",
        )
    console.print(table)


@group.command("show")
def webhooks_show(
    email: Email, workspace: Workspace, endpoint_id: EndpointId, as_json: AsJson = False
) -> None:
    """One endpoint and its latest deliveries with their attempts."""

    async def work(session: AsyncSession, scope: service.Scope, settings: Settings) -> Any:
        endpoint = await service.get_endpoint(session, scope, endpoint_id)
        page, attempts = await service.list_deliveries(
            session, scope, endpoint_id, status=None, event=None, limit=20, cursor=None
        )
        return {
            **service.out(endpoint).model_dump(),
            "deliveries": [
                service.delivery_out(d, attempts[d.id]).model_dump() for d in page.items
            ],
        }

    row = _scoped(email, workspace, work, write=False)
    if as_json:
        emit(row)
        return
    _print_endpoint(row)
    for d in row["deliveries"]:
        console.print(
            f"  {d['created_at']}  {d['event']:<28} {d['status']:<10} "
            f"attempts {d['attempt_count']}  {d['last_error'] or ''}"
        )


@group.command("rotate")
def webhooks_rotate(
    email: Email, workspace: Workspace, endpoint_id: EndpointId, as_json: AsJson = False
) -> None:
    """A new secret, printed once; the old one keeps signing beside it for a day."""

    async def work(session: AsyncSession, scope: service.Scope, settings: Settings) -> Any:
        endpoint, secret = await service.rotate_secret(session, scope, endpoint_id, settings)
        return {**service.out(endpoint).model_dump(), "secret": secret}

    row = _scoped(email, workspace, work, write=True)
    emit(row) if as_json else _print_endpoint(row)


@group.command("test")
def webhooks_test(
    email: Email, workspace: Workspace, endpoint_id: EndpointId, as_json: AsJson = False
) -> None:
    """Queue a `webhook.test` event for the endpoint (the server's job engine sends it)."""

    async def work(session: AsyncSession, scope: service.Scope, settings: Settings) -> Any:
        delivery, attempts = await service.send_test(session, scope, endpoint_id)
        return service.delivery_out(delivery, attempts).model_dump()

    row = _scoped(email, workspace, work, write=True)
    if as_json:
        emit(row)
    else:
        console.print(f"Queued test delivery {row['delivery_id']} (event {row['event_id']})")


def _set_enabled(email: str, workspace: str, endpoint_id: str, enabled: bool) -> dict[str, Any]:
    async def work(session: AsyncSession, scope: service.Scope, settings: Settings) -> Any:
        endpoint = await service.get_endpoint(session, scope, endpoint_id, for_update=True)
        service.set_enabled(endpoint, enabled)
        await session.flush()
        return service.out(endpoint).model_dump()

    return _scoped(email, workspace, work, write=True)


@group.command("disable")
def webhooks_disable(
    email: Email, workspace: Workspace, endpoint_id: EndpointId, as_json: AsJson = False
) -> None:
    """Stop sending to the endpoint (its pending deliveries end as failed)."""
    row = _set_enabled(email, workspace, endpoint_id, False)
    emit(row) if as_json else _print_endpoint(row)


@group.command("enable")
def webhooks_enable(
    email: Email, workspace: Workspace, endpoint_id: EndpointId, as_json: AsJson = False
) -> None:
    """Send to the endpoint again (its failure clock starts afresh)."""
    row = _set_enabled(email, workspace, endpoint_id, True)
    emit(row) if as_json else _print_endpoint(row)

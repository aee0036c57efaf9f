"""The operator CLI: everything a self-hoster or a script needs, without the dashboard.

Every command accepts --json and then prints exactly one JSON object on stdout; a failure
exits non-zero with a one-line reason on stderr. The CLI and a running server share the
database safely (SQLite: WAL, busy timeout, BEGIN IMMEDIATE for writes).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from powerpost.accounts import service as accounts
from powerpost.accounts.service import AccountRefused
from powerpost.api_keys import service as keys
from powerpost.api_keys.scopes import PRESET_LABELS
from powerpost.api_keys.service import KeyRefused
from powerpost.config import ConfigError, Settings, load_settings
from powerpost.credits import service as credits
from powerpost.kit.clock import iso_z
from powerpost.kit.db import Database
from powerpost.kit.security import KeyHasher
from powerpost.models import Account, ApiKey
from powerpost.workspaces import service as workspaces
from powerpost.workspaces.service import WorkspaceRefused

app = typer.Typer(
    help="PowerPost self-hosted: run the server and manage accounts, keys, workspaces, credits.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
accounts_app = typer.Typer(help="Accounts (email + password).", no_args_is_help=True)
keys_app = typer.Typer(help="API keys: create, list, roll, revoke.", no_args_is_help=True)
workspaces_app = typer.Typer(help="Workspaces of an account.", no_args_is_help=True)
credits_app = typer.Typer(help="The credit balance and its ledger.", no_args_is_help=True)
media_app = typer.Typer(help="Media storage maintenance.", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")
app.add_typer(keys_app, name="keys")
app.add_typer(workspaces_app, name="workspaces")
app.add_typer(credits_app, name="credits")
app.add_typer(media_app, name="media")

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


def key_json(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "type": key.type,
        "scopes": sorted(key.scopes.split()),
        "mode": key.mode,
        "display": f"{key.display_prefix}…{key.display_suffix}",
        "created_at": iso_z(key.created_at),
        "last_used_at": iso_z(key.last_used_at),
        "last_used_ip": key.last_used_ip,
        "expires_at": iso_z(key.expires_at),
        "revoked_at": iso_z(key.revoked_at),
    }


# ---------------------------------------------------------------- serve / worker


def _is_wildcard(host: str) -> bool:
    """An "every interface" bind address, which no client can use in a URL."""
    import ipaddress

    try:
        return host == "" or ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
) -> None:
    """Run the API and dashboard (embedded default: SQLite under ./data, in-process jobs)."""
    import dataclasses

    import uvicorn

    from powerpost.app import create_app
    from powerpost.kit.logging import configure_logging
    from powerpost.kit.migrate import upgrade

    settings = settings_or_exit()
    configure_logging(settings.log_level)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    bind_host = host or settings.host
    bind_port = port or settings.port
    # Media URLs are built from these when POWERPOST_PUBLIC_BASE_URL is unset, so they
    # must be the address actually served, not the defaults.
    settings = dataclasses.replace(settings, host=bind_host, port=bind_port)
    if settings.public_base_url is None and _is_wildcard(bind_host):
        typer.echo(
            f"warning: bound to {bind_host} without POWERPOST_PUBLIC_BASE_URL; media URLs "
            f"will name http://{bind_host}:{bind_port}, which clients cannot reach. Set "
            "POWERPOST_PUBLIC_BASE_URL to the address clients use.",
            err=True,
        )

    async def has_accounts() -> bool:
        db = Database(settings.database_url)
        try:
            async with db.read() as session:
                from sqlalchemy import func, select

                count = (await session.execute(select(func.count(Account.id)))).scalar_one()
                return bool(count)
        finally:
            await db.dispose()

    if not asyncio.run(has_accounts()):
        typer.echo(
            "No accounts yet. Sign up at "
            f"http://{bind_host}:{bind_port}/signup or run:\n"
            "  powerpost accounts create --email you@example.com --password-stdin",
            err=True,
        )
    typer.echo(
        f"PowerPost listening on http://{bind_host}:{bind_port} (data: {settings.data_dir})",
        err=True,
    )
    uvicorn.run(
        create_app(settings),
        host=bind_host,
        port=bind_port,
        access_log=False,
        log_config=None,
        proxy_headers=False,
    )


@app.command()
def worker(
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Jobs run at once (POWERPOST_JOB_CONCURRENCY).")
    ] = None,
    with_dispatcher: Annotated[
        bool | None,
        typer.Option(
            "--dispatcher/--no-dispatcher",
            help="Also scan for due work (default: only without POWERPOST_REDIS_URL).",
        ),
    ] = None,
) -> None:
    """Run jobs (scaled mode: take them from the Redis stream; `serve` runs them itself)."""
    import dataclasses

    from powerpost.jobs.runner import run_worker
    from powerpost.kit.logging import configure_logging
    from powerpost.kit.migrate import upgrade

    settings = settings_or_exit()
    if concurrency is not None:
        jobs = dataclasses.replace(settings.jobs, concurrency=concurrency)
        settings = dataclasses.replace(settings, jobs=jobs)
    configure_logging(settings.log_level)
    upgrade(settings.database_url)
    run_worker(settings, with_dispatcher=with_dispatcher)


@app.command()
def dispatcher() -> None:
    """Kick due, retried and stalled jobs to the workers (scaled mode; run one)."""
    from powerpost.jobs.runner import run_dispatcher
    from powerpost.kit.logging import configure_logging
    from powerpost.kit.migrate import upgrade

    settings = settings_or_exit()
    if settings.redis_url is None:
        fail("powerpost dispatcher needs POWERPOST_REDIS_URL (workers without Redis run their own)")
    configure_logging(settings.log_level)
    upgrade(settings.database_url)
    run_dispatcher(settings)


@app.command()
def migrate() -> None:
    """Apply database migrations (serve does this too)."""
    from powerpost.kit.migrate import upgrade

    upgrade(settings_or_exit().database_url)
    typer.echo("database is up to date", err=True)


# ---------------------------------------------------------------- accounts


@accounts_app.command("create")
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


@accounts_app.command("set-password")
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


# ---------------------------------------------------------------- keys


@keys_app.command("create")
def keys_create(
    email: Email,
    name: Annotated[str, typer.Option("--name", help="A name to recognise the key by.")],
    key_type: Annotated[
        str, typer.Option("--type", help="read_write (Full Access), read_draft, read_only.")
    ] = "read_write",
    scopes: Annotated[
        str | None, typer.Option("--scopes", help="Comma-separated scopes instead of a type.")
    ] = None,
    test: Annotated[bool, typer.Option("--test", help="A test-mode key (pp_test_sk_).")] = False,
    expires_in_days: Annotated[
        int | None, typer.Option("--expires-in-days", help="Expire after this many days.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Create an API key. The key is printed once and never again."""
    scope_list = [s.strip() for s in scopes.split(",") if s.strip()] if scopes is not None else None

    async def work(settings: Settings, db: Database) -> dict[str, Any]:
        account = await account_by_email(db, email)
        async with db.write() as session:
            issued = await keys.create_key(
                session,
                KeyHasher(settings.key_peppers),
                account_id=account.id,
                name=name,
                key_type=key_type,
                scope_list=scope_list,
                mode="test" if test else "live",
                expires_in_days=expires_in_days,
                created_by="cli",
            )
        record = issued.record
        return {
            "id": record.id,
            "key": issued.secret,
            "name": record.name,
            "type": record.type,
            "scopes": sorted(record.scopes.split()),
            "mode": record.mode,
            "expires_at": iso_z(record.expires_at),
        }

    result = run(work)
    if as_json:
        emit(result)
    else:
        console.print(f"Created {PRESET_LABELS[result['type']]} key [bold]{result['name']}[/]")
        console.print(f"  {result['key']}")
        console.print("Copy it now: it will not be shown again.", style="yellow")


@keys_app.command("list")
def keys_list(email: Email, as_json: AsJson = False) -> None:
    """List an account's keys (display hints only, never the key)."""

    async def work(settings: Settings, db: Database) -> list[dict[str, Any]]:
        account = await account_by_email(db, email)
        async with db.read() as session:
            return [key_json(k) for k in await keys.list_keys(session, account.id)]

    rows = run(work)
    if as_json:
        emit({"data": rows})
        return
    table = Table("id", "name", "type", "mode", "display", "created", "last used", "status")
    for row in rows:
        status = (
            "revoked"
            if row["revoked_at"]
            else ("expires " + row["expires_at"] if row["expires_at"] else "active")
        )
        table.add_row(
            row["id"],
            row["name"],
            row["type"],
            row["mode"],
            row["display"],
            row["created_at"],
            row["last_used_at"] or "never",
            status,
        )
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(
    email: Email,
    key_id: Annotated[str, typer.Argument(help="The key's id (from keys list).")],
    as_json: AsJson = False,
) -> None:
    """Revoke a key now, for every server process. Irreversible."""

    async def work(settings: Settings, db: Database) -> dict[str, Any]:
        account = await account_by_email(db, email)
        async with db.write() as session:
            key = await keys.revoke_key(session, account_id=account.id, key_id=key_id)
            return key_json(key)

    result = run(work)
    if as_json:
        emit(result)
    else:
        console.print(f"Revoked key {result['name']} ({result['id']})")


@keys_app.command("roll")
def keys_roll(
    email: Email,
    key_id: Annotated[str, typer.Argument(help="The key to replace.")],
    grace_hours: Annotated[
        float, typer.Option("--grace-hours", help="How long the old key keeps working (0-24).")
    ] = 24.0,
    as_json: AsJson = False,
) -> None:
    """Replace a key with a new one of the same name and scopes; the old one keeps working
    for the grace period."""

    async def work(settings: Settings, db: Database) -> dict[str, Any]:
        account = await account_by_email(db, email)
        try:
            async with db.write() as session:
                issued = await keys.roll_key(
                    session,
                    KeyHasher(settings.key_peppers),
                    account_id=account.id,
                    key_id=key_id,
                    grace_hours=grace_hours,
                    created_by="cli",
                )
        except keys.KeyLimitReached:
            raise CliFailure(
                f"{email} has {keys.MAX_ACTIVE_KEYS} active API keys, the maximum, and during "
                "the grace period the old and the new key both work and both count. Revoke "
                f"one (powerpost keys revoke --email {email} KEY_ID) or roll with --grace-hours 0 "
                "(the old key stops working at once)."
            ) from None
        record = issued.record
        return {
            "id": record.id,
            "key": issued.secret,
            "name": record.name,
            "type": record.type,
            "scopes": sorted(record.scopes.split()),
            "mode": record.mode,
            "replaces": key_id,
        }

    result = run(work)
    if as_json:
        emit(result)
    else:
        console.print(f"New key for [bold]{result['name']}[/]:\n  {result['key']}")
        console.print("Copy it now: it will not be shown again.", style="yellow")


# ---------------------------------------------------------------- workspaces


@workspaces_app.command("create")
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


@workspaces_app.command("list")
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


# ---------------------------------------------------------------- credits


@credits_app.command("grant")
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


@credits_app.command("ledger")
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


def main() -> None:
    """The `powerpost` command: every failure ends in one line on stderr and a non-zero
    exit, including mistakes in the command line and an unreachable database."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        # Outside standalone mode a command's `typer.Exit(code)` comes back as the value.
        code = app(standalone_mode=False)
        if isinstance(code, int) and code != 0:
            raise SystemExit(code)
    except typer.Exit as done:
        raise SystemExit(done.exit_code) from None
    except typer.Abort:
        typer.echo("error: interrupted", err=True)
        raise SystemExit(130) from None
    except typer.TyperException as mistake:
        # Typer's own command-line errors (unknown command, missing or bad option).
        ctx = getattr(mistake, "ctx", None)
        if type(mistake).__name__ == "NoArgsIsHelpError" and ctx is not None:
            typer.echo(ctx.get_help())  # a bare group: show what it offers
            raise SystemExit(0) from None
        hint = f" (see: {ctx.command_path} --help)" if ctx is not None else ""
        typer.echo(f"error: {_one_line(mistake.format_message())}{hint}", err=True)
        raise SystemExit(mistake.exit_code) from None
    except SQLAlchemyError as exc:
        # The driver's text names host and port but not the password (never in the URL
        # we print): enough to see which database could not be reached.
        reason = _one_line(str(getattr(exc, "orig", None) or exc))
        typer.echo(f"error: database unavailable: {reason}", err=True)
        raise SystemExit(1) from None
    except ConnectionError as exc:
        # The database is the only server these commands talk to.
        typer.echo(
            f"error: database unavailable: {_one_line(str(exc))} "
            "(check POWERPOST_DATABASE_URL and that the server is running)",
            err=True,
        )
        raise SystemExit(1) from None
    except OSError as exc:
        typer.echo(f"error: {_one_line(str(exc))}", err=True)
        raise SystemExit(1) from None


def _one_line(text: str) -> str:
    first = " ".join(text.split())
    return first[:300]


# ---------------------------------------------------------------- media


@media_app.command("sweep")
def media_sweep(
    older_than_hours: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Only leftovers older than this (default POWERPOST_MEDIA_SWEEP_GRACE_HOURS, 6).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would go, remove nothing.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Give back quota held by abandoned uploads and remove files no media owns."""
    from datetime import timedelta

    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from powerpost.media.storage import storage_for
    from powerpost.media.sweep import sweep

    async def work(settings: Settings, db: Database) -> dict[str, Any]:
        storage = storage_for(settings)
        hours = older_than_hours or settings.media_sweep_grace_hours
        # The bar goes to stderr, and only for a person at a terminal.
        progress = Progress(
            SpinnerColumn(),
            TextColumn("[progress.description]{task.description}"),
            TextColumn("{task.completed} objects checked"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            disable=as_json or not sys.stderr.isatty(),
            transient=True,
        )
        try:
            with progress:
                task = progress.add_task(f"Sweeping {storage!r}", total=None)
                report = await sweep(
                    db,
                    storage,
                    grace=timedelta(hours=hours),
                    dry_run=dry_run,
                    on_object=lambda _item: progress.advance(task),
                )
        finally:
            await storage.aclose()
        return report.as_dict()

    result = run(work)
    if as_json:
        emit(result)
        return
    verb = "would be" if dry_run else "were"
    typer.echo(
        f"{result['objects_seen']} objects checked; {result['orphans_deleted']} orphaned "
        f"({result['orphan_bytes']} bytes) {verb} removed; "
        f"{result['reservations_released']} abandoned uploads {verb} released "
        f"({result['quota_bytes_released']} bytes of quota); "
        f"{result['temp_entries_deleted']} scratch entries {verb} removed."
    )

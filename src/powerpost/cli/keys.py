"""`powerpost keys`: create, list, revoke and roll an account's API keys."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from powerpost.api_keys import service as keys
from powerpost.api_keys.scopes import PRESET_LABELS
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
from powerpost.kit.clock import iso_z
from powerpost.kit.db import Database
from powerpost.kit.security import KeyHasher
from powerpost.models import ApiKey

# where the group is listed in `powerpost --help` (lowest first)
POSITION = 20
group = typer.Typer(name="keys", help="API keys: create, list, roll, revoke.", no_args_is_help=True)


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


@group.command("create")
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


@group.command("list")
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


@group.command("revoke")
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


@group.command("roll")
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

"""The top-level commands that run PowerPost: serve, worker, dispatcher, migrate."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from powerpost.cli.common import fail, settings_or_exit
from powerpost.kit.db import Database
from powerpost.models import Account


def _is_wildcard(host: str) -> bool:
    """An "every interface" bind address, which no client can use in a URL."""
    import ipaddress

    try:
        return host == "" or ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
) -> None:
    """Run the API and dashboard (embedded default: SQLite under ./data, in-process jobs)."""
    import dataclasses

    import uvicorn

    from powerpost.app import create_app
    from powerpost.kit.http_server import HeadCappedHttpToolsProtocol
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
        # uvicorn's own protocol buffers a request head of any size (issue 8, B1).
        http=HeadCappedHttpToolsProtocol,
    )


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


def migrate() -> None:
    """Apply database migrations (serve does this too)."""
    from powerpost.kit.migrate import upgrade

    upgrade(settings_or_exit().database_url)
    typer.echo("database is up to date", err=True)


# registered on the root command by powerpost.cli.app, in this order
COMMANDS = (serve, worker, dispatcher, migrate)

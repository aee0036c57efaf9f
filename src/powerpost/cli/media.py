"""`powerpost media`: storage maintenance (the sweep)."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.console import Console

from powerpost.cli.common import (
    AsJson,
    emit,
    run,
)
from powerpost.config import Settings
from powerpost.kit.db import Database

# where the group is listed in `powerpost --help` (lowest first)
POSITION = 50
group = typer.Typer(name="media", help="Media storage maintenance.", no_args_is_help=True)


@group.command("sweep")
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

"""`powerpost posts`: an account's posts and what happened when they were published.

For an operator answering "where is my post?": `list` shows the newest posts of every
workspace (or one), live and test together; `show` one post's items with their outcome and
every platform call made for them, with the platform's raw error (which API clients never
see).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from powerpost.cli.common import (
    AsJson,
    CliFailure,
    Email,
    account_by_email,
    console,
    emit,
    fail,
    run,
)
from powerpost.config import Settings
from powerpost.kit.clock import iso_z
from powerpost.kit.db import Database
from powerpost.kit.errors import NotFound
from powerpost.kit.ids import parse_uuid
from powerpost.models import Post, PostItem, PublishAttempt, Workspace
from powerpost.posts import service as posts
from powerpost.publishing import service as publishing
from powerpost.workspaces import service as workspaces

# where the group is listed in `powerpost --help` (lowest first)
POSITION = 60
group = typer.Typer(
    name="posts", help="Posts: list them, show one with its attempts.", no_args_is_help=True
)

WorkspaceOption = Annotated[
    str | None,
    typer.Option("--workspace", help="A workspace id or exact name (default: every workspace)."),
]
MAX_LIMIT = 1000


async def _workspaces(db: Database, email: str, raw: str | None) -> list[Workspace]:
    account = await account_by_email(db, email)
    async with db.read() as session:
        listing = list(await workspaces.list_workspaces(session, account.id))
    if raw is None:
        return listing
    wanted = parse_uuid(raw.strip())
    found = [w for w in listing if w.id == wanted] or [w for w in listing if w.name == raw.strip()]
    if not found:
        raise CliFailure(f"no workspace {raw!r} in the account {email}")
    if len(found) > 1:
        raise CliFailure(f"{len(found)} workspaces are named {raw!r}; give the workspace id")
    return found


def _platforms(items: list[PostItem]) -> list[str]:
    return list(dict.fromkeys(i.platform for i in items))


def _short(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment is not None else "—"


def _utc(value: str | None) -> str:
    return f"{_short(_parsed(value))} UTC" if value else "—"


def _console() -> Console:
    """The terminal's console, or a wide one when the output goes to a file or a pipe: rich
    would fold every table to 80 columns there, cutting ids and times apart."""
    return console if console.is_terminal else Console(width=200)


def _parsed(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _row(post: Post, items: list[PostItem], names: dict[str, str]) -> dict[str, Any]:
    return {
        "post_id": post.id,
        "workspace_id": post.workspace_id,
        "workspace": names.get(post.workspace_id, ""),
        "mode": post.mode,
        "status": post.status,
        "platforms": _platforms(items),
        "post_types": [i.post_type for i in items],
        "created_at": iso_z(post.created_at),
        "scheduled_at": iso_z(post.scheduled_at),
        "published_at": iso_z(post.published_at),
    }


def _attempt(attempt: PublishAttempt, types: dict[str, str]) -> dict[str, Any]:
    return {
        "item_id": attempt.item_id,
        "post_type": types.get(attempt.item_id),
        "publish_round": attempt.publish_round,
        "adapter": attempt.adapter,
        "outcome": attempt.outcome,
        "error_code": attempt.error_code,
        "raw_error": attempt.raw_error,
        "started_at": iso_z(attempt.started_at),
        "finished_at": iso_z(attempt.finished_at),
    }


@group.command("list")
def posts_list(
    email: Email,
    workspace: WorkspaceOption = None,
    limit: Annotated[int, typer.Option("--limit", help="Newest posts to show.")] = 50,
    as_json: AsJson = False,
) -> None:
    """The account's newest posts, live and test, with status and platforms."""
    if not 1 <= limit <= MAX_LIMIT:
        fail(f"--limit must be between 1 and {MAX_LIMIT}")

    async def work(settings: Settings, db: Database) -> dict[str, Any]:
        chosen = await _workspaces(db, email, workspace)
        names = {w.id: w.name for w in chosen}
        async with db.read() as session:
            shown, more, items = await posts.newest_posts(session, list(names), limit=limit)
        return {"data": [_row(p, items[p.id], names) for p in shown], "has_more": more}

    result = run(work)
    if as_json:
        emit(result)
        return
    rows = result["data"]
    if not rows:
        console.print("No posts.")
        return
    table = Table(
        "created (UTC)", "workspace", "mode", "status", "platforms", "goes out / went out"
    )
    # The id is what `posts show` takes: never cut, whatever the width.
    table.add_column("post id", no_wrap=True, min_width=36)
    for row in rows:
        when = (
            f"published {_short(_parsed(row['published_at']))}"
            if row["published_at"]
            else f"scheduled {_short(_parsed(row['scheduled_at']))}"
            if row["scheduled_at"]
            else "—"
        )
        table.add_row(
            _short(_parsed(row["created_at"])),
            escape(row["workspace"]),
            row["mode"],
            row["status"],
            ", ".join(row["platforms"]),
            when,
            row["post_id"],
        )
    out = _console()
    out.print(table)
    if result["has_more"]:
        out.print(f"Showing the newest {len(rows)}; use --limit for more.")


@group.command("show")
def posts_show(
    email: Email,
    post_id: Annotated[str, typer.Argument(help="The post's id.")],
    workspace: WorkspaceOption = None,
    as_json: AsJson = False,
) -> None:
    """One post: its items (status, live URL, error) and every platform attempt."""

    async def work(settings: Settings, db: Database) -> dict[str, Any]:
        chosen = await _workspaces(db, email, workspace)
        names = {w.id: w.name for w in chosen}
        async with db.read() as session:
            try:
                post, items = await posts.find_post(session, list(names), post_id)
            except NotFound:
                where = f"the workspace {workspace!r}" if workspace else f"the account {email}"
                raise CliFailure(f"no post {post_id!r} in {where}") from None
            attempts = await publishing.attempt_history(session, post)
        types = {i.id: i.post_type for i in items}
        return {
            **posts.post_out(post, items).model_dump(),
            "workspace_id": post.workspace_id,
            "workspace": names[post.workspace_id],
            "mode": post.mode,
            "created_by_key_id": post.created_by_key_id,
            "attempts": [_attempt(a, types) for a in attempts],
        }

    result = run(work)
    if as_json:
        emit(result)
        return
    _print_post(result)


def _print_post(post: dict[str, Any]) -> None:
    # Every text a platform or a person wrote goes through `escape`: rich reads "[...]"
    # as markup, and a raw platform error is full of brackets.
    console = _console()
    console.print(f"[bold]Post {post['post_id']}[/]: {post['status']}", highlight=False)
    made_by = f"API key {post['created_by_key_id']}" if post["created_by_key_id"] else "dashboard"
    for label, value in (
        ("Workspace", f"{escape(post['workspace'])} ({post['workspace_id']})"),
        ("Mode", post["mode"]),
        ("Made by", made_by),
        ("Created", _utc(post["created_at"])),
        ("Scheduled", _utc(post["scheduled_at"])),
        ("Published", _utc(post["published_at"])),
        ("Credits used", str(post["credits_used"])),
    ):
        console.print(f"  {label + ':':<14}{value}", highlight=False)
    items = Table("#", "post type", "status", "platform url", "error", title="Items")
    for index, item in enumerate(post["items"], start=1):
        error = item["error"]
        items.add_row(
            str(index),
            item["post_type"],
            item["status"],
            escape(item["platform_url"] or "—"),
            escape(f"{error['code']}: {error['message']}") if error else "—",
        )
    console.print(items)
    if not post["attempts"]:
        console.print("No platform has been called for this post yet.")
        return
    attempts = Table(
        "started (UTC)", "post type", "round", "adapter", "outcome", "error", title="Attempts"
    )
    for attempt in post["attempts"]:
        error = attempt["error_code"] or "—"
        if attempt["raw_error"]:
            error += f"\n{attempt['raw_error']}"
        attempts.add_row(
            _short(_parsed(attempt["started_at"])),
            attempt["post_type"] or "(removed item)",
            str(attempt["publish_round"]),
            attempt["adapter"],
            attempt["outcome"],
            escape(error),
        )
    console.print(attempts)

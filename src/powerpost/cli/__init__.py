"""The operator CLI: everything a self-hoster or a script needs, without the dashboard.

Every command accepts --json and then prints exactly one JSON object on stdout; a failure
exits non-zero with a one-line reason on stderr. The CLI and a running server share the
database safely (SQLite: WAL, busy timeout, BEGIN IMMEDIATE for writes).

Layout: `common` holds what every command shares (JSON output, one-line failures, settings
and the database: `run`, `emit`, `fail`, `CliFailure`, the `Email`/`AsJson` options);
`server` the top-level serve/worker/dispatcher/migrate commands; `app` the root command
and `main` (the `powerpost` console script); every other module is one command group.

Adding a command group is adding one module here, e.g. `posts.py`, that defines

    POSITION = 60  # where `powerpost --help` lists it among the groups (lowest first)
    group = typer.Typer(name="posts", help="...", no_args_is_help=True)

    @group.command("list")
    def posts_list(email: Email, as_json: AsJson = False) -> None: ...

`app` finds it on import; nothing else needs editing.
"""

from powerpost.cli.app import app, main

__all__ = ["app", "main"]

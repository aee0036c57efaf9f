"""The root `powerpost` command: the server commands, every command group, and `main`."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import typer

from powerpost.cli import server
from powerpost.cli.common import one_line

app = typer.Typer(
    help="PowerPost self-hosted: run the server and manage accounts, keys, workspaces, credits.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for command in server.COMMANDS:
    app.command()(command)


def _add_groups(root: typer.Typer) -> None:
    """Add every module of this package that defines `group` as a command group, listed by
    its POSITION: adding a group is adding its module."""
    found: list[tuple[int, str, typer.Typer]] = []
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        module = importlib.import_module(f"{__package__}.{info.name}")
        group = getattr(module, "group", None)
        if group is None:
            continue
        position = getattr(module, "POSITION", None)
        if not isinstance(group, typer.Typer) or not isinstance(group.info.name, str):
            raise TypeError(f"{module.__name__}.group must be a typer.Typer with a name")
        if not isinstance(position, int):
            raise TypeError(f"{module.__name__} defines a group but no POSITION (an int)")
        found.append((position, info.name, group))
    for _position, _name, group in sorted(found, key=lambda item: (item[0], item[1])):
        root.add_typer(group)


_add_groups(app)


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
        typer.echo(f"error: {one_line(mistake.format_message())}{hint}", err=True)
        raise SystemExit(mistake.exit_code) from None
    except SQLAlchemyError as exc:
        # The driver's text names host and port but not the password (never in the URL
        # we print): enough to see which database could not be reached.
        reason = one_line(str(getattr(exc, "orig", None) or exc))
        typer.echo(f"error: database unavailable: {reason}", err=True)
        raise SystemExit(1) from None
    except ConnectionError as exc:
        # The database is the only server these commands talk to.
        typer.echo(
            f"error: database unavailable: {one_line(str(exc))} "
            "(check POWERPOST_DATABASE_URL and that the server is running)",
            err=True,
        )
        raise SystemExit(1) from None
    except OSError as exc:
        typer.echo(f"error: {one_line(str(exc))}", err=True)
        raise SystemExit(1) from None

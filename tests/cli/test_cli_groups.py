"""The cli package finds its command groups by module: every group, in the order it had."""

from __future__ import annotations

from powerpost.cli import app


def test_every_group_and_command_is_registered_in_order() -> None:
    commands = [c.callback.__name__ for c in app.registered_commands if c.callback]
    assert commands == ["serve", "worker", "dispatcher", "migrate"]
    groups = [g.typer_instance.info.name for g in app.registered_groups]
    assert groups == [
        "accounts",
        "keys",
        "workspaces",
        "credits",
        "media",
        "webhooks",
        "posts",
        "doctor",
    ]

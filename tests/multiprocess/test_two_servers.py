"""Revocation is immediate on every server process (no cache to go stale)."""

from __future__ import annotations

import httpx
import pytest
from tests.fixtures.db import PG_URL
from tests.fixtures.processes import cli, cli_json, running_server

pytestmark = pytest.mark.multiprocess


def test_revoke_through_cli_then_both_processes_answer_401(env: dict[str, str]) -> None:
    cli_json(env, "accounts", "create", "--email", "two@example.com")
    key = cli_json(env, "keys", "create", "--email", "two@example.com", "--name", "shared")
    headers = {"x-api-key": key["key"]}
    with running_server(env) as first, running_server(env) as second:
        for base in (first, second):
            assert httpx.get(f"{base}/api/v1/account/credits", headers=headers).json() == {
                "balance": 50
            }
        cli(env, "keys", "revoke", "--email", "two@example.com", key["id"])
        for base in (first, second):
            response = httpx.get(f"{base}/api/v1/account/credits", headers=headers)
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "INVALID_API_KEY"
    if PG_URL is None:
        # On SQLite this shows the CLI and two servers sharing one file safely;
        # the PostgreSQL run is the scaled deployment.
        assert env["POWERPOST_DATABASE_URL"].startswith("sqlite")

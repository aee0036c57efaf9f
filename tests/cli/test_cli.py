"""The operator CLI: exact commands, --json output, one-line failures, a shared database."""

from __future__ import annotations

import asyncio
import concurrent.futures

from tests.fixtures.processes import cli, cli_json

from powerpost.accounts import service as accounts
from powerpost.api_keys import service as keys
from powerpost.config import load_settings
from powerpost.kit.db import Database
from powerpost.kit.security import KeyHasher


def test_account_key_workspace_credit_round_trip(env: dict[str, str]) -> None:
    created = cli_json(
        env,
        "accounts",
        "create",
        "--email",
        "Ops@Example.com",
        "--password-stdin",
        stdin="a long password\n",
    )
    assert set(created) == {"account_id", "email", "workspace_id", "balance"}
    assert created["email"] == "ops@example.com"
    assert created["balance"] == 50

    key = cli_json(
        env, "keys", "create", "--email", "ops@example.com", "--name", "ci", "--type", "read_draft"
    )
    assert set(key) >= {"id", "key", "name", "type", "scopes", "mode"}
    assert key["key"].startswith("pp_live_sk_")
    assert len(key["key"]) == 49
    assert key["type"] == "read_draft"
    assert "posts:publish" not in key["scopes"]

    custom = cli_json(
        env,
        "keys",
        "create",
        "--email",
        "ops@example.com",
        "--name",
        "reader",
        "--scopes",
        "account:read,posts:read",
        "--test",
    )
    assert custom["type"] == "custom"
    assert custom["mode"] == "test"
    assert custom["key"].startswith("pp_test_sk_")

    listed = cli_json(env, "keys", "list", "--email", "ops@example.com")
    assert {row["id"] for row in listed["data"]} == {key["id"], custom["id"]}
    row = next(r for r in listed["data"] if r["id"] == key["id"])
    assert set(row) >= {
        "id",
        "name",
        "type",
        "scopes",
        "mode",
        "display",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    }
    assert key["key"] not in str(listed)  # display hints only
    assert row["display"].startswith(key["key"][:15])
    assert row["display"].endswith(key["key"][-4:])

    rolled = cli_json(
        env, "keys", "roll", "--email", "ops@example.com", key["id"], "--grace-hours", "1"
    )
    assert rolled["name"] == "ci"
    assert rolled["key"] != key["key"]
    revoked = cli(env, "keys", "revoke", "--email", "ops@example.com", rolled["id"])
    assert revoked.returncode == 0

    workspace = cli_json(
        env, "workspaces", "create", "--email", "ops@example.com", "--name", "Client A"
    )
    spaces = cli_json(env, "workspaces", "list", "--email", "ops@example.com")
    assert [w["id"] for w in spaces["data"]] == [created["workspace_id"], workspace["id"]]

    granted = cli_json(
        env,
        "credits",
        "grant",
        "--email",
        "ops@example.com",
        "--amount",
        "25",
        "--reason",
        "support",
    )
    assert granted["balance"] == 75
    ledger = cli_json(env, "credits", "ledger", "--email", "ops@example.com")
    assert ledger["balance"] == 75
    assert [(e["amount"], e["kind"]) for e in ledger["data"]] == [(25, "grant"), (50, "signup")]


def test_failures_exit_non_zero_with_one_line(env: dict[str, str]) -> None:
    cases = [
        ("keys", "list", "--email", "nobody@example.com"),
        ("accounts", "create", "--email", "not-an-email"),
        ("credits", "grant", "--email", "x@example.com", "--amount", "-5", "--reason", "x"),
        ("keys", "create", "--email", "nobody@example.com", "--name", "x", "--type", "admin"),
    ]
    cli_json(env, "accounts", "create", "--email", "scopes@example.com")
    # a script passing an empty variable must get a refusal, never a Full Access key
    cases.extend(
        ("keys", "create", "--email", "scopes@example.com", "--name", "x", "--scopes", empty)
        for empty in ("", ",", " , ")
    )
    for args in cases:
        result = cli(env, *args, check=False)
        assert result.returncode != 0, args
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stderr.startswith("error: ")
        assert result.stdout == ""
    cli_json(env, "accounts", "create", "--email", "dup@example.com")
    duplicate = cli(env, "accounts", "create", "--email", "dup@example.com", check=False)
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stderr
    weak = cli(
        env,
        "accounts",
        "create",
        "--email",
        "weak@example.com",
        "--password-stdin",
        stdin="short\n",
        check=False,
    )
    assert weak.returncode == 1
    assert "at least 10" in weak.stderr


def test_command_line_mistakes_and_broken_surroundings_are_one_line(
    env: dict[str, str],
) -> None:
    mistakes = [
        (("keys", "create", "--email", "a@example.com"), "Missing option '--name'"),
        (("keys", "roll", "--email", "a@example.com", "k", "--grace-hours", "soon"), "--grace-hours"),
        (("nosuch",), "No such command 'nosuch'"),
        (("keys", "revoke", "--email", "a@example.com"), "Missing argument"),
    ]  # fmt: skip
    for args, words in mistakes:
        result = cli(env, *args, check=False)
        assert result.returncode == 2, args
        assert result.stderr.startswith("error: "), result.stderr
        assert words in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    no_database = {**env, "POWERPOST_DATABASE_URL": "postgresql://powerpost@127.0.0.1:1/none"}
    no_data_dir = {
        k: v for k, v in env.items() if k not in ("POWERPOST_KEY_PEPPERS", "POWERPOST_SECRET_KEY")
    } | {"POWERPOST_DATA_DIR": "/proc/powerpost-cannot-live-here"}
    for broken, words in ((no_database, "database unavailable"), (no_data_dir, "/proc/")):
        result = cli(broken, "keys", "list", "--email", "a@example.com", check=False)
        assert result.returncode == 1
        assert result.stderr.startswith("error: "), result.stderr
        assert words in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr


def test_workspace_names_default_to_a_number(env: dict[str, str]) -> None:
    cli_json(env, "accounts", "create", "--email", "ws@example.com")
    created = cli_json(env, "workspaces", "create", "--email", "ws@example.com")
    assert created["name"] == "Workspace 2"  # the account's default workspace is the first


def test_bad_configuration_stops_with_one_line(env: dict[str, str]) -> None:
    for name, value in (
        ("POWERPOST_DATABASE_URL", "mysql://x"),
        ("POWERPOST_ALLOW_SIGNUP", "maybe"),
        ("POWERPOST_RATE_LIMIT_READ", "lots"),
        ("POWERPOST_PRICES", '{"caption_regular": -1}'),
        ("POWERPOST_KEY_PEPPERS", "1:tooshort"),
    ):
        result = cli({**env, name: value}, "keys", "list", "--email", "a@example.com", check=False)
        assert result.returncode == 2, name
        assert name in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_twelve_concurrent_cli_creations_with_three_present(env: dict[str, str]) -> None:
    cli_json(env, "accounts", "create", "--email", "race@example.com")
    for i in range(3):
        cli_json(env, "keys", "create", "--email", "race@example.com", "--name", f"pre{i}")
    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
        results = list(
            pool.map(
                lambda i: cli(
                    env,
                    "keys",
                    "create",
                    "--email",
                    "race@example.com",
                    "--name",
                    f"new{i}",
                    "--json",
                    check=False,
                ),
                range(12),
            )
        )
    succeeded = [r for r in results if r.returncode == 0]
    failed = [r for r in results if r.returncode != 0]
    assert len(succeeded) == 7
    assert all("10 active API keys" in r.stderr for r in failed), [r.stderr for r in failed]
    listed = cli_json(env, "keys", "list", "--email", "race@example.com")
    assert len([k for k in listed["data"] if k["revoked_at"] is None]) == 10


def test_set_password_lets_an_account_made_without_one_sign_in(env: dict[str, str]) -> None:
    email = "nopass@example.com"
    cli_json(env, "accounts", "create", "--email", email)  # no --password-stdin
    weak = cli(env, "accounts", "set-password", "--email", email, stdin="short\n", check=False)
    assert weak.returncode == 1
    assert "at least 10" in weak.stderr
    done = cli_json(
        env, "accounts", "set-password", "--email", email, "--json", stdin="a long passphrase\n"
    )
    assert done["password_set"] is True

    async def signs_in(password: str) -> bool:
        db = Database(load_settings(env).database_url)
        try:
            async with db.read() as session:
                return await accounts.authenticate(session, email, password) is not None
        finally:
            await db.dispose()

    assert asyncio.run(signs_in("a long passphrase"))
    assert not asyncio.run(signs_in("short"))


def test_roll_at_the_key_limit_says_revoke_one_or_roll_with_no_grace(
    env: dict[str, str],
) -> None:
    email = "full@example.com"
    cli_json(env, "accounts", "create", "--email", email)
    settings = load_settings(env)

    async def fill() -> list[str]:
        db = Database(settings.database_url)
        try:
            async with db.read() as session:
                account = await accounts.find_by_email(session, email)
            assert account is not None
            made = []
            for i in range(keys.MAX_ACTIVE_KEYS):
                async with db.write() as session:
                    issued = await keys.create_key(
                        session,
                        KeyHasher(settings.key_peppers),
                        account_id=account.id,
                        name=f"k{i}",
                        created_by="test",
                    )
                made.append(issued.record.id)
            return made
        finally:
            await db.dispose()

    first, *_ = asyncio.run(fill())
    refused = cli(env, "keys", "roll", "--email", email, first, check=False)
    assert refused.returncode == 1
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "10 active API keys" in refused.stderr
    assert f"powerpost keys revoke --email {email}" in refused.stderr
    assert "--grace-hours 0" in refused.stderr
    rolled = cli_json(env, "keys", "roll", "--email", email, first, "--grace-hours", "0")
    assert rolled["replaces"] == first
    listed = cli_json(env, "keys", "list", "--email", email)["data"]
    assert len([k for k in listed if k["revoked_at"] is None]) == keys.MAX_ACTIVE_KEYS

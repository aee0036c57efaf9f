"""`powerpost webhooks …`: the operator's commands, through the real CLI process."""

from __future__ import annotations

from tests.fixtures.processes import cli, cli_json


def test_add_list_show_rotate_test_disable(env: dict[str, str]) -> None:
    account = cli_json(
        env,
        "accounts",
        "create",
        "--email",
        "hooks@example.com",
        "--password-stdin",
        stdin="a long password\n",
    )
    ws = ["--email", "hooks@example.com", "--workspace", account["workspace_id"]]
    added = cli_json(
        env,
        "webhooks",
        "add",
        *ws,
        "--url",
        "http://127.0.0.1:9/in",
        "--events",
        "post.published,post.failed",
    )
    assert added["secret"].startswith("whsec_")
    assert added["events"] == ["post.published", "post.failed"]
    assert added["mode"] == "live"
    hook = added["webhook_id"]

    listed = cli_json(env, "webhooks", "list", *ws)
    assert [row["webhook_id"] for row in listed["data"]] == [hook]
    assert "secret" not in listed["data"][0]
    assert listed["data"][0]["success_rate_24h"] is None

    rotated = cli_json(env, "webhooks", "rotate", *ws, "--id", hook)
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != added["secret"]

    queued = cli_json(env, "webhooks", "test", *ws, "--id", hook)
    assert queued["event"] == "webhook.test"
    assert queued["status"] == "pending"

    shown = cli_json(env, "webhooks", "show", *ws, "--id", hook)
    assert [d["delivery_id"] for d in shown["deliveries"]] == [queued["delivery_id"]]
    assert "secret" not in shown

    disabled = cli_json(env, "webhooks", "disable", *ws, "--id", hook)
    assert (disabled["enabled"], disabled["disabled_reason"]) == (False, "manual")
    enabled = cli_json(env, "webhooks", "enable", *ws, "--id", hook)
    assert enabled["enabled"] is True

    for_tests = cli_json(
        env, "webhooks", "add", *ws, "--url", "http://127.0.0.1:9/t", "--mode", "test"
    )
    assert for_tests["mode"] == "test"
    listed = cli_json(env, "webhooks", "list", *ws)
    assert [row["mode"] for row in listed["data"]] == ["live", "test"]

    # refusals are one line naming the problem, and a non-zero exit
    bad = cli(env, "webhooks", "add", *ws, "--url", "https://10.0.0.1/in", check=False)
    assert bad.returncode == 1
    assert "private or internal" in bad.stderr
    unknown = cli(
        env,
        "webhooks",
        "show",
        "--email",
        "hooks@example.com",
        "--workspace",
        "nope",
        "--id",
        hook,
        check=False,
    )
    assert unknown.returncode == 1
    assert "no workspace 'nope'" in unknown.stderr

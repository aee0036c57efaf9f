"""`powerpost posts list|show`: an account's posts across workspaces and modes, one post's
items and attempts, and clear refusals for what is not the account's."""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from tests.fixtures.factories import Factory, headers
from tests.fixtures.processes import cli, cli_json
from tests.generation.support import FAST_JOBS
from tests.posts.support import PostsApi

from powerpost.config import Settings, load_settings

ITEMS = [
    {"post_type": "x-post", "content": "Fresh bread at 7 #bakery"},
    {"post_type": "facebook-post", "content": "Our shop opens on Saturday"},
    {"post_type": "linkedin-post", "content": "We open a second shop downtown."},
]


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return dataclasses.replace(load_settings(env), jobs=FAST_JOBS, sandbox_latency_ms=(0, 0))


async def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    # In a thread: the app's job engine shares this event loop.
    return await asyncio.to_thread(cli, env, *args, check=False)


async def _json(env: dict[str, str], *args: str) -> dict[str, Any]:
    return await asyncio.to_thread(cli_json, env, *args)


async def _api(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory, tenant: Any, mode: str, ws: str
) -> PostsApi:
    key_id, secret = await factory.key(tenant, "read_write", mode=mode)
    api = PostsApi(client, app, dataclasses.replace(tenant, workspace_id=ws), secret, key_id)
    assert api.headers == headers(secret, ws)
    return api


async def test_list_and_show_across_workspaces_and_modes(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory, env: dict[str, str]
) -> None:
    owner = await factory.account()
    second_ws = await factory.workspace(owner, "Client [B]")
    sandbox = await _api(client, app, factory, owner, "test", owner.workspace_id)
    live = await _api(client, app, factory, owner, "live", second_ws)
    published = await sandbox.create_ok(ITEMS)
    started = await sandbox.action(published["post_id"], "publish", scenario="partial")
    assert started.status_code == 200, started.text
    done = await sandbox.wait(published["post_id"])
    assert done["status"] == "partial"
    draft = await live.create_ok(ITEMS[:1])
    stranger = await factory.account()
    foreign = await (
        await _api(client, app, factory, stranger, "test", stranger.workspace_id)
    ).create_ok(ITEMS[:1])

    listed = await _json(env, "posts", "list", "--email", owner.email)
    assert listed["has_more"] is False
    rows = listed["data"]
    # Newest first, both workspaces and both modes; never another account's post.
    assert [r["post_id"] for r in rows] == [draft["post_id"], published["post_id"]]
    assert [r["mode"] for r in rows] == ["live", "test"]
    assert [r["status"] for r in rows] == ["draft", "partial"]
    assert rows[0]["workspace"] == "Client [B]"
    assert rows[1]["platforms"] == ["x", "facebook", "linkedin"]
    assert rows[1]["published_at"] is not None
    assert foreign["post_id"] not in str(listed)

    one = await _json(env, "posts", "list", "--email", owner.email, "--workspace", "Client [B]")
    assert [r["post_id"] for r in one["data"]] == [draft["post_id"]]
    by_id = await _json(
        env, "posts", "list", "--email", owner.email, "--workspace", owner.workspace_id
    )
    assert [r["post_id"] for r in by_id["data"]] == [published["post_id"]]
    newest = await _json(env, "posts", "list", "--email", owner.email, "--limit", "1")
    assert [r["post_id"] for r in newest["data"]] == [draft["post_id"]]
    assert newest["has_more"] is True

    table = await _run(env, "posts", "list", "--email", owner.email)
    assert table.returncode == 0, table.stderr
    # Rich may fold long cells; the short ones show whole.
    for words in ("partial", "draft", "test", "live", "Client [B]"):
        assert words in table.stdout, words

    shown = await _json(env, "posts", "show", "--email", owner.email, published["post_id"])
    assert shown["status"] == "partial"
    assert shown["mode"] == "test"
    assert shown["workspace_id"] == owner.workspace_id
    assert [i["status"] for i in shown["items"]] == ["posted", "failed", "posted"]
    assert shown["items"][0]["platform_url"] == done["items"][0]["platform_url"]
    assert shown["items"][1]["error"]["code"] == "CONTENT_REJECTED"
    attempts = shown["attempts"]
    assert len(attempts) == 3
    assert {a["post_type"] for a in attempts} == {"x-post", "facebook-post", "linkedin-post"}
    refused = next(a for a in attempts if a["post_type"] == "facebook-post")
    assert refused["outcome"] == "failed"
    assert refused["error_code"] == "CONTENT_REJECTED"
    assert refused["raw_error"]

    text = await _run(env, "posts", "show", "--email", owner.email, published["post_id"])
    assert text.returncode == 0, text.stderr
    assert published["post_id"] in text.stdout
    assert "CONTENT_REJECTED" in text.stdout
    assert "Attempts" in text.stdout
    drafted = await _run(env, "posts", "show", "--email", owner.email, draft["post_id"])
    assert drafted.returncode == 0, drafted.stderr
    assert "No platform has been called" in drafted.stdout


async def test_what_is_not_the_accounts_is_a_one_line_refusal(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory, env: dict[str, str]
) -> None:
    owner = await factory.account()
    other_ws = await factory.workspace(owner, "Other")
    mine = await (await _api(client, app, factory, owner, "test", owner.workspace_id)).create_ok(
        ITEMS[:1]
    )
    stranger = await factory.account()
    theirs = await (
        await _api(client, app, factory, stranger, "live", stranger.workspace_id)
    ).create_ok(ITEMS[:1])
    cases = [
        (("posts", "list", "--email", "nobody@example.com"), "no account"),
        (("posts", "list", "--email", owner.email, "--workspace", "Nope"), "no workspace"),
        # Another account's workspace is as unknown as one that never existed.
        (("posts", "list", "--email", owner.email, "--workspace", stranger.workspace_id), "no workspace"),
        (("posts", "list", "--email", owner.email, "--limit", "0"), "--limit"),
        (("posts", "show", "--email", owner.email, str(uuid.uuid4())), "no post"),
        (("posts", "show", "--email", owner.email, "not-an-id"), "no post"),
        (("posts", "show", "--email", owner.email, theirs["post_id"]), "no post"),
        # The post exists, but not in the workspace named.
        (("posts", "show", "--email", owner.email, mine["post_id"], "--workspace", other_ws), "no post"),
    ]  # fmt: skip
    for index, (args, words) in enumerate(cases):
        # Every other case with --json: a script gets the same refusal on stderr.
        result = await _run(env, *args, *(("--json",) if index % 2 else ()))
        assert result.returncode == 1, (args, result.stderr)
        assert result.stdout == ""
        assert result.stderr.startswith("error: "), result.stderr
        assert words in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr

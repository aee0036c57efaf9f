"""Drafts: create (custom content or from a generation), read, list, edit, delete; every
bad input a 4xx naming the item and field, with nothing written; test and live objects
invisible to each other."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from tests.fixtures import media
from tests.fixtures.factories import Factory
from tests.posts.support import POSTS, PostsApi, make_posts_api

from powerpost.media import service as media_service
from powerpost.media.storage import storage_for
from powerpost.models import Post

TEXT = {"post_type": "x-post", "content": "Hello #world"}


async def _count_posts(app: FastAPI, account_id: str) -> int:
    return await media.count_rows(app, Post, account_id=account_id)


async def test_create_read_edit_delete_a_draft(sandbox: PostsApi) -> None:
    photo = await sandbox.image()
    created = await sandbox.create_ok(
        [TEXT, {"post_type": "instagram-feed", "content": "A photo", "media_ids": [photo]}]
    )
    assert created["status"] == "draft"
    assert [(i["post_type"], i["platform"], i["status"]) for i in created["items"]] == [
        ("x-post", "x", "draft"),
        ("instagram-feed", "instagram", "draft"),
    ]
    assert created["items"][1]["media_ids"] == [photo]
    fetched = await sandbox.get(created["post_id"])
    assert fetched.json() == created

    edited = await sandbox.http.patch(
        f"{POSTS}/{created['post_id']}",
        json={"items": [{"post_type": "linkedin-post", "content": "Only LinkedIn now"}]},
        headers=sandbox.headers,
    )
    assert edited.status_code == 200, edited.text
    assert [i["post_type"] for i in edited.json()["items"]] == ["linkedin-post"]

    deleted = await sandbox.http.delete(f"{POSTS}/{created['post_id']}", headers=sandbox.headers)
    assert deleted.status_code == 200
    assert deleted.json() == {"success": True}
    gone = await sandbox.get(created["post_id"])
    assert gone.status_code == 404
    again = await sandbox.action(created["post_id"], "publish")
    assert again.status_code == 404


async def test_published_posts_cannot_be_edited_or_deleted(sandbox: PostsApi) -> None:
    post = await sandbox.create_ok([TEXT])
    await sandbox.action(post["post_id"], "publish")
    await sandbox.wait(post["post_id"])
    patch = await sandbox.http.patch(
        f"{POSTS}/{post['post_id']}", json={"items": [TEXT]}, headers=sandbox.headers
    )
    assert patch.status_code == 409
    assert patch.json()["error"]["code"] == "INVALID_STATE"
    delete = await sandbox.http.delete(f"{POSTS}/{post['post_id']}", headers=sandbox.headers)
    assert delete.status_code == 409


def _items(n: int) -> list[dict[str, Any]]:
    types = [
        "instagram-feed",
        "instagram-reel",
        "instagram-story",
        "tiktok-video",
        "tiktok-photos",
        "youtube-video",
        "youtube-short",
        "x-post",
        "facebook-post",
        "facebook-reel",
        "facebook-story",
        "linkedin-post",
    ]
    return [{"post_type": t, "content": "x"} for t in (types * 2)[:n]]


BAD_BODIES: list[tuple[str, dict[str, Any], int, str]] = [
    ("no items", {"items": []}, 400, "items"),
    ("13 items", {"items": _items(13)}, 400, "items"),
    (
        "unknown type",
        {"items": [{"post_type": "myspace-post", "content": "x"}]},
        400,
        "items[0].post_type",
    ),
    ("duplicate type", {"items": [TEXT, TEXT]}, 400, "items[1].post_type"),
    (
        "youtube without title or video",
        {"items": [{"post_type": "youtube-video", "content": "x"}]},
        400,
        "items[0]",
    ),
    ("x over 280", {"items": [{"post_type": "x-post", "content": "a" * 281}]}, 400, "items[0]"),
    (
        "reel without video",
        {"items": [{"post_type": "instagram-reel", "content": "x"}]},
        400,
        "items[0]",
    ),
    (
        "unknown media",
        {
            "items": [
                {
                    "post_type": "x-post",
                    "content": "x",
                    "media_ids": ["00000000-0000-4000-8000-000000000000"],
                }
            ]
        },
        404,
        "items[0].media_ids",
    ),
    ("unknown field", {"items": [TEXT], "surprise": 1}, 400, "surprise"),
    (
        "unknown generation",
        {"items": [TEXT], "generation_id": "00000000-0000-4000-8000-000000000000"},
        404,
        "generation_id",
    ),
    (
        "empty content and no media",
        {"items": [{"post_type": "x-post", "content": "  "}]},
        400,
        "items[0]",
    ),
]


@pytest.mark.parametrize(
    ("case", "body", "status", "names"), BAD_BODIES, ids=[c[0] for c in BAD_BODIES]
)
async def test_bad_input_names_the_field_and_writes_nothing(
    sandbox: PostsApi, case: str, body: dict[str, Any], status: int, names: str
) -> None:
    response = await sandbox.http.post(POSTS, json=body, headers=sandbox.headers)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert names in error["message"], error
    assert await _count_posts(sandbox.app, sandbox.tenant.account_id) == 0


async def test_youtube_title_rules(sandbox: PostsApi, tmp_path: Path) -> None:
    clip = media.make_mp4(tmp_path / "c.mp4", seconds=1.0)
    video = await sandbox.upload(clip.read_bytes(), "video", "c.mp4")
    long_title = await sandbox.create(
        [{"post_type": "youtube-short", "content": "d", "title": "t" * 101, "media_ids": [video]}]
    )
    assert long_title.status_code == 400
    assert "limit is 100" in long_title.json()["error"]["message"]
    ok = await sandbox.create(
        [{"post_type": "youtube-short", "content": "d", "title": "Fine", "media_ids": [video]}]
    )
    assert ok.status_code == 200


async def test_foreign_and_deleted_media_and_generations_are_refused(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory, sandbox: PostsApi
) -> None:
    other = await make_posts_api(client, app, factory, mode="test")
    foreign_photo = await other.image()
    refused = await sandbox.create(
        [{"post_type": "instagram-feed", "content": "x", "media_ids": [foreign_photo]}]
    )
    assert refused.status_code == 404
    assert "items[0].media_ids" in refused.json()["error"]["message"]

    mine = await sandbox.image()
    # The API has no media DELETE; remove it as the dashboard does.
    async with app.state.db.write() as session:
        await media_service.delete_media(
            session,
            storage_for(app.state.settings),
            sandbox.tenant.account_id,
            sandbox.tenant.workspace_id,
            None,
            mine,
        )
    deleted = await sandbox.create(
        [{"post_type": "instagram-feed", "content": "x", "media_ids": [mine]}]
    )
    assert deleted.status_code == 404


async def test_list_pages_newest_first_and_filters(sandbox: PostsApi) -> None:
    ids = [(await sandbox.create_ok([TEXT]))["post_id"] for _ in range(5)]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = (await sandbox.http.get(POSTS, params=params, headers=sandbox.headers)).json()
        seen += [p["post_id"] for p in page["data"]]
        assert page["has_more"] == (page["next_cursor"] is not None)
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert seen == list(reversed(ids))
    drafts = await sandbox.http.get(POSTS, params={"status": "published"}, headers=sandbox.headers)
    assert drafts.json()["data"] == []
    bad = await sandbox.http.get(POSTS, params={"status": "nope"}, headers=sandbox.headers)
    assert bad.status_code == 400
    empty = await sandbox.http.get(POSTS + "?status=&limit=&cursor=", headers=sandbox.headers)
    assert empty.status_code == 200


async def test_test_and_live_posts_are_invisible_to_each_other(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    live = await make_posts_api(client, app, factory, mode="live")
    _, test_secret = await factory.key(live.tenant, mode="test")
    test_headers = {"x-api-key": test_secret, "X-Workspace-Id": live.tenant.workspace_id}
    live_post = await live.create_ok([TEXT])
    test_post = (await client.post(POSTS, json={"items": [TEXT]}, headers=test_headers)).json()
    assert (
        await client.get(f"{POSTS}/{live_post['post_id']}", headers=test_headers)
    ).status_code == 404
    assert (await live.get(test_post["post_id"])).status_code == 404
    live_list = (await client.get(POSTS, headers=live.headers)).json()["data"]
    test_list = (await client.get(POSTS, headers=test_headers)).json()["data"]
    assert [p["post_id"] for p in live_list] == [live_post["post_id"]]
    assert [p["post_id"] for p in test_list] == [test_post["post_id"]]


async def test_another_workspace_cannot_see_the_post(sandbox: PostsApi, factory: Factory) -> None:
    post = await sandbox.create_ok([TEXT])
    second = await factory.workspace(sandbox.tenant)
    other_headers = {**sandbox.headers, "X-Workspace-Id": second}
    assert (
        await sandbox.http.get(f"{POSTS}/{post['post_id']}", headers=other_headers)
    ).status_code == 404
    assert (
        await sandbox.http.post(f"{POSTS}/{post['post_id']}/publish", headers=other_headers)
    ).status_code == 404

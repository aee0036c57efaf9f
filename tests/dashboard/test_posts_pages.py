"""The Posts pages: the review queue of drafts that keys made, previews, edit, publish now,
schedule, cancel, delete, retry, and the post page with its attempt history."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from powerpost.config import Settings, load_settings
from powerpost.dashboard.routes.posts import hashtag_parts, scheduled_time
from powerpost.kit.clock import utcnow
from powerpost.kit.errors import ValidationError
from powerpost.models import Post
from tests.dashboard.support import sign_in_tenant
from tests.fixtures import media
from tests.fixtures.factories import Factory, Tenant
from tests.generation.support import FAST_JOBS
from tests.posts.support import PostsApi

TEXT_ITEMS = [
    {"post_type": "x-post", "content": "Fresh bread at 7 #bakery #launch"},
    {"post_type": "linkedin-post", "content": "We open a second shop downtown."},
]
IMG_SRC = re.compile(r'<img src="(/media/files/[^"]+/thumbnail[^"]*)"')


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    # Publishing runs on the embedded job engine: retries at once, no simulated latency.
    return dataclasses.replace(load_settings(env), jobs=FAST_JOBS, sandbox_latency_ms=(0, 0))


async def _agent(
    client: httpx.AsyncClient,
    app: FastAPI,
    factory: Factory,
    *,
    mode: str = "test",
    tenant: Tenant | None = None,
    name: str = "Caption agent",
) -> PostsApi:
    """A Draft Only key (an AI agent's) of a tenant, in the given mode."""
    owner = tenant or await factory.account()
    key_id, secret = await factory.key(owner, "read_draft", mode=mode, name=name)
    return PostsApi(client, app, owner, secret, key_id)


async def _draft(agent: PostsApi, items: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return await agent.create_ok(items or TEXT_ITEMS)


def _form(token: str, tenant: Tenant, **extra: str) -> dict[str, str]:
    return {"csrf_token": token, "workspace": tenant.workspace_id, **extra}


async def test_queue_shows_drafts_by_key_with_previews(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory, tmp_path: Path
) -> None:
    agent = await _agent(client, app, factory)
    photo = await agent.image()
    clip = media.make_mp4(tmp_path / "clip.mp4", seconds=2.0)
    video = await agent.upload(clip.read_bytes(), "video", "clip.mp4")
    post = await _draft(
        agent,
        [
            {"post_type": "instagram-feed", "content": "Hot <b>crust</b> #bread", "media_ids": [photo]},
            {"post_type": "youtube-short", "title": "Our new shop", "content": "Tour", "media_ids": [video]},
            TEXT_ITEMS[0],
        ],
    )  # fmt: skip
    await sign_in_tenant(client, agent.tenant)

    page = await client.get("/posts?mode=test")
    assert page.status_code == 200
    html = page.text
    assert f'id="post-{post["post_id"]}"' in html
    assert "API key “Caption agent”" in html
    assert "Hot &lt;b&gt;crust&lt;/b&gt; " in html  # escaped, never markup
    assert '<mark class="hashtag">#bread</mark>' in html
    assert '<mark class="hashtag">#bakery</mark>' in html
    assert "<strong>Our new shop</strong>" in html  # the YouTube title
    thumbnails = IMG_SRC.findall(html)
    assert len(thumbnails) == 2
    fetched = await client.get(thumbnails[0].replace("&amp;", "&"))
    assert fetched.status_code == 200
    assert 'aria-current="page">Test mode<' in html
    assert 'href="/posts" aria-current="page"' in html  # the navigation entry

    # Live is the default tab, and test-mode posts are not on it.
    live = (await client.get("/posts")).text
    assert post["post_id"] not in live
    assert "No drafts waiting" in live
    assert 'aria-current="page">Live<' in live


async def test_queue_orders_sections_and_names_dashboard_posts(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    agent = await _agent(client, app, factory)
    first = await _draft(agent)
    second = await _draft(agent)
    published = await _draft(agent)
    token = await sign_in_tenant(client, agent.tenant)
    await client.post(f"/posts/{published['post_id']}/publish", data=_form(token, agent.tenant))
    await agent.wait(published["post_id"])
    async with app.state.db.write() as session:
        # A post a person made in the dashboard has no key.
        await session.execute(
            update(Post).where(Post.id == first["post_id"]).values(created_by_key_id=None)
        )
    html = (await client.get("/posts?mode=test")).text
    drafts = html[html.index('id="drafts"') : html.index('id="scheduled"')]
    recent = html[html.index('id="recent"') :]
    # Newest draft first; published posts only under "Recently published".
    assert drafts.index(second["post_id"]) < drafts.index(first["post_id"])
    assert published["post_id"] not in drafts
    assert published["post_id"] in recent
    assert "you (dashboard)" in drafts


async def test_publish_now_from_the_dashboard_publishes_a_draft_only_keys_draft(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    agent = await _agent(client, app, factory)
    post = await _draft(agent)
    post_id = post["post_id"]
    # The key itself may not publish.
    refused = await agent.action(post_id, "publish")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "INSUFFICIENT_SCOPE"

    token = await sign_in_tenant(client, agent.tenant)
    done = await client.post(f"/posts/{post_id}/publish", data=_form(token, agent.tenant))
    assert done.status_code == 303
    assert done.headers["location"] == f"/posts/{post_id}?workspace={agent.tenant.workspace_id}"
    final = await agent.wait(post_id)
    assert final["status"] == "published"

    page = await client.get(done.headers["location"])
    assert page.status_code == 200
    html = page.text
    assert 'hx-trigger="every 2s"' not in html  # settled: no more polling
    for item in final["items"]:
        assert f'href="{item["platform_url"]}" target="_blank" rel="noopener"' in html
        assert item["platform_post_id"] in html
    assert len(re.findall(r'<tr class="attempt-row">', html)) == len(final["items"])
    assert "Posted" in html
    # Publishing again is refused and shown, never a 500.
    again = await client.post(
        f"/posts/{post_id}/publish", data=_form(token, agent.tenant, **{"from": "detail"})
    )
    assert again.status_code == 409
    assert "ALREADY_PUBLISHED" in again.text
    assert "That did not work." in again.text


async def test_live_publish_without_a_connection_says_so(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    agent = await _agent(client, app, factory, mode="live")
    post = await _draft(agent)
    token = await sign_in_tenant(client, agent.tenant)
    assert post["post_id"] in (await client.get("/posts")).text
    refused = await client.post(
        f"/posts/{post['post_id']}/publish", data=_form(token, agent.tenant)
    )
    assert refused.status_code == 422
    assert "PLATFORM_NOT_CONNECTED" in refused.text
    assert "Connect these platforms to this workspace first: linkedin, x" in refused.text
    assert 'role="alert"' in refused.text
    assert (await agent.get(post["post_id"])).json()["status"] == "draft"


async def test_detail_polls_while_publishing(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    agent = await _agent(client, app, factory)
    post = await _draft(agent)
    await sign_in_tenant(client, agent.tenant)
    async with app.state.db.write() as session:
        await session.execute(
            update(Post).where(Post.id == post["post_id"]).values(status="publishing")
        )
    html = (await client.get(f"/posts/{post['post_id']}")).text
    assert 'hx-trigger="every 2s"' in html
    assert f'hx-get="/posts/{post["post_id"]}?workspace={agent.tenant.workspace_id}"' in html
    assert "No platform has been called for this post yet." in html


async def test_retry_failed_items_from_the_post_page(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    agent = await _agent(client, app, factory)
    key_id, secret = await factory.key(agent.tenant, "read_write", mode="test")
    publisher = PostsApi(client, app, agent.tenant, secret, key_id)
    post = await publisher.create_ok(
        [{"post_type": t, "content": f"Text for {t}"} for t in ("x-post", "facebook-post")]
    )
    started = await publisher.action(post["post_id"], "publish", scenario="partial")
    assert started.status_code == 200, started.text
    partial = await publisher.wait(post["post_id"])
    assert partial["status"] == "partial"
    token = await sign_in_tenant(client, agent.tenant)
    html = (await client.get(f"/posts/{post['post_id']}")).text
    assert "CONTENT_REJECTED" in html
    assert "<summary>What the platform said</summary>" in html
    assert "Retry failed items" in html

    retried = await client.post(f"/posts/{post['post_id']}/retry", data=_form(token, agent.tenant))
    assert retried.status_code == 303
    final = await publisher.wait(post["post_id"])
    assert final["status"] == "published"
    # The item that had posted kept its first platform post.
    assert final["items"][0]["platform_post_id"] == partial["items"][0]["platform_post_id"]


async def test_edit_saves_or_names_the_item_at_fault(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    agent = await _agent(client, app, factory)
    post = await _draft(agent)
    post_id = post["post_id"]
    x_item, linkedin_item = (i["item_id"] for i in post["items"])
    token = await sign_in_tenant(client, agent.tenant)
    panel = (await client.get(f"/posts?mode=test&edit={post_id}")).text
    assert f'action="/posts/{post_id}/edit"' in panel
    assert f'<label for="content-{x_item}">' in panel

    too_long = "#tag " * 70
    refused = await client.post(
        f"/posts/{post_id}/edit",
        data=_form(
            token,
            agent.tenant,
            **{f"content-{x_item}": too_long, f"content-{linkedin_item}": "Changed"},
        ),
    )
    assert refused.status_code == 400
    assert f'id="item-error-{x_item}"' in refused.text
    assert "X post: x-post content is" in refused.text
    assert too_long.strip() in refused.text  # what was typed is kept
    unchanged = (await agent.get(post_id)).json()
    assert [i["content"] for i in unchanged["items"]] == [i["content"] for i in TEXT_ITEMS]

    saved = await client.post(
        f"/posts/{post_id}/edit",
        data=_form(
            token,
            agent.tenant,
            **{f"content-{x_item}": "New text #fresh", f"content-{linkedin_item}": "Changed"},
        ),
    )
    assert saved.status_code == 303
    assert "Draft saved." in (await client.get(saved.headers["location"])).text
    changed = (await agent.get(post_id)).json()
    assert [i["content"] for i in changed["items"]] == ["New text #fresh", "Changed"]


async def test_schedule_and_cancel(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    agent = await _agent(client, app, factory)
    post = await _draft(agent)
    post_id = post["post_id"]
    token = await sign_in_tenant(client, agent.tenant)
    panel = (await client.get(f"/posts?mode=test&schedule={post_id}")).text
    assert 'type="datetime-local"' in panel
    assert 'name="utc_offset"' in panel
    assert "data-local-time" in panel

    tokyo = (datetime.now(UTC) + timedelta(days=2)).astimezone(ZoneInfo("Asia/Tokyo"))
    local = tokyo.strftime("%Y-%m-%dT%H:%M")
    done = await client.post(
        f"/posts/{post_id}/schedule",
        data=_form(token, agent.tenant, scheduled_local=local, timezone="Asia/Tokyo"),
    )
    assert done.status_code == 303, done.text
    body = (await agent.get(post_id)).json()
    assert body["status"] == "scheduled"
    expected = tokyo.replace(second=0, microsecond=0).astimezone(UTC)
    assert body["scheduled_at"] == expected.strftime("%Y-%m-%dT%H:%M:%SZ")
    html = (await client.get(done.headers["location"])).text
    scheduled = html[html.index('id="scheduled"') : html.index('id="recent"')]
    assert post_id in scheduled
    assert "Cancel schedule" in scheduled

    cancelled = await client.post(f"/posts/{post_id}/cancel", data=_form(token, agent.tenant))
    assert cancelled.status_code == 303
    assert (await agent.get(post_id)).json()["status"] == "draft"
    # Cancelling again: refused on the page, not a 500.
    again = await client.post(f"/posts/{post_id}/cancel", data=_form(token, agent.tenant))
    assert again.status_code == 409
    assert "Only a scheduled post can be cancelled" in again.text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"scheduled_local": "2020-01-01T09:00", "timezone": "UTC"}, "at least 1 minute"),
        ({"scheduled_local": "", "timezone": "UTC"}, "Choose a date and time."),
        ({"scheduled_local": "2030-01-01T09:00", "timezone": "UTC"}, "at most 60 days"),
        ({"scheduled_local": "tomorrow", "timezone": "UTC"}, "not in the form"),
        ({"scheduled_local": "2030-02-30T09:00", "timezone": "UTC"}, "does not exist"),
        ({"scheduled_local": "2030-01-01T09:00", "timezone": "Mars/Base"}, "from the list"),
        ({"scheduled_local": "2030-01-01T09:00", "timezone": "browser"}, "did not send"),
    ],
)
async def test_schedule_errors_are_shown(
    client: httpx.AsyncClient,
    app: FastAPI,
    factory: Factory,
    fields: dict[str, str],
    message: str,
) -> None:
    agent = await _agent(client, app, factory)
    post = await _draft(agent)
    token = await sign_in_tenant(client, agent.tenant)
    refused = await client.post(
        f"/posts/{post['post_id']}/schedule", data=_form(token, agent.tenant, **fields)
    )
    assert refused.status_code == 400
    assert message in refused.text
    assert 'type="datetime-local"' in refused.text  # the form stays open
    assert (await agent.get(post["post_id"])).json()["status"] == "draft"


def test_scheduled_time_uses_the_offset_or_zone_of_that_date() -> None:
    assert scheduled_time("2026-07-01T09:00", "browser", "120") == "2026-07-01T09:00:00+02:00"
    assert scheduled_time("2026-07-01T09:00", "browser", "-300") == "2026-07-01T09:00:00-05:00"
    # Paris is +01:00 in winter and +02:00 in summer: the date decides, not today.
    assert scheduled_time("2026-01-10T09:00", "Europe/Paris", "") == "2026-01-10T09:00:00+01:00"
    assert scheduled_time("2026-07-10T09:00", "Europe/Paris", "") == "2026-07-10T09:00:00+02:00"
    with pytest.raises(ValidationError):
        scheduled_time("2026-07-01T09:00", "browser", "9999")


def test_hashtags_are_cut_out_for_highlighting() -> None:
    assert hashtag_parts("New #shop, see C# and #2026!") == [
        ("New ", False),
        ("#shop", True),
        (", see C# and ", False),
        ("#2026", True),
        ("!", False),
    ]
    assert hashtag_parts("") == []


async def test_delete_with_confirmation(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    agent = await _agent(client, app, factory)
    post = await _draft(agent)
    post_id = post["post_id"]
    token = await sign_in_tenant(client, agent.tenant)
    confirm = (await client.get(f"/posts?mode=test&delete={post_id}")).text
    assert f'action="/posts/{post_id}/delete"' in confirm
    assert "Delete this draft?" in confirm
    deleted = await client.post(f"/posts/{post_id}/delete", data=_form(token, agent.tenant))
    assert deleted.status_code == 303
    assert "Draft deleted." in (await client.get(deleted.headers["location"])).text
    assert (await agent.get(post_id)).status_code == 404
    gone = await client.get(f"/posts/{post_id}")
    assert gone.status_code == 404


async def test_csrf_is_required_for_every_action(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    agent = await _agent(client, app, factory)
    post = await _draft(agent)
    await sign_in_tenant(client, agent.tenant)
    for verb in ("publish", "edit", "schedule", "cancel", "retry", "delete"):
        refused = await client.post(
            f"/posts/{post['post_id']}/{verb}",
            data={"workspace": agent.tenant.workspace_id, "csrf_token": "forged"},
        )
        assert refused.status_code == 403, verb
        assert "This form has expired" in refused.text
    assert (await agent.get(post["post_id"])).json()["status"] == "draft"


async def test_another_accounts_post_is_not_found(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    agent = await _agent(client, app, factory)
    post = await _draft(agent)
    stranger = await factory.account()
    token = await sign_in_tenant(client, stranger)
    assert post["post_id"] not in (await client.get("/posts?mode=test")).text
    assert (await client.get(f"/posts/{post['post_id']}")).status_code == 404
    # Naming the owner's workspace does not help either.
    foreign = await client.get(f"/posts/{post['post_id']}?workspace={agent.tenant.workspace_id}")
    assert foreign.status_code == 404
    for verb in ("publish", "delete", "edit", "schedule"):
        refused = await client.post(f"/posts/{post['post_id']}/{verb}", data=_form(token, stranger))
        assert refused.status_code == 404, verb
    assert (await agent.get(post["post_id"])).json()["status"] == "draft"
    for odd in ("not-a-uuid", "%00", "0" * 300):
        assert (await client.get(f"/posts/{odd}")).status_code == 404


async def test_pages_need_a_signed_in_person(client: httpx.AsyncClient) -> None:
    page = await client.get("/posts?mode=test")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=/posts")


async def test_review_queue_service_sections(app: FastAPI, factory: Factory) -> None:
    from powerpost.posts import service

    tenant = await factory.account()
    async with app.state.db.write() as session:
        author = service.Author(
            account_id=tenant.account_id, workspace_id=tenant.workspace_id, mode="test"
        )
        made = []
        start = utcnow() - timedelta(hours=1)
        for index in range(6):
            post, _ = await service.create_post(
                session,
                author,
                items=[service.ItemIn(post_type="x-post", content="Hello")],
                generation_id=None,
            )
            post.created_at = start + timedelta(minutes=index)
            made.append(post)
        # Two scheduled (the later-made one sooner), one failed, three drafts.
        made[0].status = made[1].status = "scheduled"
        made[0].scheduled_at = utcnow() + timedelta(hours=2)
        made[1].scheduled_at = utcnow() + timedelta(hours=1)
        made[2].status = "failed"
    async with app.state.db.read() as session:
        queue = await service.review_queue(session, tenant.workspace_id, "test", limit=2)
        live = await service.review_queue(session, tenant.workspace_id, "live", limit=10)
    assert [p.id for p in queue.drafts.posts] == [made[5].id, made[4].id]
    assert [p.id for p in queue.scheduled.posts] == [made[1].id, made[0].id]
    assert [p.id for p in queue.recent.posts] == [made[2].id]
    assert (queue.drafts.total, queue.scheduled.total, queue.recent.total) == (3, 2, 1)
    assert set(queue.items) == {p.id for p in made} - {made[3].id}
    assert live.drafts.posts == []
    assert live.recent.total == 0

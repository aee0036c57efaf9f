"""The dashboard's Media page: list with thumbnails, preview, delete (frees quota), quota."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from fastapi import FastAPI
from tests.dashboard.support import csrf_of, sign_in_tenant
from tests.fixtures.factories import Factory
from tests.media.support import api_client, files_under, image_bytes, media_rows, storage_used

IMG_SRC = re.compile(r'<img src="(/media/files/[^"]+)"')


async def test_the_media_page_lists_previews_and_deletes(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, videos: dict[str, Path]
) -> None:
    api = await api_client(client, factory)
    picture = image_bytes("PNG", (300, 150), "green")
    clip = videos["red"].read_bytes()
    image_id = (await api.upload(picture, "image", "garden <b>.png")).json()["media_id"]
    video_id = (await api.upload(clip, "video", "red.mp4")).json()["media_id"]
    await sign_in_tenant(client, api.tenant)

    page = await client.get("/media")
    assert page.status_code == 200
    html = page.text
    assert "garden &lt;b&gt;.png" in html  # escaped
    assert "red.mp4" in html
    assert image_id in html
    assert video_id in html
    assert 'aria-current="page"' in html
    assert "media-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    total = len(picture) + len(clip)
    assert f'value="{total}"' in html
    assert "10.0 GB" in html
    thumbnails = IMG_SRC.findall(html)
    assert len(thumbnails) == 2
    fetched = await client.get(thumbnails[0].replace("&amp;", "&"))
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "image/jpeg"

    preview = await client.get(f"/media?preview={video_id}")
    assert re.search(
        rf'<video controls preload="metadata" src="/media/files/{video_id}/original', preview.text
    )
    preview = await client.get(f"/media?preview={image_id}")
    assert f'<img src="/media/files/{image_id}/original' in preview.text
    assert "300 × 150 pixels" in preview.text

    confirm = await client.get(f"/media?delete={video_id}")
    assert f'action="/media/{video_id}/delete"' in confirm.text
    csrf = csrf_of(confirm.text)

    # Without the CSRF token nothing happens.
    refused = await client.post(
        f"/media/{video_id}/delete", data={"workspace": api.tenant.workspace_id}
    )
    assert refused.status_code == 403
    assert await storage_used(app, api.tenant.account_id) == total

    done = await client.post(
        f"/media/{video_id}/delete",
        data={"csrf_token": csrf, "workspace": api.tenant.workspace_id},
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/media?workspace={api.tenant.workspace_id}&deleted=1"
    assert await storage_used(app, api.tenant.account_id) == len(picture)
    stored = files_under(app.state.settings.data_dir / "media")
    assert len(stored) == 2
    assert all(image_id in str(p) for p in stored)
    after = await client.get(done.headers["location"])
    assert "its space is free again" in after.text
    assert "red.mp4" not in after.text

    # Deleting it again (a double submit) is a 404, and the quota is not given back twice.
    again = await client.post(
        f"/media/{video_id}/delete",
        data={"csrf_token": csrf, "workspace": api.tenant.workspace_id},
    )
    assert again.status_code == 404
    assert await storage_used(app, api.tenant.account_id) == len(picture)


async def test_workspaces_and_tenants_are_kept_apart(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    owner = await api_client(client, factory)
    media_id = (await owner.upload(image_bytes(), "image", "owner.png")).json()["media_id"]
    second = await factory.workspace(owner.tenant, "Launch")
    intruder = await factory.account()
    await sign_in_tenant(client, intruder)

    assert (await client.get(f"/media?workspace={owner.tenant.workspace_id}")).status_code == 404
    own_page = await client.get("/media")
    assert "owner.png" not in own_page.text
    deleted = await client.post(
        f"/media/{media_id}/delete",
        data={"csrf_token": csrf_of(own_page.text), "workspace": intruder.workspace_id},
    )
    assert deleted.status_code == 404
    assert await media_rows(app, owner.tenant.account_id) == 1

    client.cookies.clear()
    await sign_in_tenant(client, owner.tenant)
    page = await client.get(f"/media?workspace={second}")
    assert page.status_code == 200
    assert "owner.png" not in page.text
    assert "No media in this workspace yet" in page.text
    assert 'name="workspace"' in page.text  # the switcher, since there are two workspaces


async def test_the_media_page_needs_a_session(client: httpx.AsyncClient) -> None:
    response = await client.get("/media")
    assert response.status_code in (302, 303)
    assert response.headers["location"].startswith("/login")

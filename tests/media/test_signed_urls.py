"""Signed media links: /media/files/{id}/{variant}?expires=&signature= (no API key)."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image
from tests.fixtures.factories import Factory
from tests.fixtures.processes import cli_json, free_port, running_server
from tests.media.support import api_client, image_bytes

from powerpost.config import Settings
from powerpost.kit.clock import utcnow
from powerpost.media.delivery import Unsatisfiable, parse_range
from powerpost.media.service import delete_media
from powerpost.media.signing import URL_LIFETIME, signed_path, signed_url, verify


def _local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def _uploaded(
    client: httpx.AsyncClient, factory: Factory, content: bytes, kind: str = "image"
) -> dict[str, str]:
    api = await api_client(client, factory)
    response = await api.upload(content, kind, "f")
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    body["account_id"] = api.tenant.account_id
    body["workspace_id"] = api.tenant.workspace_id
    return body


async def test_a_signed_url_serves_the_file_without_an_api_key(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    content = image_bytes("PNG", (90, 60))
    body = await _uploaded(client, factory, content)
    response = await client.get(_local(body["url"]))
    assert response.status_code == 200
    assert response.content == content
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-length"] == str(len(content))
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert re.fullmatch(r"private, max-age=86400, immutable", response.headers["cache-control"])

    thumb = await client.get(_local(body["thumbnail_url"]))
    assert thumb.status_code == 200
    assert thumb.headers["content-type"] == "image/jpeg"
    from io import BytesIO

    with Image.open(BytesIO(thumb.content)) as im:
        assert im.format == "JPEG"
        assert im.size == (90, 60)

    head = await client.head(_local(body["url"]))
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(content))
    assert head.content == b""


async def test_tampered_expired_or_foreign_signatures_are_403(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    body = await _uploaded(client, factory, image_bytes())
    media_id = body["media_id"]
    parts = urlsplit(body["url"])
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    path = parts.path
    flipped = query["signature"][:-1] + ("0" if query["signature"][-1] != "0" else "1")
    settings: Settings = app.state.settings
    other = await _uploaded(client, factory, image_bytes(color="blue"))
    other_query = parse_qs(urlsplit(other["url"]).query)
    bad = {
        "flipped signature": f"{path}?expires={query['expires']}&signature={flipped}",
        "later expiry": f"{path}?expires={int(query['expires']) + 60}&signature={query['signature']}",
        "no signature": f"{path}?expires={query['expires']}",
        "nothing": path,
        "non-numeric expiry": f"{path}?expires=soon&signature={query['signature']}",
        "other media's signature": (
            f"{path}?expires={other_query['expires'][0]}&signature={other_query['signature'][0]}"
        ),
        "original's signature on thumbnail": (
            f"/media/files/{media_id}/thumbnail?expires={query['expires']}"
            f"&signature={query['signature']}"
        ),
        "expired": signed_path(settings, media_id, "original", utcnow() - timedelta(days=8)),
        "non-ascii": f"{path}?expires={query['expires']}&signature=%C3%A9",
    }
    for label, url in bad.items():
        response = await client.get(url)
        assert response.status_code == 403, label
        assert response.json()["error"]["code"] == "FORBIDDEN", label
    # Issued six days ago: still valid.
    recent = signed_path(settings, media_id, "original", utcnow() - timedelta(days=6))
    assert (await client.get(recent)).status_code == 200
    assert (
        await client.get(f"/media/files/{media_id}/poster?expires=1&signature=x")
    ).status_code == 404


async def test_a_deleted_media_link_is_404(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    body = await _uploaded(client, factory, image_bytes())
    assert (await client.get(_local(body["url"]))).status_code == 200
    async with app.state.db.write() as session:
        await delete_media(
            session,
            app.state.storage,
            body["account_id"],
            body["workspace_id"],
            None,
            body["media_id"],
        )
    for url in (body["url"], body["thumbnail_url"]):
        response = await client.get(_local(url))
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "NOT_FOUND"


async def test_range_requests_on_a_video(
    client: httpx.AsyncClient, factory: Factory, videos: dict[str, Path]
) -> None:
    content = videos["mp4"].read_bytes()
    size = len(content)
    body = await _uploaded(client, factory, content, "video")
    url = _local(body["url"])

    response = await client.get(url, headers={"Range": "bytes=100-1099"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 100-1099/{size}"
    assert response.headers["content-length"] == "1000"
    assert response.content == content[100:1100]

    response = await client.get(url, headers={"Range": "bytes=-500"})
    assert response.status_code == 206
    assert response.content == content[-500:]

    response = await client.get(url, headers={"Range": f"bytes={size - 10}-"})
    assert response.status_code == 206
    assert response.content == content[-10:]

    response = await client.get(url, headers={"Range": f"bytes={size}-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{size}"

    # Positions of thousands of digits (past Python's int-digit limit): 416, not 500.
    for header in ("bytes=" + "9" * 5000 + "-", "bytes=0-" + "9" * 5000, "bytes=-" + "9" * 5000):
        response = await client.get(url, headers={"Range": header})
        assert response.status_code == 416, header[:20]
        assert response.headers["content-range"] == f"bytes */{size}"

    # Several ranges are answered with the whole file (allowed by RFC 9110).
    response = await client.get(url, headers={"Range": "bytes=0-1,5-6"})
    assert response.status_code == 200
    assert response.content == content


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 100, None),
        ("bytes=0-0", 100, (0, 0)),
        ("bytes=10-", 100, (10, 99)),
        ("bytes=10-1000", 100, (10, 99)),
        ("bytes=-10", 100, (90, 99)),
        ("bytes=-1000", 100, (0, 99)),
        ("bytes=5-2", 100, None),
        ("items=0-5", 100, None),
        ("bytes=a-b", 100, None),
        ("bytes=-", 100, None),
    ],
)
def test_parse_range(header: str | None, size: int, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, size) == expected


@pytest.mark.parametrize(
    ("header", "size"),
    [
        ("bytes=100-", 100),
        ("bytes=-0", 100),
        ("bytes=" + "1" * 19 + "-", 100),
        ("bytes=0-" + "1" * 19, 100),
        ("bytes=-" + "1" * 19, 100),
    ],
)
def test_parse_range_unsatisfiable(header: str, size: int) -> None:
    with pytest.raises(Unsatisfiable):
        parse_range(header, size)


def test_signed_url_shape_and_verification(settings: Settings) -> None:
    now = utcnow()
    media_id = "6f1c1f0e-1d7a-4d7c-9a51-0f3b7f0c2a11"
    url = signed_url(settings, media_id, "original", now)
    match = re.fullmatch(
        rf"http://127\.0\.0\.1:8000/media/files/{media_id}/original"
        r"\?expires=(\d+)&signature=([0-9a-f]{64})",
        url,
    )
    assert match is not None
    expires, signature = match.groups()
    assert int(expires) == int((now + URL_LIFETIME).timestamp())
    assert verify(settings, media_id, "original", expires, signature, now) == int(expires)
    assert verify(settings, media_id, "thumbnail", expires, signature, now) is None
    later = now + URL_LIFETIME
    assert verify(settings, media_id, "original", expires, signature, later) is None
    other_secret = dataclasses.replace(settings, secret_key=b"\x01" * 32)
    assert verify(other_secret, media_id, "original", expires, signature, now) is None

    public = dataclasses.replace(settings, public_base_url="https://media.example.com/pp")
    assert signed_url(public, media_id, "thumbnail", now).startswith(
        f"https://media.example.com/pp/media/files/{media_id}/thumbnail?expires="
    )
    with pytest.raises(ValueError, match="variant"):
        signed_url(settings, media_id, "poster", now)  # type: ignore[arg-type]


@pytest.mark.multiprocess
def test_urls_from_a_server_on_another_port_reach_that_server(env: dict[str, str]) -> None:
    """`serve --port N` must hand out URLs on port N, not the default 8000."""
    cli_json(env, "accounts", "create", "--email", "port@example.com")
    key = cli_json(env, "keys", "create", "--email", "port@example.com", "--name", "p")
    (workspace,) = cli_json(env, "workspaces", "list", "--email", "port@example.com")["data"]
    port = free_port()
    with running_server(env, port=port) as base:
        uploaded = httpx.post(
            f"{base}/api/v1/media/upload",
            headers={"x-api-key": key["key"], "X-Workspace-Id": workspace["id"]},
            files={"file": ("a.png", image_bytes(), "image/png")},
            data={"type": "image"},
            timeout=30,
        )
        assert uploaded.status_code == 200, uploaded.text
        for field in ("url", "thumbnail_url"):
            url = uploaded.json()[field]
            assert url.startswith(f"http://127.0.0.1:{port}/media/files/"), url
            assert httpx.get(url, timeout=30).status_code == 200

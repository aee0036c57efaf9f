"""POST /api/v1/media/upload through the HTTP layer: formats, rejections, limits, quota."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image
from sqlalchemy import select
from tests.fixtures.factories import Factory, headers
from tests.media.support import (
    PE_BYTES,
    CountingStream,
    api_client,
    assert_nothing_left,
    files_under,
    image_bytes,
    media_rows,
    multipart_parts,
    new_boundary,
    post_stream,
    set_quota,
    storage_used,
)

from powerpost.media import service
from powerpost.models import Media

MB = 1024 * 1024


async def _row(app: FastAPI, media_id: str) -> Media:
    async with app.state.db.read() as session:
        media = await session.scalar(select(Media).where(Media.id == media_id))
    assert media is not None
    return media


# --- every accepted format ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")],
)
async def test_each_image_format_uploads_with_its_facts(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, fmt: str, mime: str
) -> None:
    api = await api_client(client, factory)
    content = image_bytes(fmt, (300, 200), "navy")
    response = await api.upload(content, "image", "holiday photo.dat")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "image"
    assert body["mime_type"] == mime
    assert body["file_name"] == "holiday photo.dat"
    assert body["file_size"] == len(content)
    assert (body["width"], body["height"]) == (300, 200)
    assert body["duration"] is None
    assert body["created_at"].endswith("Z")
    assert body["url"].startswith("http://127.0.0.1:8000/media/files/")

    row = await _row(app, body["media_id"])
    assert row.workspace_id == api.tenant.workspace_id
    assert row.origin == "upload"
    assert row.kind == "image"
    assert row.dominant_colors
    assert all(c.startswith("#") for c in row.dominant_colors)
    assert row.thumbnail_width is not None
    assert row.thumbnail_width <= 480
    assert await storage_used(app, api.tenant.account_id) == len(content)
    # The stored original is byte-identical; the thumbnail is a JPEG; no scratch file left.
    media_root: Path = app.state.settings.data_dir / "media"
    assert (media_root / row.storage_key).read_bytes() == content
    assert row.thumbnail_key is not None
    with Image.open(media_root / row.thumbnail_key) as thumb:
        assert thumb.format == "JPEG"
        assert thumb.size == (row.thumbnail_width, row.thumbnail_height)
    assert files_under(app.state.settings.data_dir / "tmp") == []


@pytest.mark.parametrize(
    ("sample", "mime", "has_audio"),
    [
        ("mp4", "video/mp4", True),
        ("mov", "video/quicktime", True),
        ("webm-vp9", "video/webm", True),
    ],
)
async def test_each_video_format_uploads_with_its_facts(
    app: FastAPI,
    client: httpx.AsyncClient,
    factory: Factory,
    videos: dict[str, Path],
    sample: str,
    mime: str,
    has_audio: bool,
) -> None:
    api = await api_client(client, factory)
    content = videos[sample].read_bytes()
    response = await api.upload(content, "video", f"clip-{sample}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "video"
    assert body["mime_type"] == mime
    assert body["file_size"] == len(content)
    assert (body["width"], body["height"]) == (320, 240)
    assert body["duration"] == pytest.approx(2.0, abs=0.15)
    assert body["thumbnail_url"]
    row = await _row(app, body["media_id"])
    assert row.has_audio is has_audio
    assert await storage_used(app, api.tenant.account_id) == len(content)
    fetched = await client.get(body["url"].removeprefix("http://127.0.0.1:8000"))
    assert fetched.status_code == 200
    assert fetched.content == content
    assert fetched.headers["content-type"] == mime


async def test_the_file_name_is_sanitised(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    api = await api_client(client, factory)
    response = await api.upload(image_bytes(), "image", "..\\..\\etc/evil\u202egnp.png")
    assert response.status_code == 200, response.text
    assert response.json()["file_name"] == "evilgnp.png"
    long_name = "x" * 400 + ".png"
    response = await api.upload(image_bytes(), "image", long_name)
    assert response.json()["file_name"] == "x" * 251 + ".png"


async def test_type_may_come_after_the_file(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    api = await api_client(client, factory)
    boundary = new_boundary()
    body = multipart_parts(
        [("note", None, b"ignored"), ("file", "a.png", image_bytes()), ("type", None, b"image")],
        boundary,
    )
    response = await post_stream(client, body, boundary, api.headers)
    assert response.status_code == 200, response.text
    assert response.json()["mime_type"] == "image/png"


# --- rejected bytes leave nothing behind ----------------------------------------------------


def _truncated_jpeg() -> bytes:
    whole = image_bytes("JPEG", (400, 300))
    return whole[: len(whole) // 2]


@pytest.mark.parametrize(
    ("make", "kind", "name", "message"),
    [
        (lambda: b"", "image", "empty.png", "empty"),
        (_truncated_jpeg, "image", "cut.jpg", "truncated or corrupt"),
        (lambda: PE_BYTES, "image", "innocent.png", "not a JPEG, PNG or WebP"),
        (lambda: image_bytes("PNG"), "video", "movie.mp4", "type 'video'"),
        (lambda: b"GIF89a" + b"\x00" * 100, "image", "anim.gif", "not a JPEG, PNG or WebP"),
    ],
    ids=["empty", "truncated-jpeg", "pe-named-png", "png-as-video", "gif"],
)
async def test_rejected_bytes_leave_no_file_row_or_quota(
    app: FastAPI,
    client: httpx.AsyncClient,
    factory: Factory,
    make: Any,
    kind: str,
    name: str,
    message: str,
) -> None:
    api = await api_client(client, factory)
    response = await api.upload(make(), kind, name)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert message in error["message"]
    await assert_nothing_left(app, api.tenant.account_id)


async def test_an_image_just_over_10_mb_is_refused_while_streaming(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    api = await api_client(client, factory)
    boundary = new_boundary()
    stream = CountingStream(12 * MB)
    body = multipart_parts([("type", None, b"image"), ("file", "big.jpg", stream)], boundary)
    response = await post_stream(client, body, boundary, api.headers)
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "FILE_TOO_LARGE"
    # Refused as soon as byte 10 MB + 1 arrived, not after the whole body.
    assert 10 * MB < stream.sent <= 10 * MB + 2 * stream.chunk
    await assert_nothing_left(app, api.tenant.account_id)


async def test_an_image_over_10_mb_sent_before_its_type_is_refused(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    api = await api_client(client, factory)
    boundary = new_boundary()
    stream = CountingStream(10 * MB + 1)
    body = multipart_parts([("file", "big.jpg", stream), ("type", None, b"image")], boundary)
    response = await post_stream(client, body, boundary, api.headers)
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "FILE_TOO_LARGE"
    await assert_nothing_left(app, api.tenant.account_id)


async def test_an_image_of_exactly_10_mb_passes_the_size_check(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    api = await api_client(client, factory)
    boundary = new_boundary()
    stream = CountingStream(10 * MB, fill=b"\x89PNG\r\n\x1a\n")
    body = multipart_parts([("type", None, b"image"), ("file", "big.png", stream)], boundary)
    response = await post_stream(client, body, boundary, api.headers)
    # Not too large: judged by its bytes instead (garbage after a PNG signature).
    assert response.status_code == 400, response.text
    await assert_nothing_left(app, api.tenant.account_id)


@pytest.mark.parametrize("type_first", [True, False])
async def test_an_oversize_video_is_refused(
    app: FastAPI,
    client: httpx.AsyncClient,
    factory: Factory,
    monkeypatch: pytest.MonkeyPatch,
    type_first: bool,
) -> None:
    monkeypatch.setitem(service.MAX_BYTES, "video", 1 * MB)
    api = await api_client(client, factory)
    boundary = new_boundary()
    stream = CountingStream(3 * MB, fill=b"\x00\x00\x00\x18ftypisom")
    parts: list[tuple[str, str | None, Any]] = [("file", "long.mp4", stream)]
    parts.insert(0 if type_first else 1, ("type", None, b"video"))
    response = await post_stream(client, multipart_parts(parts, boundary), boundary, api.headers)
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["code"] == "FILE_TOO_LARGE"
    assert "1 MB" in error["message"]
    if type_first:
        assert stream.sent <= 1 * MB + 2 * stream.chunk
    else:
        # Until the type is known the larger (image) limit applies; re-checked at the end.
        assert stream.sent == 3 * MB
    await assert_nothing_left(app, api.tenant.account_id)


# --- malformed forms ------------------------------------------------------------------------


async def test_form_errors_are_400(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    api = await api_client(client, factory)
    png = image_bytes()

    async def send(parts: list[tuple[str, str | None, bytes]]) -> httpx.Response:
        boundary = new_boundary()
        return await post_stream(client, multipart_parts(parts, boundary), boundary, api.headers)

    cases: dict[str, httpx.Response] = {
        "no file": await send([("type", None, b"image")]),
        "no type": await send([("file", "a.png", png)]),
        "unknown type": await send([("type", None, b"audio"), ("file", "a.png", png)]),
        "type after, unknown": await send([("file", "a.png", png), ("type", None, b"gif")]),
        "two files": await send(
            [("type", None, b"image"), ("file", "a.png", png), ("file", "b.png", png)]
        ),
        "two types": await send(
            [("type", None, b"image"), ("type", None, b"video"), ("file", "a.png", png)]
        ),
        "json": await client.post(
            "/api/v1/media/upload", headers=api.headers, json={"file": "x", "type": "image"}
        ),
        "no boundary": await client.post(
            "/api/v1/media/upload",
            headers={**api.headers, "content-type": "multipart/form-data"},
            content=b"--x\r\n",
        ),
    }
    boundary = new_boundary()
    cut = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="type"\r\n\r\nimage\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n'
    ).encode() + png[:50]
    cases["incomplete body"] = await client.post(
        "/api/v1/media/upload",
        headers={**api.headers, "content-type": f"multipart/form-data; boundary={boundary}"},
        content=cut,
    )
    for label, response in cases.items():
        assert response.status_code == 400, (label, response.text)
        assert response.json()["error"]["code"] == "VALIDATION_ERROR", label
    await assert_nothing_left(app, api.tenant.account_id)


# --- authentication before the body ---------------------------------------------------------


async def test_an_unauthenticated_20_mb_upload_is_refused_before_the_body_is_read(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.account()
    boundary = new_boundary()
    stream = CountingStream(20 * MB)
    body = multipart_parts([("type", None, b"image"), ("file", "big.jpg", stream)], boundary)
    response = await post_stream(client, body, boundary, {"X-Workspace-Id": tenant.workspace_id})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_API_KEY"
    assert stream.sent == 0
    # A key without media:write is stopped just as early (403), also before the body.
    _, secret = await factory.key(tenant, scopes=["content:read"])
    stream = CountingStream(20 * MB)
    body = multipart_parts([("type", None, b"image"), ("file", "big.jpg", stream)], boundary)
    response = await post_stream(client, body, boundary, headers(secret, tenant.workspace_id))
    assert response.status_code == 403
    assert response.json()["error"] == {
        "message": "This API key lacks the 'media:write' scope",
        "code": "INSUFFICIENT_SCOPE",
        "required_scope": "media:write",
    }
    assert stream.sent == 0
    assert files_under(app.state.settings.data_dir / "tmp") == []


async def test_another_accounts_workspace_is_forbidden(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    api = await api_client(client, factory)
    other = await factory.account()
    response = await client.post(
        "/api/v1/media/upload",
        headers=headers(api.secret, other.workspace_id),
        files={"file": ("a.png", image_bytes())},
        data={"type": "image"},
    )
    assert response.status_code == 403
    assert await media_rows(app, other.account_id) == 0


# --- quota ----------------------------------------------------------------------------------


async def test_an_upload_over_the_quota_is_413_and_leaves_nothing(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    api = await api_client(client, factory)
    content = image_bytes("PNG", (120, 90))
    await set_quota(app, api.tenant.account_id, len(content) - 1)
    response = await api.upload(content, "image", "a.png")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "STORAGE_QUOTA_EXCEEDED"
    await assert_nothing_left(app, api.tenant.account_id)
    # Exactly at the quota is allowed.
    await set_quota(app, api.tenant.account_id, len(content))
    response = await api.upload(content, "image", "a.png")
    assert response.status_code == 200
    assert await storage_used(app, api.tenant.account_id) == len(content)


async def test_parallel_uploads_near_the_quota_reserve_exactly(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    api = await api_client(client, factory)
    content = image_bytes("PNG", (160, 120))
    size = len(content)
    await set_quota(app, api.tenant.account_id, 3 * size + size - 1)
    responses = await asyncio.gather(*(api.upload(content, "image", f"{i}.png") for i in range(6)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 200, 200, 413, 413, 413], [r.text for r in responses]
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 413} == {
        "STORAGE_QUOTA_EXCEEDED"
    }
    assert await storage_used(app, api.tenant.account_id) == 3 * size
    assert await media_rows(app, api.tenant.account_id) == 3
    stored = files_under(app.state.settings.data_dir / "media")
    assert len(stored) == 6  # three originals and their thumbnails
    assert files_under(app.state.settings.data_dir / "tmp") == []


async def test_a_storage_failure_after_the_reservation_gives_it_back(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = await api_client(client, factory)
    storage = app.state.storage
    real_put = storage.put_file
    calls: list[str] = []

    async def failing_put(key: str, source: Path, content_type: str) -> None:
        calls.append(key)
        if key.endswith("thumbnail.jpg"):
            raise OSError("disk full")
        await real_put(key, source, content_type)

    monkeypatch.setattr(storage, "put_file", failing_put)
    response = await api.upload(image_bytes(), "image", "a.png")
    assert response.status_code == 500
    assert len(calls) == 2  # the original was written, then removed again
    await assert_nothing_left(app, api.tenant.account_id)


async def test_the_openapi_document_describes_the_multipart_body(
    client: httpx.AsyncClient,
) -> None:
    doc = (await client.get("/api/v1/openapi.json")).json()
    operation = doc["paths"]["/api/v1/media/upload"]["post"]
    assert operation["operationId"] == "uploadMedia"
    schema = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert schema["required"] == ["file", "type"]
    assert "413" in operation["responses"]
    assert json.dumps(doc).count("/media/files/") == 0


def test_png_fixture_is_a_real_png() -> None:
    with Image.open(io.BytesIO(image_bytes())) as im:
        assert im.format == "PNG"

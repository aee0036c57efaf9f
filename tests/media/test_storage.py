"""Storage backends: the local directory and S3 (against moto's real S3 server on loopback)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

import boto3
import httpx
import pytest
from fastapi import FastAPI
from moto.server import ThreadedMotoServer
from tests.fixtures.factories import Factory
from tests.media.support import PE_BYTES, api_client, files_under, image_bytes, storage_used

from powerpost.app import create_app
from powerpost.config import ConfigError, load_settings
from powerpost.media.service import delete_media, get_workspace_media, open_local
from powerpost.media.storage import (
    LocalStorage,
    ObjectNotFound,
    S3Storage,
    Storage,
    check_key,
    open_storage,
)

BUCKET = "powerpost-media"
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A real S3-compatible HTTP server (moto) on loopback, with one bucket."""
    with pytest.MonkeyPatch.context() as mp:
        for name, value in AWS_ENV.items():
            mp.setenv(name, value)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        admin = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        admin.create_bucket(Bucket=BUCKET)
        admin.close()
        try:
            yield endpoint
        finally:
            server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)


def _bucket_keys(endpoint: str, prefix: str) -> list[str]:
    admin = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    try:
        listed = admin.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
        return sorted(obj["Key"] for obj in listed.get("Contents", []))
    finally:
        admin.close()


@pytest.fixture(params=["local", "s3"])
async def backend(
    request: pytest.FixtureRequest, tmp_path: Path, aws_env: None
) -> AsyncIterator[Storage]:
    if request.param == "local":
        storage: Storage = LocalStorage(tmp_path / "media", tmp_path / "tmp")
    else:
        endpoint = request.getfixturevalue("s3_endpoint")
        prefix = f"unit-{tmp_path.name}"
        storage = open_storage(
            f"s3://{BUCKET}/{prefix}?endpoint_url={quote(endpoint)}&region=us-east-1",
            tmp_path / "tmp",
        )
    try:
        yield storage
    finally:
        await storage.aclose()


# --- the backend contract, run against both ---------------------------------------------------


async def test_put_get_size_exists_delete(backend: Storage, tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    payload = bytes(range(256)) * 4096  # 1 MiB, several read chunks
    source.write_bytes(payload)
    await backend.put_file("a/b/original.bin", source, "application/octet-stream")
    assert source.read_bytes() == payload  # the source is left in place
    await backend.put_bytes("a/b/thumbnail.jpg", b"thumb", "image/jpeg")

    assert await backend.exists("a/b/original.bin")
    assert await backend.size("a/b/original.bin") == len(payload)
    assert await backend.get_bytes("a/b/thumbnail.jpg") == b"thumb"
    assert await backend.size("a/b/missing") is None
    assert not await backend.exists("a/b/missing")
    with pytest.raises(ObjectNotFound):
        await backend.get_bytes("a/b/missing")

    chunks = [c async for c in backend.iter_range("a/b/original.bin", 1000, 600_000)]
    assert b"".join(chunks) == payload[1000:601_000]
    assert len(chunks) > 1
    whole = b"".join([c async for c in backend.iter_range("a/b/original.bin", 0, len(payload))])
    assert whole == payload

    async with backend.local_file("a/b/original.bin") as local:
        assert local.read_bytes() == payload
    if isinstance(backend, S3Storage):
        assert not local.exists()  # the temporary download is gone
    with pytest.raises(ObjectNotFound):
        async with backend.local_file("a/b/missing.bin"):
            pass

    await backend.delete("a/b/original.bin")
    await backend.delete("a/b/original.bin")  # idempotent
    assert not await backend.exists("a/b/original.bin")
    assert await backend.exists("a/b/thumbnail.jpg")
    await backend.delete("a/b/thumbnail.jpg")
    assert files_under(tmp_path / "tmp") == []


async def test_list_objects_pages_through_everything(backend: Storage) -> None:
    from powerpost.media import storage as storage_module

    # Small pages, so the listing has to go round several times.
    storage_module.LIST_PAGE, saved = 3, storage_module.LIST_PAGE
    try:
        keys = [f"acc/ws/m{i}/original.bin" for i in range(7)]
        for i, key in enumerate(keys):
            await backend.put_bytes(key, b"x" * i, "application/octet-stream")
        before = datetime.now(UTC) - timedelta(minutes=5)
        listed = [item async for item in backend.list_objects()]
    finally:
        storage_module.LIST_PAGE = saved
    assert sorted(item.key for item in listed) == sorted(keys)
    assert {item.key: item.size for item in listed} == {k: i for i, k in enumerate(keys)}
    assert all(item.modified_at > before for item in listed)
    await backend.remove_listed(keys[0])
    assert not await backend.exists(keys[0])
    with pytest.raises(ValueError, match="invalid storage key"):
        await backend.remove_listed("acc/../../etc/passwd")


@pytest.mark.parametrize(
    "key", ["", "/etc/passwd", "../x", "a/../../x", "a//b", "a\\b", ".hidden", "a/b/", "a b"]
)
async def test_keys_are_validated(backend: Storage, key: str) -> None:
    with pytest.raises(ValueError, match="invalid storage key"):
        await backend.put_bytes(key, b"x", "text/plain")


def test_check_key_accepts_generated_keys() -> None:
    key = "6f1c1f0e-1d7a-4d7c-9a51-0f3b7f0c2a11/ws/m/original.mp4"
    assert check_key(key) == key


async def test_local_delete_removes_empty_directories(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "media", tmp_path / "tmp")
    await storage.put_bytes("acct/ws/m1/original.png", b"1", "image/png")
    await storage.put_bytes("acct/ws/m2/original.png", b"2", "image/png")
    await storage.delete("acct/ws/m1/original.png")
    assert not (tmp_path / "media/acct/ws/m1").exists()
    assert (tmp_path / "media/acct/ws/m2/original.png").exists()
    await storage.delete("acct/ws/m2/original.png")
    assert list((tmp_path / "media").iterdir()) == []


# --- selection by URL -----------------------------------------------------------------------


def test_open_storage_by_url(tmp_path: Path) -> None:
    local = open_storage(str(tmp_path / "m"), tmp_path / "tmp")
    assert isinstance(local, LocalStorage)
    assert local.root == (tmp_path / "m").resolve()
    assert isinstance(open_storage(f"file://{tmp_path}/x", tmp_path), LocalStorage)
    s3 = open_storage(
        "s3://bucket/some/prefix/?endpoint_url=http://127.0.0.1:9000&region=eu-west-1", tmp_path
    )
    assert isinstance(s3, S3Storage)
    assert (s3.bucket, s3.prefix, s3.endpoint_url, s3.region) == (
        "bucket",
        "some/prefix",
        "http://127.0.0.1:9000",
        "eu-west-1",
    )
    assert s3.object_key("a/b.png") == "some/prefix/a/b.png"
    bare = open_storage("s3://bucket", tmp_path)
    assert isinstance(bare, S3Storage)
    assert bare.object_key("k") == "k"
    for bad in (
        "ftp://host/x",
        "s3:///prefix",
        "s3://b/p?secret=1",
        "s3://b/p?endpoint_url=127.0.0.1:9000",
    ):
        with pytest.raises(ConfigError):
            open_storage(bad, tmp_path)


def test_settings_for_storage_and_public_urls(tmp_path: Path) -> None:
    base = {"POWERPOST_DATA_DIR": str(tmp_path), "POWERPOST_SECRET_KEY": "33" * 32}
    settings = load_settings(base)
    assert settings.storage_url == str(tmp_path.resolve() / "media")
    assert settings.public_base_url is None
    settings = load_settings(
        {
            **base,
            "POWERPOST_STORAGE_URL": "s3://b/p?region=us-east-1",
            "POWERPOST_PUBLIC_BASE_URL": "https://posts.example.com/",
        }
    )
    assert settings.storage_url == "s3://b/p?region=us-east-1"
    assert settings.public_base_url == "https://posts.example.com"
    for name, bad in (
        ("POWERPOST_STORAGE_URL", "gs://bucket"),
        ("POWERPOST_STORAGE_URL", "s3://"),
        ("POWERPOST_PUBLIC_BASE_URL", "posts.example.com"),
        ("POWERPOST_PUBLIC_BASE_URL", "https://x.example/?a=1"),
    ):
        with pytest.raises(ConfigError, match=name):
            load_settings({**base, name: bad})


# --- the whole upload path on S3 ------------------------------------------------------------


@pytest.fixture
async def s3_app(
    env: dict[str, str], s3_endpoint: str, aws_env: None, tmp_path: Path
) -> AsyncIterator[tuple[FastAPI, str]]:
    prefix = f"e2e-{tmp_path.name}"
    url = f"s3://{BUCKET}/{prefix}?endpoint_url={quote(s3_endpoint)}&region=us-east-1"
    application = create_app(load_settings({**env, "POWERPOST_STORAGE_URL": url}))
    await application.state.limiter.reset()
    async with application.router.lifespan_context(application):
        yield application, prefix


async def test_upload_serve_process_and_delete_on_s3(
    s3_app: tuple[FastAPI, str], s3_endpoint: str, videos: dict[str, Path]
) -> None:
    app, prefix = s3_app
    assert isinstance(app.state.storage, S3Storage)
    factory = Factory(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        api = await api_client(client, factory)
        content = videos["mp4"].read_bytes()
        response = await api.upload(content, "video", "clip.mp4")
        assert response.status_code == 200, response.text
        body = response.json()
        media_id = body["media_id"]

        keys = _bucket_keys(s3_endpoint, prefix)
        assert [k.rsplit("/", 1)[1] for k in keys] == ["original.mp4", "thumbnail.jpg"]
        assert all(media_id in k for k in keys)
        # Nothing landed on local disk: neither the media dir nor leftover scratch files.
        data_dir: Path = app.state.settings.data_dir
        assert files_under(data_dir / "media") == []
        assert files_under(data_dir / "tmp") == []

        url = urlsplit(body["url"])
        fetched = await client.get(f"{url.path}?{url.query}")
        assert fetched.status_code == 200
        assert fetched.content == content
        ranged = await client.get(f"{url.path}?{url.query}", headers={"Range": "bytes=10-19"})
        assert ranged.status_code == 206
        assert ranged.content == content[10:20]

        async with app.state.db.read() as session:
            (media,) = await get_workspace_media(
                session, api.tenant.workspace_id, "live", [media_id]
            )
        async with open_local(app.state.storage, media) as local:
            assert local.read_bytes() == content
            assert local.parent == data_dir / "tmp"
        assert not local.exists()

        # A rejected upload writes nothing to the bucket.
        rejected = await api.upload(PE_BYTES, "image", "x.png")
        assert rejected.status_code == 400
        assert len(_bucket_keys(s3_endpoint, prefix)) == 2

        async with app.state.db.write() as session:
            await delete_media(
                session,
                app.state.storage,
                api.tenant.account_id,
                api.tenant.workspace_id,
                None,
                media_id,
            )
        assert _bucket_keys(s3_endpoint, prefix) == []
        assert await storage_used(app, api.tenant.account_id) == 0
        assert (await client.get(f"{url.path}?{url.query}")).status_code == 404

        image = image_bytes("JPEG", (80, 80))
        response = await api.upload(image, "image", "p.jpg")
        assert response.status_code == 200
        assert await storage_used(app, api.tenant.account_id) == len(image)


def test_moto_is_not_mocking_in_process(s3_endpoint: str) -> None:
    # The backend talks HTTP to a real server: a plain HTTP request reaches it.
    response = httpx.get(f"{s3_endpoint}/{BUCKET}", timeout=5)
    assert response.status_code == 200
    assert "ListBucketResult" in response.text

"""Where media bytes live: a local directory (the embedded default) or S3-compatible storage.

Both backends speak in keys such as ``<account>/<workspace>/<media>/original.jpg`` that
this project generates; a key is never taken from a client. Every call is async: the local
backend does its file work in a thread and the S3 backend runs boto3 (which is blocking)
in one. A backend also owns the scratch directory (``tmp_dir``) where uploads are spooled
and remote objects are downloaded for processing.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import re
import shutil
import tempfile
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator, MutableMapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from powerpost.config import ConfigError, Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = [
    "LocalStorage",
    "ObjectNotFound",
    "S3Storage",
    "Storage",
    "StoredObject",
    "open_storage",
    "storage_for",
]

log = logging.getLogger("powerpost.media.storage")

CHUNK_SIZE = 256 * 1024
LIST_PAGE = 1000
_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")


class ObjectNotFound(LookupError):
    """No object is stored under the key."""


@dataclass(frozen=True)
class StoredObject:
    """One object as a listing sees it. ``key`` is relative to the storage root and may be
    a leftover a crashed write never renamed into place (see `Storage.remove_listed`)."""

    key: str
    size: int
    modified_at: datetime


def check_key(key: str) -> str:
    # Keys are generated here, so anything unusual is a bug; refusing ".." and absolute
    # paths also guarantees that a key can never point outside the storage root.
    if len(key) > 512 or not _KEY_RE.match(key) or ".." in key.split("/"):
        raise ValueError(f"invalid storage key {key!r}")
    return key


class Storage(ABC):
    """The operations media needs from a storage backend."""

    def __init__(self, tmp_dir: Path) -> None:
        self.tmp_dir = tmp_dir

    @abstractmethod
    async def put_file(self, key: str, source: Path, content_type: str) -> None:
        """Store a copy of the local file ``source``; ``source`` itself is left in place."""

    @abstractmethod
    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None: ...

    @abstractmethod
    async def get_bytes(self, key: str) -> bytes:
        """The whole object (meant for small ones); `ObjectNotFound` if absent."""

    @abstractmethod
    async def size(self, key: str) -> int | None:
        """The object's size in bytes, or None when it does not exist."""

    async def exists(self, key: str) -> bool:
        return await self.size(key) is not None

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Remove the object; deleting an absent key is not an error."""

    @abstractmethod
    def iter_range(self, key: str, start: int, length: int) -> AsyncIterator[bytes]:
        """``length`` bytes from offset ``start``, in chunks; `ObjectNotFound` if absent."""

    @abstractmethod
    def local_file(self, key: str) -> AbstractAsyncContextManager[Path]:
        """A readable local path holding the object, for as long as the context lasts."""

    @abstractmethod
    def list_objects(self) -> AsyncIterator[StoredObject]:
        """Every object under the root, a page at a time, in no particular order."""

    async def remove_listed(self, key: str) -> None:
        """Delete an object a listing returned (leftovers included)."""
        await self.delete(key)

    async def aclose(self) -> None:
        return None

    def new_temp_path(self, suffix: str = "") -> Path:
        """A fresh, empty file under ``tmp_dir`` (created 0600); the caller deletes it."""
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.tmp_dir, prefix="pp-", suffix=suffix)
        os.close(fd)
        return Path(name)


# --- local directory ------------------------------------------------------------------------


class LocalStorage(Storage):
    def __init__(self, root: Path, tmp_dir: Path) -> None:
        super().__init__(tmp_dir)
        self.root = root.resolve()

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def path_for(self, key: str) -> Path:
        return self.root / check_key(key)

    async def put_file(self, key: str, source: Path, content_type: str) -> None:
        await asyncio.to_thread(self._put_file, self.path_for(key), source)

    def _put_file(self, dest: Path, source: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.part")
        try:
            try:
                # A hard link makes storing a 500 MB upload instant when the scratch
                # directory shares the file system with the media root (the default).
                os.link(source, tmp)
            except OSError as exc:
                if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                    raise
                shutil.copyfile(source, tmp)
            # Readers never see a half-written object.
            os.replace(tmp, dest)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._put_bytes, self.path_for(key), data)

    def _put_bytes(self, dest: Path, data: bytes) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp_name, dest)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise

    async def get_bytes(self, key: str) -> bytes:
        path = self.path_for(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise ObjectNotFound(key) from None

    async def size(self, key: str) -> int | None:
        path = self.path_for(key)
        try:
            stat = await asyncio.to_thread(path.stat)
        except FileNotFoundError:
            return None
        return stat.st_size

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._delete, self.path_for(key))

    def _delete(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        # Drop the now-empty per-media and per-workspace directories, never the root.
        parent = path.parent
        while parent != self.root and self.root in parent.parents:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent

    async def iter_range(self, key: str, start: int, length: int) -> AsyncIterator[bytes]:
        path = self.path_for(key)
        try:
            fh = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            raise ObjectNotFound(key) from None
        try:
            await asyncio.to_thread(fh.seek, start)
            remaining = length
            while remaining > 0:
                chunk = await asyncio.to_thread(fh.read, min(CHUNK_SIZE, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk
        finally:
            await asyncio.to_thread(fh.close)

    @asynccontextmanager
    async def local_file(self, key: str) -> AsyncIterator[Path]:
        path = self.path_for(key)
        if not await asyncio.to_thread(path.is_file):
            raise ObjectNotFound(key)
        # The stored file itself: callers only read it.
        yield path

    async def list_objects(self) -> AsyncIterator[StoredObject]:
        walk = self._walk()
        while True:
            page = await asyncio.to_thread(_take, walk, LIST_PAGE)
            for item in page:
                yield item
            if len(page) < LIST_PAGE:
                return

    def _walk(self) -> Iterator[StoredObject]:
        for folder, _dirs, files in os.walk(self.root):
            for name in files:
                path = Path(folder) / name
                try:
                    stat = path.stat()
                except FileNotFoundError:
                    continue  # deleted while we walked
                yield StoredObject(
                    key=path.relative_to(self.root).as_posix(),
                    size=stat.st_size,
                    modified_at=datetime.fromtimestamp(stat.st_mtime, UTC),
                )

    async def remove_listed(self, key: str) -> None:
        # A crashed put leaves ".<name>.<hex>.part", which `check_key` (rightly) refuses
        # for normal use; the folders above it must still be valid keys.
        folder, _, name = key.rpartition("/")
        if not name or name in (".", "..") or "/" in name:
            raise ValueError(f"invalid listed key {key!r}")
        base = self.root / check_key(folder) if folder else self.root
        await asyncio.to_thread(self._delete, base / name)


# --- S3-compatible --------------------------------------------------------------------------


class S3Storage(Storage):
    """Any S3-compatible service (AWS, MinIO, Garage, R2…); credentials come from the usual
    AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY environment (or boto3's other sources)."""

    def __init__(
        self,
        bucket: str,
        prefix: str,
        tmp_dir: Path,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
    ) -> None:
        super().__init__(tmp_dir)
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url
        self.region = region
        self._client: S3Client | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"S3Storage(s3://{self.bucket}/{self.prefix}{where})"

    @property
    def client(self) -> S3Client:
        # Built on first use: creating a boto3 client costs tens of milliseconds and most
        # processes (CLI commands, tests) never touch storage. Clients are thread-safe.
        with self._lock:
            if self._client is None:
                import boto3
                from botocore.config import Config

                config = Config(
                    # Self-hosted S3 servers rarely have wildcard DNS for bucket subdomains.
                    s3={"addressing_style": "path" if self.endpoint_url else "auto"},
                    retries={"max_attempts": 5, "mode": "standard"},
                    connect_timeout=10,
                    read_timeout=60,
                )
                self._client = boto3.client(
                    "s3", endpoint_url=self.endpoint_url, region_name=self.region, config=config
                )
            return self._client

    def object_key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    async def put_file(self, key: str, source: Path, content_type: str) -> None:
        name = self.object_key(key)
        await asyncio.to_thread(
            self.client.upload_file,
            str(source),
            self.bucket,
            name,
            ExtraArgs={"ContentType": content_type},
        )

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        name = self.object_key(key)
        await asyncio.to_thread(
            self.client.put_object,
            Bucket=self.bucket,
            Key=name,
            Body=data,
            ContentType=content_type,
        )

    async def get_bytes(self, key: str) -> bytes:
        name = self.object_key(key)

        def fetch() -> bytes:
            try:
                response = self.client.get_object(Bucket=self.bucket, Key=name)
            except self.client.exceptions.NoSuchKey:
                raise ObjectNotFound(key) from None
            with response["Body"] as body:
                return body.read()

        return await asyncio.to_thread(fetch)

    async def size(self, key: str) -> int | None:
        name = self.object_key(key)

        def head() -> int | None:
            from botocore.exceptions import ClientError

            try:
                response = self.client.head_object(Bucket=self.bucket, Key=name)
            except ClientError as exc:
                if _is_not_found(exc):
                    return None
                raise
            return int(response["ContentLength"])

        return await asyncio.to_thread(head)

    async def delete(self, key: str) -> None:
        name = self.object_key(key)
        await asyncio.to_thread(self.client.delete_object, Bucket=self.bucket, Key=name)

    async def list_objects(self) -> AsyncIterator[StoredObject]:
        root = f"{self.prefix}/" if self.prefix else ""
        pages = iter(
            self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=root, PaginationConfig={"PageSize": LIST_PAGE}
            )
        )
        while True:
            page = await asyncio.to_thread(next, pages, None)
            if page is None:
                return
            for item in page.get("Contents", []):
                yield StoredObject(
                    key=item["Key"][len(root) :],
                    size=int(item["Size"]),
                    modified_at=item["LastModified"].astimezone(UTC),
                )

    async def iter_range(self, key: str, start: int, length: int) -> AsyncIterator[bytes]:
        if length <= 0:
            return
        name = self.object_key(key)

        def open_body() -> Any:
            try:
                response = self.client.get_object(
                    Bucket=self.bucket, Key=name, Range=f"bytes={start}-{start + length - 1}"
                )
            except self.client.exceptions.NoSuchKey:
                raise ObjectNotFound(key) from None
            return response["Body"]

        body = await asyncio.to_thread(open_body)
        try:
            remaining = length
            while remaining > 0:
                chunk: bytes = await asyncio.to_thread(body.read, min(CHUNK_SIZE, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk
        finally:
            await asyncio.to_thread(body.close)

    @asynccontextmanager
    async def local_file(self, key: str) -> AsyncIterator[Path]:
        name = self.object_key(key)
        suffix = Path(key).suffix
        target = await asyncio.to_thread(self.new_temp_path, suffix)
        try:

            def download() -> None:
                from botocore.exceptions import ClientError

                try:
                    self.client.download_file(self.bucket, name, str(target))
                except ClientError as exc:
                    if _is_not_found(exc):
                        raise ObjectNotFound(key) from None
                    raise

            await asyncio.to_thread(download)
            yield target
        finally:
            target.unlink(missing_ok=True)

    async def aclose(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            await asyncio.to_thread(client.close)


def _is_not_found(exc: Any) -> bool:
    error = getattr(exc, "response", {}).get("Error", {})
    return str(error.get("Code")) in ("404", "NoSuchKey", "NotFound")


# --- selection by URL -----------------------------------------------------------------------


def open_storage(url: str, tmp_dir: Path) -> Storage:
    """The backend a ``POWERPOST_STORAGE_URL`` names (a directory, file:// or s3://)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower() if "://" in url else ""
    if scheme == "":
        return LocalStorage(Path(url).expanduser(), tmp_dir)
    if scheme == "file":
        return LocalStorage(Path(unquote(parts.path)), tmp_dir)
    if scheme != "s3":
        raise ConfigError("POWERPOST_STORAGE_URL must be a directory, file:///dir or s3://bucket/…")
    if not parts.netloc:
        raise ConfigError("POWERPOST_STORAGE_URL names no bucket (s3://bucket/prefix)")
    options = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    unknown = set(options) - {"endpoint_url", "region", "region_name"}
    if unknown:
        raise ConfigError(
            f"POWERPOST_STORAGE_URL: unknown option(s) {', '.join(sorted(unknown))}; "
            "use endpoint_url and region"
        )
    endpoint = options.get("endpoint_url")
    if endpoint is not None and not endpoint.startswith(("http://", "https://")):
        raise ConfigError("POWERPOST_STORAGE_URL: endpoint_url must be an http(s):// URL")
    return S3Storage(
        parts.netloc,
        unquote(parts.path),
        tmp_dir,
        endpoint_url=endpoint,
        region=options.get("region") or options.get("region_name"),
    )


def _take(items: Iterator[StoredObject], count: int) -> list[StoredObject]:
    page: list[StoredObject] = []
    for item in items:
        page.append(item)
        if len(page) == count:
            break
    return page


def storage_for(settings: Settings) -> Storage:
    return open_storage(
        settings.storage_url or str(settings.data_dir / "media"), settings.data_dir / "tmp"
    )


# The key under which a worker keeps its storage backend in the jobs' shared state.
STORAGE_STATE = "media.storage"


def shared_storage(state: MutableMapping[str, Any], settings: Settings) -> Storage:
    """The process's storage backend, opened once and kept in `state` (a job context's
    per-process dict) so every job of every feature shares it."""
    storage = state.get(STORAGE_STATE)
    if not isinstance(storage, Storage):
        storage = storage_for(settings)
        state[STORAGE_STATE] = storage
    return storage

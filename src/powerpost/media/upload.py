"""Receive a multipart upload by streaming it to a scratch file, never into memory.

FastAPI's ``UploadFile``/``Form`` parameters would read (and spool) the whole body before
the route runs; here the route authorises first and then feeds the raw body, chunk by
chunk, to python-multipart's streaming parser. The file part goes to disk while its bytes
are counted, and the upload is refused with 413 the moment it passes the limit of its
declared type (the video limit while the type is still unknown, re-checked once it is).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal, get_args

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from powerpost.kit.errors import ValidationError
from powerpost.media import service
from powerpost.media.inspect import MediaKind

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

__all__ = ["ReceivedUpload", "receive_upload"]

# Bytes handed to the parser at a time, and buffered before one write to disk.
FEED_SIZE = 64 * 1024
FLUSH_SIZE = 1024 * 1024
MAX_TYPE_FIELD = 32
_KINDS: tuple[MediaKind, ...] = get_args(MediaKind)


@dataclass(frozen=True)
class ReceivedUpload:
    path: Path
    size: int
    declared: MediaKind
    file_name: str


def _boundary(request: Request) -> bytes:
    content_type, params = parse_options_header(request.headers.get("content-type"))
    if content_type != b"multipart/form-data":
        raise ValidationError("The upload must be sent as multipart/form-data")
    boundary = params.get(b"boundary", b"")
    if not 1 <= len(boundary) <= 200:
        raise ValidationError("The multipart/form-data body has no valid boundary")
    return boundary


def _disposition(raw: bytes) -> tuple[str | None, str | None]:
    """(field name, file name) of a part's Content-Disposition header."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    # email.message understands quoting and RFC 2231 (filename*=UTF-8''…), which
    # python-multipart's header parser drops.
    message = Message()
    message["content-disposition"] = text
    if message.get_content_disposition() != "form-data":
        return None, None
    name = message.get_param("name", header="content-disposition")
    file_name = message.get_filename()
    return (name if isinstance(name, str) else None), file_name


class _FormReader:
    """The parser's callbacks: a small state machine over the parts of one body."""

    def __init__(self, spool: Path) -> None:
        self.spool = spool
        self.handle: IO[bytes] | None = None
        self.header_name = bytearray()
        self.header_value = bytearray()
        self.disposition = b""
        self.role: Literal["file", "type", "skip"] = "skip"
        self.file_seen = False
        self.file_done = False
        self.file_name: str | None = None
        self.size = 0
        self.pending = bytearray()
        self.type_value = bytearray()
        self.type_seen = False
        self.declared: MediaKind | None = None
        self.finished = False

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_end": self.on_end,
        }

    def limit(self) -> int:
        if self.declared is not None:
            return service.MAX_BYTES[self.declared]
        return max(service.MAX_BYTES.values())

    def on_part_begin(self) -> None:
        self.disposition = b""
        self.role = "skip"

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        if bytes(self.header_name).strip().lower() == b"content-disposition":
            self.disposition = bytes(self.header_value).strip()
        self.header_name.clear()
        self.header_value.clear()

    def on_headers_finished(self) -> None:
        name, file_name = _disposition(self.disposition)
        if name is None:
            raise ValidationError("Every multipart part needs a form-data name")
        if name == "file":
            if self.file_seen:
                raise ValidationError("Send exactly one file per upload")
            self.file_seen = True
            self.file_name = file_name
            self.role = "file"
        elif name == "type":
            if self.type_seen:
                raise ValidationError("Send the 'type' field once")
            self.type_seen = True
            self.role = "type"
        else:
            # Unknown fields are ignored, and their bytes are never kept.
            self.role = "skip"

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.role == "file":
            self.size += end - start
            if self.size > self.limit():
                raise service.too_large(self.declared or "video")
            self.pending += data[start:end]
        elif self.role == "type":
            self.type_value += data[start:end]
            if len(self.type_value) > MAX_TYPE_FIELD:
                raise ValidationError("'type' must be 'image' or 'video'")

    def on_part_end(self) -> None:
        if self.role == "file":
            self.file_done = True
        elif self.role == "type":
            value = bytes(self.type_value).decode("ascii", "replace").strip().lower()
            if value not in _KINDS:
                raise ValidationError("'type' must be 'image' or 'video'")
            self.declared = value
            if self.file_done and self.size > self.limit():
                raise service.too_large(value)
        self.role = "skip"

    def on_end(self) -> None:
        self.finished = True

    async def flush(self, force: bool = False) -> None:
        if not self.pending or (len(self.pending) < FLUSH_SIZE and not force):
            return
        if self.handle is None:
            self.handle = await asyncio.to_thread(self.spool.open, "wb")
        data, self.pending = bytes(self.pending), bytearray()
        await asyncio.to_thread(self.handle.write, data)

    async def close(self) -> None:
        if self.handle is not None:
            handle, self.handle = self.handle, None
            await asyncio.to_thread(handle.close)


@asynccontextmanager
async def receive_upload(request: Request, tmp_dir: Path) -> AsyncIterator[ReceivedUpload]:
    """Stream the body of ``request`` into a scratch file under ``tmp_dir``.

    The scratch file is removed when the block ends, whatever happens. Raises
    `ValidationError` (400) for a malformed form and `PayloadTooLarge` (413) for a file
    over its limit, as early as the bytes allow.
    """
    boundary = _boundary(request)
    await asyncio.to_thread(tmp_dir.mkdir, parents=True, exist_ok=True)
    spool = await asyncio.to_thread(_mkstemp, tmp_dir)
    reader = _FormReader(spool)
    try:
        parser = MultipartParser(boundary, reader.callbacks())
        try:
            async for chunk in request.stream():
                for offset in range(0, len(chunk), FEED_SIZE):
                    parser.write(chunk[offset : offset + FEED_SIZE])
                    await reader.flush()
                if reader.finished:
                    break
            parser.finalize()
        except MultipartParseError:
            raise ValidationError("The multipart/form-data body is malformed") from None
        except ClientDisconnect:
            raise ValidationError("The upload was interrupted before it was complete") from None
        await reader.flush(force=True)
        await reader.close()
        if not reader.finished:
            raise ValidationError("The multipart/form-data body is incomplete")
        if not reader.file_seen:
            raise ValidationError("'file' is required")
        if reader.declared is None:
            raise ValidationError("'type' is required: 'image' or 'video'")
        if reader.size > service.MAX_BYTES[reader.declared]:
            raise service.too_large(reader.declared)
        yield ReceivedUpload(
            path=spool,
            size=reader.size,
            declared=reader.declared,
            file_name=service.sanitize_file_name(reader.file_name),
        )
    finally:
        await reader.close()
        await asyncio.to_thread(spool.unlink, True)


def _mkstemp(directory: Path) -> Path:
    fd, name = tempfile.mkstemp(dir=directory, prefix="upload-", suffix=".part")
    os.close(fd)
    return Path(name)

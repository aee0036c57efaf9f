"""Serve a stored media object over HTTP: single byte ranges, caching and safe headers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import quote

from starlette.responses import Response, StreamingResponse

from powerpost.media.service import MediaFile
from powerpost.media.storage import Storage

__all__ = ["parse_range", "serve"]

_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
# No stored object comes near 10**18 bytes, so a longer position names no satisfiable
# range; refusing it also keeps int() away from Python's 4,300-digit limit (a ValueError,
# which was a 500).
MAX_POSITION_DIGITS = 18
MAX_CACHE_SECONDS = 86_400


class Unsatisfiable(Exception):
    pass


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end inclusive) of a single-range ``Range`` header, None to send it all.

    Several ranges or a malformed header are answered with the whole file, which RFC 9110
    allows; a range wholly past the end, or with a position of more than
    `MAX_POSITION_DIGITS` digits, raises `Unsatisfiable` (416).
    """
    if not header:
        return None
    match = _RANGE_RE.match(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if len(first) > MAX_POSITION_DIGITS or len(last) > MAX_POSITION_DIGITS:
        raise Unsatisfiable
    if not first and not last:
        return None
    if not first:
        suffix = int(last)
        if suffix == 0:
            raise Unsatisfiable
        return max(0, size - suffix), size - 1
    start = int(first)
    end = size - 1 if not last else min(int(last), size - 1)
    if last and int(last) < start:
        return None
    if start >= size:
        raise Unsatisfiable
    return start, end


def serve(
    storage: Storage,
    file: MediaFile,
    *,
    range_header: str | None,
    head: bool,
    expires_in: int,
) -> Response:
    max_age = max(0, min(expires_in, MAX_CACHE_SECONDS))
    headers = {
        "accept-ranges": "bytes",
        # The bytes behind a media id never change; the URL itself expires.
        "cache-control": f"private, max-age={max_age}, immutable",
        "content-disposition": f"inline; filename*=UTF-8''{quote(file.file_name, safe='')}",
        "x-content-type-options": "nosniff",
    }
    try:
        wanted = parse_range(range_header, file.size)
    except Unsatisfiable:
        headers["content-range"] = f"bytes */{file.size}"
        return Response(status_code=416, headers=headers)
    status = 200
    start, end = 0, file.size - 1
    if wanted is not None:
        start, end = wanted
        status = 206
        headers["content-range"] = f"bytes {start}-{end}/{file.size}"
    length = end - start + 1 if file.size else 0
    headers["content-length"] = str(length)
    if head:
        return Response(status_code=status, headers=headers, media_type=file.content_type)

    async def body() -> AsyncIterator[bytes]:
        async for chunk in storage.iter_range(file.key, start, length):
            yield chunk

    return StreamingResponse(
        body(), status_code=status, headers=headers, media_type=file.content_type
    )

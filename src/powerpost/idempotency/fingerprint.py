"""What makes two requests "the same request" for an Idempotency-Key.

The fingerprint is a SHA-256 over the method, path, query string, workspace, media type,
the request headers that change what a route does (`SIGNIFICANT_HEADERS`) and the body, fed chunk by chunk as the route reads the body, so a 500 MB upload is hashed
while it streams to disk and never held in memory.

A multipart body is framed by a boundary the client picks at random for every request
(httpx, requests and browsers all do), so the same file sent twice differs in those bytes
only. The boundary is transport framing, not content: it is masked out of the hash, or a
retried upload would always look like a different request (422).
"""

from __future__ import annotations

import hashlib

from python_multipart.multipart import parse_options_header
from starlette.types import Message, Receive

_MASK = b"\x00boundary\x00"
# Headers that change a route's outcome: the same body with another scenario is another
# request (test mode's simulated failures, §14).
SIGNIFICANT_HEADERS = (b"x-test-scenario",)


class _BoundaryMask:
    """Replaces every occurrence of one byte string in a stream, across chunk edges."""

    def __init__(self, boundary: bytes) -> None:
        self.boundary = boundary
        self.carry = b""

    def feed(self, chunk: bytes) -> bytes:
        buffer = self.carry + chunk
        out: list[bytes] = []
        position = 0
        while (found := buffer.find(self.boundary, position)) >= 0:
            out.append(buffer[position:found])
            out.append(_MASK)
            position = found + len(self.boundary)
        # Any later match starts within the last len-1 bytes (an earlier one would lie
        # wholly inside the buffer and have been found): keep them for the next chunk.
        keep = max(position, len(buffer) - (len(self.boundary) - 1))
        out.append(buffer[position:keep])
        self.carry = buffer[keep:]
        return b"".join(out)

    def finish(self) -> bytes:
        rest, self.carry = self.carry, b""
        return rest


class Fingerprint:
    def __init__(
        self,
        *,
        method: str,
        path: str,
        query: bytes,
        workspace_id: str | None,
        content_type: str,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        media_type, params = parse_options_header(content_type)
        self._hash = hashlib.sha256()
        for part in (method.encode(), path.encode(), query, (workspace_id or "").encode()):
            self._hash.update(part + b"\x00")
        self._hash.update(media_type.lower() + b"\x00")
        for name, value in headers or ():
            if name in SIGNIFICANT_HEADERS:
                self._hash.update(name + b":" + value + b"\x00")
        boundary = params.get(b"boundary", b"")
        self._mask = (
            _BoundaryMask(boundary) if media_type.startswith(b"multipart/") and boundary else None
        )
        self.complete = False

    def feed(self, chunk: bytes) -> None:
        self._hash.update(self._mask.feed(chunk) if self._mask is not None else chunk)

    def hexdigest(self) -> str:
        if not self.complete:
            raise RuntimeError("the body has not been read to its end")
        if self._mask is not None:
            self._hash.update(self._mask.finish())
            self._mask = None
        return self._hash.hexdigest()

    def wrap(self, receive: Receive) -> Receive:
        """An ASGI receive that feeds every body chunk to this fingerprint on its way."""

        async def hashing_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request" and not self.complete:
                self.feed(message.get("body", b""))
                if not message.get("more_body", False):
                    self.complete = True
            return message

        return hashing_receive

    async def drain(self, receive: Receive) -> bool:
        """Read (and hash) what the route left unread; False if the body never ended."""
        while not self.complete:
            message = await receive()
            if message["type"] != "http.request":
                return False
        return True

"""uvicorn's HTTP/1.1 protocols with the request head (request line + headers) capped.

uvicorn's httptools protocol buffers a head of any size (a 50 MB header was accepted, and
four of them in parallel added 280 MB to the server); its h11 protocol stops at h11's
buffer limit but answers 400. Both classes here stop reading once the head passes
`MAX_REQUEST_HEAD` bytes and answer 431. This cannot be an ASGI middleware: the parser has
buffered the whole head before the application sees a byte.

Every way PowerPost is served must pass one of these as uvicorn's `http=` (`powerpost serve`
does; for the uvicorn command line, `--http powerpost.kit.http_server:HeadCappedHttpToolsProtocol`).
"""

from __future__ import annotations

import json
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_REQUEST_HEAD = 16 * 1024
# After the 431 the client may still be sending its head. Closing a socket with unread
# input makes the kernel send a reset, which can destroy the 431 before the client reads
# it; so the connection is half-closed, further input is discarded, and it is closed
# after this many seconds (or sooner, when the client closes).
LINGER_SECONDS = 2.0

_BODY = json.dumps(
    {
        "error": {
            "message": f"The request line and headers are larger than the "
            f"{MAX_REQUEST_HEAD:,}-byte limit",
            "code": "VALIDATION_ERROR",
        }
    }
).encode()
RESPONSE_431 = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: application/json\r\n"
    b"content-length: " + str(len(_BODY)).encode() + b"\r\n"
    b"connection: close\r\n"
    b"\r\n" + _BODY
)


class _Refusal:
    """The 431 and the lingering close, shared by both protocols."""

    refused = False

    def refuse(self, protocol: Any) -> None:
        self.refused = True
        transport = protocol.transport
        if transport.is_closing():
            return
        cycle = getattr(protocol, "cycle", None)
        if cycle is not None and not cycle.response_complete:
            # A pipelined request still running must not write after the 431.
            cycle.disconnected = True
        transport.write(RESPONSE_431)
        if transport.can_write_eof():
            transport.write_eof()
        protocol.loop.call_later(LINGER_SECONDS, transport.close)


def _head_size(target: bytes, headers: Any) -> int:
    """The bytes of a parsed head, near enough: request target, names, values, separators."""
    return len(target) + sum(len(name) + len(value) + 4 for name, value in headers)


class HeadCappedHttpToolsProtocol(HttpToolsProtocol):
    """httptools with the head capped two ways.

    - A head still incomplete: bytes are counted per read, so a connection never holds more
      than the cap plus one read (asyncio reads at most 256 KiB at a time).
    - A head that arrived whole inside one read: its parsed size is checked before the
      request reaches the application.
    A read that completes a head and carries body bytes is judged by the parsed head only,
    so a large body is never mistaken for a large head.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_in_head = 0
        self._parsed_head = 0
        self._in_head = True
        self._refusal = _Refusal()

    def data_received(self, data: bytes) -> None:
        if self._refusal.refused:
            return  # draining: see LINGER_SECONDS
        if self._in_head:
            self._read_in_head += len(data)
        super().data_received(data)
        if self._in_head and self._read_in_head > MAX_REQUEST_HEAD:
            self._refusal.refuse(self)
        if self._refusal.refused:
            self.parser = None  # drop what it buffered

    def send_400_response(self, msg: str) -> None:
        if not self._refusal.refused:
            super().send_400_response(msg)

    # Parser callbacks. After a refusal the parser may still be inside the read that
    # caused it; everything it reports from then on is ignored.

    def on_message_begin(self) -> None:
        self._parsed_head = 0
        if not self._refusal.refused:
            super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._parsed_head += len(url)
        if not self._refusal.refused:
            super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._parsed_head += len(name) + len(value) + 4
        if not self._refusal.refused:
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        if not self._refusal.refused and self._parsed_head > MAX_REQUEST_HEAD:
            self._refusal.refuse(self)
        if not self._refusal.refused:
            super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refusal.refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        self._in_head = True
        self._read_in_head = 0
        if not self._refusal.refused:
            super().on_message_complete()


class _TellingConnection(h11.Connection):
    """Remembers the status hint of the protocol error h11 raised (431 for a long head)."""

    error_status_hint: int | None = None

    def next_event(self) -> Any:
        try:
            event = super().next_event()
        except h11.RemoteProtocolError as exc:
            self.error_status_hint = exc.error_status_hint
            raise
        # h11 bounds only an incomplete head; one that arrived whole in a read is checked here.
        if isinstance(event, h11.Request) and (
            _head_size(event.target, event.headers) > MAX_REQUEST_HEAD
        ):
            self.error_status_hint = 431
            raise h11.RemoteProtocolError("request head too large", error_status_hint=431)
        return event


class HeadCappedH11Protocol(H11Protocol):
    """h11 with its incomplete-event limit set to the cap, answering 431 instead of 400."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conn = _TellingConnection(h11.SERVER, max_incomplete_event_size=MAX_REQUEST_HEAD)
        self._refusal = _Refusal()

    def data_received(self, data: bytes) -> None:
        if self._refusal.refused:
            return  # draining: see LINGER_SECONDS
        super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        conn = self.conn
        if isinstance(conn, _TellingConnection) and conn.error_status_hint == 431:
            self._refusal.refuse(self)
            return
        super().send_400_response(msg)

"""The outermost layer of every request, as plain ASGI (cheap: no per-request Request objects).

- X-Request-Id on every response (a well-formed incoming one is echoed).
- Rate-limit headers the authorizer computed, on every authenticated response, errors too.
- Body size caps before the app reads a byte past them: 413 in the contract's envelope.
- One access-log line per request with the path but never the query string (where a
  careless client might have put a key) and never a header; the method and the decoded
  path are logged with keys masked and control characters escaped (a `%0a` in a path
  would otherwise start a forged line).
- After the response, hands the request to the usage recorder (off the request path).
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from powerpost.kit.clock import utcnow
from powerpost.kit.errors import PayloadTooLarge
from powerpost.kit.redact import safe_for_log

access_log = logging.getLogger("powerpost.access")
error_log = logging.getLogger("powerpost.errors")

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


@dataclass(frozen=True)
class UsageEvent:
    key_id: str
    method: str
    path: str
    status: int
    ip: str | None
    at: datetime
    last_used_at: datetime | None  # as the key's row said when the request authenticated


UsageSink = Callable[[UsageEvent], None]


def _error_response(
    status: int, code: str, message: str
) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    body = json.dumps({"error": {"message": message, "code": code}}).encode()
    return body, [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]


def _wants_html(scope: Scope) -> bool:
    """A person's browser on a dashboard page; every /api path keeps the JSON envelope."""
    path: str = scope["path"]
    if path == "/api" or path.startswith("/api/"):
        return False
    accept = dict(scope.get("headers") or []).get(b"accept", b"")
    return b"text/html" in accept


def _html_500(request_id: str) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    # Self-contained on purpose: the failure may be in the template engine or the
    # database, so this page needs neither.
    body = (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        "<title>Something went wrong - PowerPost</title>"
        "<body style='font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;"
        "padding:0 1rem;line-height:1.5'>"
        "<h1>Something went wrong</h1>"
        "<p>The server could not show this page. Nothing you sent was half-saved: "
        "try again in a moment, and if it keeps happening give the operator this "
        f"request id: <code>{request_id}</code>.</p>"
        "<p><a href='/settings/api'>Back to the dashboard</a></p></body></html>"
    ).encode()
    return body, [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]


class RequestMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        body_limit_for: Callable[[str], int],
        usage_sink: Callable[[], UsageSink | None],
    ) -> None:
        self.app = app
        self.body_limit_for = body_limit_for
        self.usage_sink = usage_sink

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        status_holder = [0]
        path: str = scope["path"]
        limit = self.body_limit_for(path)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                for name, value in (state.get("rate_headers") or {}).items():
                    headers.append((name.lower().encode(), value.encode()))
                message["headers"] = headers
            await send(message)

        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._reject_too_large(send_with_headers, limit)
        else:
            received = 0

            async def limited_receive() -> Message:
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > limit:
                        raise PayloadTooLarge(_too_large_message(limit))
                return message

            try:
                await self.app(scope, limited_receive, send_with_headers)
            except Exception as exc:
                # The type only: exception text can carry data that must not reach logs.
                error_log.error(
                    "unhandled %s (request_id=%s)", type(exc).__name__, request_id, exc_info=exc
                )
                if status_holder[0] == 0:
                    body, headers = (
                        _html_500(request_id)
                        if _wants_html(scope)
                        else _error_response(
                            500,
                            "INTERNAL_ERROR",
                            f"Internal server error (request id {request_id})",
                        )
                    )
                    await send_with_headers(
                        {"type": "http.response.start", "status": 500, "headers": headers}
                    )
                    await send_with_headers({"type": "http.response.body", "body": body})
                status_holder[0] = 500

        status = status_holder[0]
        access_log.info(
            "%s %s %d %.1fms rid=%s",
            safe_for_log(scope["method"]),
            safe_for_log(path),
            status,
            (time.perf_counter() - started) * 1000,
            request_id,
        )
        key_id = state.get("api_key_id")
        sink = self.usage_sink()
        if key_id is not None and sink is not None:
            client = scope.get("client")
            sink(
                UsageEvent(
                    key_id=key_id,
                    method=scope["method"],
                    path=path,
                    status=status,
                    ip=client[0] if client else None,
                    at=utcnow(),
                    last_used_at=state.get("last_used_at"),
                )
            )

    async def _reject_too_large(self, send: Send, limit: int) -> None:
        body, headers = _error_response(413, "FILE_TOO_LARGE", _too_large_message(limit))
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _too_large_message(limit: int) -> str:
    return f"The request body is larger than the {limit:,}-byte limit for this endpoint"


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            return candidate if _REQUEST_ID_RE.match(candidate) else None
    return None


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None

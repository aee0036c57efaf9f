"""Standard Webhooks signing and one HTTP attempt, with every limit enforced.

The body is the outbox envelope serialised once, compactly; the signature covers exactly
those bytes (`webhook-id.webhook-timestamp.body`). `webhook-id` is the event id, so it is
the same on every retry and on a redelivery and receivers can drop duplicates by it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook

from powerpost.config import Settings
from powerpost.kit.netguard import (
    AddressPolicy,
    Resolver,
    UnsafeURL,
    check_url_shape,
    guarded_transport,
)

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format prefix, not a secret
# Kept of each answer: enough to see an error page's gist, never a receiver's whole reply.
RESPONSE_KEEP = 2048
USER_AGENT = "PowerPostSelfHosted-Webhooks/1.0"


def new_secret() -> str:
    """`whsec_` + base64 of 32 random bytes, the form `standardwebhooks` expects."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def address_policy(settings: Settings) -> AddressPolicy:
    """One operator rule for every outbound URL: http and loopback only when allowed."""
    return AddressPolicy(
        allow_http=settings.providers.allow_http_urls,
        allow_loopback=settings.providers.allow_loopback_urls,
    )


def body_bytes(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signed_headers(
    *, message_id: str, body: bytes, at: datetime, signing_secrets: Sequence[str]
) -> dict[str, str]:
    """The three Standard Webhooks headers; during a rotation `signing_secrets` holds the
    new and the previous secret and both signatures go out, space-separated."""
    text = body.decode("utf-8")
    signatures = [Webhook(secret).sign(message_id, at, text) for secret in signing_secrets]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def build_client(settings: Settings, resolver: Resolver | None = None) -> httpx.AsyncClient:
    """The delivery client: every connection goes through the address guard, so a name
    that resolves to an internal address at delivery time (DNS rebinding) is refused there
    even though it passed when the endpoint was saved. Redirects are not followed."""
    return httpx.AsyncClient(
        transport=guarded_transport(address_policy(settings), resolver),
        timeout=httpx.Timeout(settings.webhooks.timeout),
        follow_redirects=False,
        trust_env=False,
    )


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None
    latency_ms: int
    response_body: str | None
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.error is None and self.status_code is not None and 200 <= self.status_code < 300


async def post(
    client: httpx.AsyncClient,
    url: str,
    *,
    policy: AddressPolicy,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float,  # noqa: ASYNC109 - the receiver's limit, recorded in the error
) -> AttemptResult:
    """POST once. The receiver must send its status line within `timeout`; at most
    RESPONSE_KEEP bytes of its body are read, then the connection is dropped, so a
    receiver streaming a gigabyte or never finishing costs this worker nothing more."""
    started = time.monotonic()

    def done(status: int | None, kept: bytes | None, error: str | None) -> AttemptResult:
        text = kept.decode("utf-8", errors="replace") if kept is not None else None
        latency = int((time.monotonic() - started) * 1000)
        return AttemptResult(status, latency, text, error)

    try:
        check_url_shape(url, policy)
    except UnsafeURL as exc:
        return done(None, None, f"refused: {exc}")
    status: int | None = None
    kept = bytearray()
    deadline = asyncio.timeout(timeout)
    try:
        async with deadline, client.stream("POST", url, content=body, headers=headers) as reply:
            status = reply.status_code
            async for chunk in reply.aiter_raw():
                kept += chunk[: RESPONSE_KEEP - len(kept)]
                if len(kept) >= RESPONSE_KEEP:
                    break
    except TimeoutError:
        if status is None:
            return done(None, None, f"no answer within {timeout:g} s")
        # The status came in time; only the body dragged on. The answer stands.
    except httpx.TimeoutException:
        return done(status, bytes(kept), f"no answer within {timeout:g} s")
    except UnsafeURL as exc:
        # Raised by the guarded transport at connect time (the name now resolves inward).
        return done(None, None, f"refused: {exc}")
    except httpx.ConnectError:
        return done(None, None, "could not connect to the receiver")
    except httpx.HTTPError as exc:
        if status is None:
            return done(None, None, f"the connection failed ({type(exc).__name__})")
    if status is not None and not 200 <= status < 300:
        return done(status, bytes(kept), f"HTTP {status}")
    return done(status, bytes(kept), None)

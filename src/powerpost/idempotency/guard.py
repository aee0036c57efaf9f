"""Run a creating POST at most once per Idempotency-Key.

Semantics (IETF httpapi draft "The Idempotency-Key HTTP Header Field"; §14):
- The header is optional; without it the request runs as usual. Its value is 1–255
  printable ASCII characters, sent bare or as the draft's quoted sf-string (`"abc"` and
  `abc` are the same key); anything else is a 400.
- Keys are scoped per API key and per method + path: two API keys never see each other's
  keys, and one key value may be reused on another route.
- Within 24 hours, the same key with the same fingerprint (fingerprint.py) replays the
  stored status and body with `Idempotent-Replayed: true`: nothing runs again, no credits
  move. With another fingerprint it is a 422 `IDEMPOTENCY_KEY_MISMATCH`; while the first
  request is still running it is a 409 `IDEMPOTENCY_KEY_IN_USE` with `Retry-After`.
- Only finished answers are stored: 2xx, and 4xx that re-running the same request would
  repeat. Not stored — the key is released and a retry runs afresh — are 5xx (the draft:
  let the client retry) and the 4xx that describe a passing state of the account or the
  server rather than the request: 402 (credits can be topped up), 408, 409 (state
  conflicts), 413 (a storage quota can be freed; an upload refused early was never read
  to its end, so it has no fingerprint), 425 and 429. None of these did any work.
- A dry run (`?dry_run=true` on a route that offers one) creates nothing and leaves the
  key alone: it is not claimed, not compared and not stored (`dry_run`).
- The claim is a row inserted before the work starts (race-free on both databases; see
  repository.insert_claim). A running request renews its lock every `heartbeat` seconds;
  a process that dies stops renewing, the lock lapses after `lock_ttl`, and the next
  retry takes the claim over.

One gap remains by design: the route commits its work, then the answer is stored in a
second transaction. A process that dies between the two leaves a claim that lapses, and
the retry runs the work again. Closing it would need every route's work and the answer in
one transaction; the window is one small write.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import Request, Response
from starlette.types import Receive

from powerpost.auth.authorizer import RequestAuth
from powerpost.idempotency import repository
from powerpost.idempotency.fingerprint import Fingerprint
from powerpost.kit.clock import utcnow
from powerpost.kit.db import Database
from powerpost.kit.errors import AppError, ValidationError
from powerpost.kit.ids import new_id
from powerpost.kit.routing import Proceed
from powerpost.models import IdempotencyKey

log = logging.getLogger("powerpost.idempotency")

HEADER = b"idempotency-key"
REPLAYED = "Idempotent-Replayed"
MAX_KEY = 255
KEY_LIFETIME = timedelta(hours=24)
LOCK_TTL = timedelta(seconds=60)
HEARTBEAT_SECONDS = 20.0
RETRY_AFTER_SECONDS = 1
NOT_STORED = frozenset({402, 408, 409, 413, 425, 429})


class KeyInUse(AppError):
    status_code = 409
    code = "IDEMPOTENCY_KEY_IN_USE"
    default_message = "A request with this Idempotency-Key is still being processed; retry shortly"

    def __init__(self, retry_after: int) -> None:
        super().__init__(retryAfter=retry_after)
        self.headers["Retry-After"] = str(retry_after)


class KeyMismatch(AppError):
    status_code = 422
    code = "IDEMPOTENCY_KEY_MISMATCH"
    default_message = (
        "This Idempotency-Key was already used for a different request; "
        "use a new key for a new request"
    )


def _invalid(message: str) -> ValidationError:
    return ValidationError(message, details=[{"field": "Idempotency-Key", "message": message}])


def _unquote(value: str) -> str:
    """The draft sends the key as an RFC 8941 sf-string; take its content."""
    out: list[str] = []
    chars = iter(value[1:-1])
    for char in chars:
        if char == "\\":
            escaped = next(chars, "")
            if escaped not in ('"', "\\"):
                raise _invalid("Idempotency-Key has an invalid escape in its quoted string")
            out.append(escaped)
        elif char == '"':
            raise _invalid("Idempotency-Key has an unescaped quote in its quoted string")
        else:
            out.append(char)
    return "".join(out)


def read_key(request: Request) -> str | None:
    values: list[bytes] = [value for name, value in request.scope["headers"] if name == HEADER]
    if not values:
        return None
    if len(values) > 1:
        raise _invalid("Send the Idempotency-Key header once")
    try:
        text: str = values[0].decode("ascii").strip(" \t")
    except UnicodeDecodeError:
        raise _invalid("Idempotency-Key must be printable ASCII") from None
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = _unquote(text)
    if not 1 <= len(text) <= MAX_KEY:
        raise _invalid(f"Idempotency-Key must be 1 to {MAX_KEY} characters")
    if any(not " " <= char <= "~" for char in text):
        raise _invalid("Idempotency-Key must be printable ASCII")
    return text


@dataclass(frozen=True)
class Claim:
    row_id: str
    token: str


class IdempotencyGuard:
    """app.state.idempotency: what `kit.routing.ApiRoute` calls for an opted-in route."""

    def __init__(
        self,
        db: Database,
        *,
        lifetime: timedelta = KEY_LIFETIME,
        lock_ttl: timedelta = LOCK_TTL,
        heartbeat: float = HEARTBEAT_SECONDS,
    ) -> None:
        self.db = db
        self.lifetime = lifetime
        self.lock_ttl = lock_ttl
        self.heartbeat = heartbeat

    async def __call__(self, request: Request, proceed: Proceed) -> Response:
        key = read_key(request)
        if key is None:
            return await proceed(request)
        auth: RequestAuth = request.state.auth
        method: str = request.scope["method"]
        path: str = request.scope["path"]
        fingerprint = Fingerprint(
            method=method,
            path=path,
            query=request.scope.get("query_string", b""),
            workspace_id=auth.workspace_id,
            content_type=request.headers.get("content-type", ""),
            headers=request.scope["headers"],
        )
        receive = fingerprint.wrap(request.receive)
        hashed = Request(request.scope, receive)
        multipart = request.headers.get("content-type", "").startswith("multipart/")
        if not multipart:
            # JSON bodies are small and capped: read them now, so a 413 comes before the
            # claim and the fingerprint is complete from the start.
            await hashed.body()
        scope = hashlib.sha256(f"{method} {path}".encode()).hexdigest()
        outcome = await self._claim(auth.key_id, scope, key, method, path)
        if isinstance(outcome, IdempotencyKey):
            return await self._replay(outcome, fingerprint, receive)
        return await self._run(request, hashed, proceed, outcome, fingerprint, receive)

    async def dry_run(self, request: Request, proceed: Proceed) -> Response:
        """A dry run creates nothing: a malformed key is refused as for the real call, but
        the key is neither claimed, checked against a stored answer nor stored, so the real
        call that follows with the same key runs (and is the one the key stands for)."""
        read_key(request)
        return await proceed(request)

    # --- claiming ---------------------------------------------------------------------------

    def _fresh(self, now: datetime, token: str) -> dict[str, Any]:
        return {
            "fingerprint": None,
            "claim_token": token,
            "locked_until": now + self.lock_ttl,
            "response_status": None,
            "response_media_type": None,
            "response_body": None,
            "created_at": now,
            "expires_at": now + self.lifetime,
        }

    async def _claim(
        self, api_key_id: str, scope: str, key: str, method: str, path: str
    ) -> Claim | IdempotencyKey:
        """Our claim on the key, or the finished row to replay; raises KeyInUse."""
        now = utcnow()
        token = new_id()
        async with self.db.write() as session:
            row_id = new_id()
            inserted = await repository.insert_claim(
                session,
                {
                    "id": row_id,
                    "api_key_id": api_key_id,
                    "scope": scope,
                    "idempotency_key": key,
                    "method": method,
                    "path": path[:200],
                    **self._fresh(now, token),
                },
            )
            if inserted:
                return Claim(row_id, token)
            row = await repository.find(session, api_key_id, scope, key)
            if row is None:
                # Swept between our insert and our read: the caller's retry will insert.
                raise KeyInUse(RETRY_AFTER_SECONDS)
            if row.expires_at <= now:
                if await repository.renew_expired(session, row.id, now, self._fresh(now, token)):
                    return Claim(row.id, token)
            elif row.claim_token is None:
                return row
            elif (
                row.locked_until is not None
                and row.locked_until <= now
                and await repository.take_over_lapsed(
                    session, row.id, row.claim_token, now, self._fresh(now, token)
                )
            ):
                log.warning("took over the lapsed claim of idempotency key row %s", row.id)
                return Claim(row.id, token)
        raise KeyInUse(RETRY_AFTER_SECONDS)

    # --- replaying --------------------------------------------------------------------------

    async def _replay(
        self, row: IdempotencyKey, fingerprint: Fingerprint, receive: Receive
    ) -> Response:
        if not await fingerprint.drain(receive):
            raise ValidationError("The request body ended before it was complete")
        if fingerprint.hexdigest() != row.fingerprint:
            raise KeyMismatch()
        response = Response(
            content=row.response_body or b"",
            status_code=row.response_status or 200,
            media_type=row.response_media_type,
        )
        response.headers[REPLAYED] = "true"
        return response

    # --- running ----------------------------------------------------------------------------

    async def _run(
        self,
        request: Request,
        hashed: Request,
        proceed: Proceed,
        claim: Claim,
        fingerprint: Fingerprint,
        receive: Receive,
    ) -> Response:
        stop = asyncio.Event()
        renewer = asyncio.create_task(self._renew(claim, stop))
        try:
            try:
                response = await proceed(hashed)
            except Exception as exc:
                # Render it here (as the app's handlers would) so a 4xx can be stored.
                handler = _handler_for(request, exc)
                if handler is None:
                    raise
                response = await handler(request, exc)
        except BaseException:
            stop.set()
            await renewer
            await self._release(claim)
            raise
        stop.set()
        await renewer
        await self._finish(claim, response, fingerprint, receive)
        return response

    async def _renew(self, claim: Claim, stop: asyncio.Event) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.heartbeat)
            if stop.is_set():
                return
            try:
                async with self.db.write() as session:
                    await repository.extend_lock(
                        session, claim.row_id, claim.token, utcnow() + self.lock_ttl
                    )
            except Exception:
                log.exception("could not renew an idempotency claim; it may lapse")

    async def _finish(
        self, claim: Claim, response: Response, fingerprint: Fingerprint, receive: Receive
    ) -> None:
        status = response.status_code
        storable = 200 <= status < 300 or (400 <= status < 500 and status not in NOT_STORED)
        body = getattr(response, "body", None)
        if storable and isinstance(body, bytes):
            try:
                complete = await fingerprint.drain(receive)
            except Exception:
                complete = False
            if complete:
                async with self.db.write() as session:
                    stored = await repository.store_answer(
                        session,
                        claim.row_id,
                        claim.token,
                        fingerprint=fingerprint.hexdigest(),
                        status=status,
                        media_type=response.headers.get("content-type"),
                        body=body,
                    )
                if not stored:
                    log.warning("idempotency claim %s was lost before its answer", claim.row_id)
                return
        await self._release(claim)

    async def _release(self, claim: Claim) -> None:
        try:
            async with self.db.write() as session:
                await repository.release(session, claim.row_id, claim.token)
        except Exception:
            # The lock lapses on its own; a retry then takes the claim over.
            log.exception("could not release idempotency claim %s", claim.row_id)


def _handler_for(request: Request, exc: Exception) -> Any:
    handlers: dict[Any, Any] = request.app.exception_handlers
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls]
    return None

"""The request path of auth.md: read the key, check its shape, one lookup, rate limit,
workspace, scope. `kit.routing.ApiRoute` calls `KeyAuthorizer` before a body is read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from fastapi import Request

from powerpost.api_keys import repository
from powerpost.kit.clock import utcnow
from powerpost.kit.db import Database
from powerpost.kit.errors import Forbidden, InsufficientScope, InvalidApiKey, RateLimited
from powerpost.kit.errors import ValidationError as RequestInvalid
from powerpost.kit.ids import parse_uuid
from powerpost.kit.ratelimit import RateLimiter
from powerpost.kit.redact import contains_key
from powerpost.kit.routing import Requirement
from powerpost.kit.security import KEY_LENGTH, KeyHasher, is_well_formed
from powerpost.workspaces.repository import workspace_owned_by

log = logging.getLogger("powerpost.auth")

MAX_AUTH_HEADER = KEY_LENGTH + len("Bearer ") + 16


@dataclass(frozen=True)
class Principal:
    key_id: str
    account_id: str
    key_type: str
    scopes: frozenset[str]
    mode: str


@dataclass(frozen=True)
class RequestAuth:
    principal: Principal
    # None on account-level routes (/account/credits, /workspaces)
    workspace_id: str | None

    @property
    def account_id(self) -> str:
        return self.principal.account_id

    @property
    def key_id(self) -> str:
        return self.principal.key_id

    def require_workspace(self) -> str:
        if self.workspace_id is None:
            raise RuntimeError("route declared no workspace but asked for one")
        return self.workspace_id


class _Rejected(Exception):
    """An authentication failure; the reason is for the server log only."""


def _single_header(raw_headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    values = [value for key, value in raw_headers if key == name]
    if not values:
        return None
    if len(values) > 1:
        raise _Rejected(f"{name.decode()} header repeated")
    raw = values[0]
    if len(raw) > MAX_AUTH_HEADER:
        raise _Rejected(f"{name.decode()} header too long ({len(raw)} bytes)")
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        raise _Rejected(f"{name.decode()} header is not ASCII") from None


def read_presented_key(request: Request) -> str:
    raw_headers: list[tuple[bytes, bytes]] = request.scope["headers"]
    from_api_key = _single_header(raw_headers, b"x-api-key")
    from_bearer: str | None = None
    authorization = _single_header(raw_headers, b"authorization")
    if authorization is not None:
        scheme, _, credentials = authorization.strip().partition(" ")
        if scheme.lower() != "bearer":
            raise _Rejected("authorization scheme is not Bearer")
        from_bearer = credentials.strip()
    if from_api_key is not None:
        from_api_key = from_api_key.strip()
    if from_api_key is not None and from_bearer is not None and from_api_key != from_bearer:
        raise _Rejected("x-api-key and Authorization disagree")
    key = from_api_key if from_api_key is not None else from_bearer
    if not key:
        raise _Rejected("no key presented")
    # Decoded first (repeatedly): `%70p_live_sk_…` and `pp%5Flive%5Fsk%5F…` are keys too.
    if contains_key(request.scope.get("query_string", b"").decode("latin-1")):
        raise _Rejected("key sent in the query string")
    return key


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _rate_group(requirement: Requirement, method: str) -> str:
    if requirement.scope.endswith(":generate") or requirement.scope == "posts:publish":
        return "generate" if method == "POST" else "read"
    return "read" if method in ("GET", "HEAD") else "write"


class KeyAuthorizer:
    """Runs once per API request, before the body is read (see kit.routing.ApiRoute)."""

    def __init__(self, db: Database, hasher: KeyHasher, limiter: RateLimiter) -> None:
        self.db = db
        self.hasher = hasher
        self.limiter = limiter

    async def authenticate(self, key: str) -> tuple[Principal, datetime | None]:
        # Shape and checksum first: garbage never costs a database query.
        if not is_well_formed(key):
            raise _Rejected("malformed key or bad checksum")
        digest = self.hasher.digest(key)
        found = await repository.find_by_digest(self.db, digest)
        if found is None:
            found = await self._find_under_old_pepper(key)
        if found is None:
            raise _Rejected("unknown key")
        now = utcnow()
        if found.revoked_at is not None:
            raise _Rejected(f"revoked key {found.key_id}")
        if found.expires_at is not None and found.expires_at <= now:
            raise _Rejected(f"expired key {found.key_id}")
        if found.account_disabled_at is not None:
            raise _Rejected(f"disabled account {found.account_id}")
        principal = Principal(
            key_id=found.key_id,
            account_id=found.account_id,
            key_type=found.key_type,
            scopes=frozenset(found.scopes.split()),
            mode=found.mode,
        )
        return principal, found.last_used_at

    async def _find_under_old_pepper(self, key: str) -> repository.KeyLookup | None:
        """After a pepper rotation, find the key by an old digest and rewrite it once."""
        for version in self.hasher.older_versions():
            found = await repository.find_by_digest(self.db, self.hasher.digest(key, version))
            if found is not None:
                async with self.db.write() as session:
                    await repository.rehash(
                        session, found.key_id, self.hasher.digest(key), self.hasher.current_version
                    )
                return found
        return None

    async def __call__(self, request: Request, requirement: Requirement) -> None:
        try:
            principal, last_used_at = await self.authenticate(read_presented_key(request))
        except _Rejected as rejected:
            ip = client_ip(request)
            log.info(
                "api key rejected: %s (ip=%s request_id=%s)",
                rejected,
                ip,
                request.state.request_id,
            )
            # The per-IP block only answers failures. A valid key is served from any
            # address: behind a proxy every client shares one, and one client's stale key
            # must not lock out the others. (Guessing is hopeless anyway: 190 random bits.)
            blocked = await self.limiter.failed_auth_blocked(ip)
            if blocked is not None:
                raise RateLimited(blocked.retry_after()) from None
            await self.limiter.record_failed_auth(ip)
            raise InvalidApiKey() from None

        request.state.api_key_id = principal.key_id
        request.state.last_used_at = last_used_at
        window = await self.limiter.hit_key(
            principal.key_id, _rate_group(requirement, request.method), principal.account_id
        )
        request.state.rate_headers = window.headers()
        if not window.allowed:
            raise RateLimited(window.retry_after())

        workspace_id = None
        if requirement.workspace:
            workspace_id = await self._workspace(request, principal)
        if requirement.scope not in principal.scopes:
            raise InsufficientScope(requirement.scope)
        request.state.auth = RequestAuth(principal=principal, workspace_id=workspace_id)

    async def _workspace(self, request: Request, principal: Principal) -> str:
        values = [v for k, v in request.scope["headers"] if k == b"x-workspace-id"]
        if not values:
            raise RequestInvalid("The X-Workspace-Id header is required for this endpoint")
        if len(values) > 1:
            raise RequestInvalid("Send the X-Workspace-Id header once")
        workspace_id = parse_uuid(values[0].decode("latin-1").strip())
        if workspace_id is None:
            raise RequestInvalid("X-Workspace-Id must be a workspace id (a UUID)")
        owned = await workspace_owned_by(self.db, workspace_id, principal.account_id)
        if not owned:
            # Same answer for foreign, nonexistent and deleted: no existence oracle.
            raise Forbidden()
        return workspace_id

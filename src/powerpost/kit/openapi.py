"""OpenAPI helpers: the real error responses, in the contract's envelope."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

_DESCRIPTIONS = {
    400: "VALIDATION_ERROR: bad body, parameters or headers",
    401: "INVALID_API_KEY: missing, malformed, unknown, revoked or expired key",
    402: "INSUFFICIENT_CREDITS",
    403: "FORBIDDEN (workspace) or INSUFFICIENT_SCOPE (with error.required_scope)",
    404: "NOT_FOUND",
    409: "ALREADY_PUBLISHED or INVALID_STATE",
    413: "FILE_TOO_LARGE or STORAGE_QUOTA_EXCEEDED",
    422: "PLATFORM_NOT_CONNECTED",
    429: "RATE_LIMIT_EXCEEDED (error.retryAfter seconds, Retry-After header)",
    500: "INTERNAL_ERROR",
}


class ErrorBody(BaseModel):
    message: str
    code: str
    required_scope: str | None = None
    retryAfter: int | None = None


class ErrorEnvelope(BaseModel):
    error: ErrorBody


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {"model": ErrorEnvelope, "description": _DESCRIPTIONS[status]}
        for status in statuses
    }

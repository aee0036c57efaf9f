"""OpenAPI helpers: the real error responses, in the contract's envelope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
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


def contract_openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """app.openapi replacement: FastAPI documents its own 422 for every route with input;
    this server answers 400 VALIDATION_ERROR instead, so document that."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
        )
        envelope_ref = {"$ref": "#/components/schemas/ErrorEnvelope"}
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                responses = operation.get("responses", {})
                if responses.get("422", {}).get("description") == "Validation Error":
                    del responses["422"]
                    responses.setdefault(
                        "400",
                        {
                            "description": _DESCRIPTIONS[400],
                            "content": {"application/json": {"schema": envelope_ref}},
                        },
                    )
        components = schema.get("components", {}).get("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        app.openapi_schema = schema
        return schema

    return build

"""OpenAPI helpers: the real error responses in the contract's envelope, and what each
operation needs (key, scope, workspace header) so a generated client can call it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from powerpost.kit.routing import ApiRoute, iter_api_routes

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


SECURITY_SCHEMES = {
    "ApiKeyHeader": {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
        "description": "The API key (pp_live_sk_… or pp_test_sk_…)",
    },
    "BearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "The same API key as a bearer token",
    },
}
WORKSPACE_HEADER = {
    "name": "X-Workspace-Id",
    "in": "header",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
    "description": "The workspace this request acts in (GET /api/v1/workspaces lists them)",
}
IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "Any unique value (e.g. a UUID): a retry with the same key and body "
    "within 24 h gets the first answer again (`Idempotent-Replayed: true`) instead of "
    "doing the work twice; another body → 422, the first still running → 409",
}
_INTEGER = {"schema": {"type": "integer"}}
RESPONSE_HEADERS = {
    "X-Request-Id": {"schema": {"type": "string"}, "description": "Quote it when asking for help"},
    "X-RateLimit-Limit": {**_INTEGER, "description": "Requests allowed in this window"},
    "X-RateLimit-Remaining": {**_INTEGER, "description": "Requests left in this window"},
    "X-RateLimit-Reset": {**_INTEGER, "description": "When the window resets (Unix seconds)"},
}


def _describe_requirements(schema: dict[str, Any], app: FastAPI) -> None:
    envelope_ref = {"$ref": "#/components/schemas/ErrorEnvelope"}
    paths = schema.get("paths", {})
    for path, route in iter_api_routes(app.routes):
        if not isinstance(route, ApiRoute) or path not in paths:
            continue
        requirement = route.requirement
        for method in route.methods or ():
            operation = paths[path].get(method.lower())
            if operation is None:
                continue
            operation["security"] = [{"ApiKeyHeader": []}, {"BearerAuth": []}]
            operation["x-required-scope"] = requirement.scope
            note = f"Requires the `{requirement.scope}` scope."
            if requirement.workspace:
                operation.setdefault("parameters", []).append(dict(WORKSPACE_HEADER))
                note += " Acts in the workspace named by `X-Workspace-Id`."
            if getattr(route, "idempotent", False):
                operation.setdefault("parameters", []).append(dict(IDEMPOTENCY_HEADER))
                note += " Honours `Idempotency-Key`."
            operation["description"] = (
                f"{operation['description']}\n\n{note}" if operation.get("description") else note
            )
            responses = operation.setdefault("responses", {})
            for status in ("401", "403", "429"):
                responses.setdefault(
                    status,
                    {
                        "description": _DESCRIPTIONS[int(status)],
                        "content": {"application/json": {"schema": envelope_ref}},
                    },
                )
            for status, response in responses.items():
                if status.startswith("2"):
                    response.setdefault("headers", {}).update(RESPONSE_HEADERS)


def contract_openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """app.openapi replacement: FastAPI documents its own 422 for every route with input;
    this server answers 400 VALIDATION_ERROR instead, so document that. Every operation
    also names its security, scope, workspace header and rate-limit headers."""

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
        _describe_requirements(schema, app)
        schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
        app.openapi_schema = schema
        return schema

    return build

"""Render every failure in the contract's envelope: AppError, FastAPI's validation errors
(400, never 422), Starlette's 404/405, and anything unexpected (500, no trace, no secret)."""

from __future__ import annotations

import json
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from powerpost.kit.errors import AppError
from powerpost.kit.schemas import TEXT_REFUSED

MAX_DETAILS = 10
_HTTP_CODES = {
    400: "VALIDATION_ERROR",
    401: "INVALID_API_KEY",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "FILE_TOO_LARGE",
    429: "RATE_LIMIT_EXCEEDED",
}


class ErrorResponse(JSONResponse):
    """JSON with non-ASCII escaped: an error message may quote a client's input, and
    escaping keeps even a lone surrogate in it from turning a 400 into a 500."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def envelope(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return ErrorResponse({"error": {"message": message, "code": code, **extra}}, status)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _describe(error: dict[str, Any]) -> dict[str, str]:
    kind = error.get("type", "")
    field = _field(tuple(error.get("loc", ())))
    if kind == "json_invalid":
        return {"field": "body", "message": "The body is not valid JSON"}
    if kind == "extra_forbidden":
        return {"field": field, "message": f"Unknown field '{field}'"}
    if kind == "missing":
        return {"field": field, "message": f"'{field}' is required"}
    if kind == TEXT_REFUSED:
        ctx = error.get("ctx") or {}
        return {"field": str(ctx.get("field", field)), "message": str(error.get("msg"))}
    message = str(error.get("msg", "is not valid"))
    return {"field": field, "message": f"{field}: {message}"}


async def app_error(request: Request, exc: Exception) -> JSONResponse:
    exc = cast(AppError, exc)
    response = ErrorResponse(exc.body(), exc.status_code)
    response.headers.update(exc.headers)
    return response


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    exc = cast(RequestValidationError, exc)
    details = [_describe(e) for e in exc.errors()[:MAX_DETAILS]]
    message = details[0]["message"] if details else "The request is not valid"
    return envelope(400, "VALIDATION_ERROR", message, details=details)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    exc = cast(StarletteHTTPException, exc)
    code = _HTTP_CODES.get(
        exc.status_code, "VALIDATION_ERROR" if exc.status_code < 500 else "INTERNAL_ERROR"
    )
    message = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, str(exc.detail))
    response = envelope(exc.status_code, code, message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)

"""Every error leaves the server in one envelope: {"error": {"message", "code", ...}}.

Routes and services raise `AppError` subclasses; one set of handlers renders them, and also
turns FastAPI's validation errors (422 upstream) into the contract's 400.
"""

from __future__ import annotations

from typing import Any, ClassVar


class AppError(Exception):
    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "INTERNAL_ERROR"
    default_message: ClassVar[str] = "Internal server error"

    def __init__(self, message: str | None = None, **extra: Any) -> None:
        self.message = message or self.default_message
        self.extra = extra
        self.headers: dict[str, str] = {}
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "code": self.code, **self.extra}}


class ValidationError(AppError):
    status_code = 400
    code = "VALIDATION_ERROR"
    default_message = "The request is not valid"


class InvalidApiKey(AppError):
    status_code = 401
    code = "INVALID_API_KEY"
    # One body for every authentication failure: the reason goes to the log only.
    default_message = "Invalid or missing API key"

    def __init__(self, message: str | None = None, **extra: Any) -> None:
        super().__init__(message, **extra)
        # RFC 9110 §11.6.1: a 401 names the scheme it wants (x-api-key works the same).
        self.headers["WWW-Authenticate"] = 'Bearer realm="PowerPost API"'


class InsufficientCredits(AppError):
    status_code = 402
    code = "INSUFFICIENT_CREDITS"
    default_message = "Not enough credits for this request"


class Forbidden(AppError):
    status_code = 403
    code = "FORBIDDEN"
    default_message = "You do not have access to this workspace"


class InsufficientScope(AppError):
    status_code = 403
    code = "INSUFFICIENT_SCOPE"

    def __init__(self, required_scope: str) -> None:
        super().__init__(
            f"This API key lacks the '{required_scope}' scope", required_scope=required_scope
        )


class NotFound(AppError):
    status_code = 404
    code = "NOT_FOUND"
    default_message = "Not found"


class MethodNotAllowed(AppError):
    status_code = 405
    code = "METHOD_NOT_ALLOWED"
    default_message = "Method not allowed"


class Conflict(AppError):
    status_code = 409
    code = "INVALID_STATE"
    default_message = "The resource is not in a state that allows this"


class AlreadyPublished(Conflict):
    code = "ALREADY_PUBLISHED"
    default_message = "The post has already been published"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "FILE_TOO_LARGE"
    default_message = "The request body is too large"


class StorageQuotaExceeded(AppError):
    status_code = 413
    code = "STORAGE_QUOTA_EXCEEDED"
    default_message = "The account's storage quota is exhausted"


class PlatformNotConnected(AppError):
    status_code = 422
    code = "PLATFORM_NOT_CONNECTED"
    default_message = "The target platform is not connected"


class RateLimited(AppError):
    status_code = 429
    code = "RATE_LIMIT_EXCEEDED"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Rate limit exceeded; retry in {retry_after} seconds", retryAfter=retry_after
        )
        self.headers["Retry-After"] = str(retry_after)


class InternalError(AppError):
    pass

"""How a handler tells the engine what went wrong."""

from __future__ import annotations


class JobError(Exception):
    """A job's failure as `on_failure` sees it: a machine-readable `code` and a message.

    Handlers raise the subclasses; the engine wraps anything else (and a worker that died
    holding the job) in a plain JobError before the final `on_failure`.
    """

    def __init__(self, message: str, *, code: str = "JOB_FAILED") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class RetryableJobError(JobError):
    """Try again later (with backoff, or after `retry_after` seconds when the other side
    said how long to wait), until the job's attempts run out."""

    def __init__(
        self, message: str, *, code: str = "JOB_FAILED", retry_after: float | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class PermanentJobError(JobError):
    """Retrying cannot help: fail now (`on_failure` runs once)."""


class LeaseLost(Exception):
    """This worker no longer owns the job (its lease expired and another worker claimed it,
    or the job already finished). Whatever it was about to write must not be written."""

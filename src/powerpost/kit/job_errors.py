"""How a job handler tells the engine what went wrong.

These live on the ground floor (not in `jobs`) so that `kit.providers` can turn a provider's
failure into one of them without the kit importing the job engine; `powerpost.jobs` and
`powerpost.jobs.errors` re-export them under the names handlers have always used.
"""

from __future__ import annotations

__all__ = [
    "JOB_CANCELLED",
    "JOB_FAILED",
    "JOB_TIMEOUT",
    "WORKER_LOST",
    "JobError",
    "LeaseLost",
    "PermanentJobError",
    "RetryableJobError",
]

# The codes the engine itself gives a failure (a handler's own errors carry the feature's).
JOB_FAILED = "JOB_FAILED"
JOB_TIMEOUT = "JOB_TIMEOUT"
JOB_CANCELLED = "JOB_CANCELLED"
WORKER_LOST = "WORKER_LOST"


class JobError(Exception):
    """A job's failure as `on_failure` sees it: a machine-readable `code` and a message.

    Handlers raise the subclasses; the engine wraps anything else (and a worker that died
    holding the job) in a plain JobError before the final `on_failure`.
    """

    def __init__(self, message: str, *, code: str = JOB_FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class RetryableJobError(JobError):
    """Try again later (with backoff, or after `retry_after` seconds when the other side
    said how long to wait), until the job's attempts run out."""

    def __init__(
        self, message: str, *, code: str = JOB_FAILED, retry_after: float | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class PermanentJobError(JobError):
    """Retrying cannot help: fail now (`on_failure` runs once)."""


class LeaseLost(Exception):
    """This worker no longer owns the job (its lease expired and another worker claimed it,
    or the job already finished). Whatever it was about to write must not be written."""

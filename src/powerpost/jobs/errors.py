"""How a handler tells the engine what went wrong (defined in `kit.job_errors`, so provider
failure policy in `kit.providers` can build them; re-exported here for handlers)."""

from __future__ import annotations

from powerpost.kit.job_errors import JobError, LeaseLost, PermanentJobError, RetryableJobError

__all__ = ["JobError", "LeaseLost", "PermanentJobError", "RetryableJobError"]

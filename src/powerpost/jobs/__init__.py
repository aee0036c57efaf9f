"""The job engine every asynchronous feature uses.

The database row is the source of truth for work; taskiq carries job ids to whoever runs
them (in memory inside the embedded server, a Redis stream at scale); a dispatcher re-kicks
due, stalled or lost work; retries with capped exponential backoff and full jitter are ours.

    job_id = await enqueue(session, kind="caption.generate", account_id=..., workspace_id=...,
                           subject_id=generation.id, payload={...})

    @register("caption.generate")
    class GenerateCaptions:
        async def run(self, ctx: JobContext) -> None: ...
        async def on_failure(self, ctx: JobContext, error: JobError) -> None: ...
"""

from powerpost.jobs.context import JobContext
from powerpost.jobs.engine import JobEngine
from powerpost.jobs.errors import JobError, LeaseLost, PermanentJobError, RetryableJobError
from powerpost.jobs.registry import JobHandler, get_handler, register
from powerpost.jobs.repository import JobInfo
from powerpost.jobs.service import backoff_delay, enqueue

__all__ = [
    "JobContext",
    "JobEngine",
    "JobError",
    "JobHandler",
    "JobInfo",
    "LeaseLost",
    "PermanentJobError",
    "RetryableJobError",
    "backoff_delay",
    "enqueue",
    "get_handler",
    "register",
]

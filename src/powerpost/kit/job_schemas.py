"""The public shapes every paid job's endpoints share (§6.6–6.9): the status a job is in,
what starting one answers, and the `error` a failed one shows.

Here rather than in one feature so images and videos (and whatever comes next) speak them
without importing each other.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

__all__ = ["JobErrorBody", "JobStarted", "JobStatus"]

JobStatus = Literal["pending", "processing", "completed", "failed"]


class JobStarted(BaseModel):
    status: JobStatus
    credits_used: int
    remaining_credits: int
    status_url: str


class JobErrorBody(BaseModel):
    code: str
    message: str

"""The public shapes of the publishing calls (§7); their dry runs answer with
`kit.dry_run.DryRun` (§14)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from powerpost.kit.schemas import RequestModel


class ScheduleRequest(RequestModel):
    scheduled_at: str = Field(
        max_length=64,
        description="ISO-8601 with a UTC offset (2026-12-24T09:00:00+01:00 or …Z), "
        "1 minute to 60 days ahead",
    )


class PublishStarted(BaseModel):
    post_id: str
    status: Literal["publishing"]
    credits_used: int = Field(description="Held now; what does not post is given back")
    status_url: str


class Scheduled(BaseModel):
    post_id: str
    status: Literal["scheduled"]
    scheduled_at: str


class Cancelled(BaseModel):
    post_id: str
    status: Literal["draft"]

"""The public shapes of §9. Field rules beyond JSON types live in the service, which names
the field in its 400 (so a bad date and an unknown platform read the same way)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from powerpost.kit.schemas import RequestModel


class EntryCreate(RequestModel):
    title: str = Field(description="1–500 characters (surrounding whitespace is trimmed)")
    description: str | None = Field(default=None, description="At most 5000 characters")
    scheduled_date: str = Field(description="The day, `YYYY-MM-DD`")
    scheduled_time: str | None = Field(
        default=None, description="`HH:MM`, 24-hour wall-clock time; null for the whole day"
    )
    platforms: list[str] = Field(
        default_factory=list,
        description="Any of instagram, tiktok, youtube, x, facebook, linkedin "
        "(repeats are collapsed, first order kept)",
    )


class EntryUpdate(RequestModel):
    """At least one field; `description` and `scheduled_time` may be null to clear them,
    `platforms` replaces the whole list."""

    title: str | None = None
    description: str | None = None
    scheduled_date: str | None = None
    scheduled_time: str | None = None
    platforms: list[str] | None = None


class EntryOut(BaseModel):
    entry_id: str
    title: str
    description: str | None
    scheduled_date: str
    scheduled_time: str | None
    platforms: list[str]
    status: Literal["planned"]
    created_at: str
    updated_at: str


class EntryList(BaseModel):
    entries: list[EntryOut]


class Deleted(BaseModel):
    success: Literal[True]

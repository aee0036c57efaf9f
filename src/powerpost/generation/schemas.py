"""The public shapes of §6.3–6.5."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from powerpost.kit.schemas import RequestModel

GenerationStatus = Literal["pending", "processing", "completed", "failed"]


class GenerateRequest(RequestModel):
    prompt: str | None = Field(
        default=None, description="3–2000 characters; required when no media_ids are given"
    )
    media_ids: list[str] | None = Field(
        default=None, description="Up to 10 images, or exactly one video, of this workspace"
    )
    post_types: list[str] = Field(
        description="At least one post type (§4); one caption per platform"
    )
    research_mode: Literal["regular", "deep"]
    writing_style_id: str | None = Field(
        default=None, description="A writing style of this workspace (managed in the dashboard)"
    )
    cta_text: str | None = Field(default=None, description="A call to action, ≤ 100 characters")
    source_urls: list[str] | None = Field(
        default=None, description="Up to 10 HTTPS pages to draw facts from (+1 credit each)"
    )


class GenerationStarted(BaseModel):
    generation_id: str
    status: GenerationStatus
    credits_used: int
    remaining_credits: int
    status_url: str


class YoutubeOutput(BaseModel):
    title: str
    description: str


class GenerationError(BaseModel):
    code: str
    message: str


class FailedSource(BaseModel):
    url: str
    reason: str


class GenerationSummary(BaseModel):
    generation_id: str
    status: GenerationStatus
    prompt: str | None
    platforms: list[str]
    research_mode: Literal["regular", "deep"]
    credits_used: int
    created_at: str


class GenerationDetail(GenerationSummary):
    post_types: list[str] = Field(description="The post types asked for (duplicates collapsed)")
    outputs: dict[str, str | YoutubeOutput] | None = Field(
        default=None,
        description="Only when completed: one caption per platform; YouTube gets "
        "{title, description}",
    )
    error: GenerationError | None = Field(default=None, description="Only when failed")
    failed_sources: list[FailedSource] | None = Field(
        default=None,
        description="Source URLs that were not used (their credits were given back)",
    )


class GenerationList(BaseModel):
    data: list[GenerationSummary]
    next_cursor: str | None
    has_more: bool

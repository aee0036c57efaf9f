"""The public shapes of §7: posts and their items."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from powerpost.kit.schemas import RequestModel

PostStatus = Literal["draft", "scheduled", "publishing", "published", "partial", "failed"]
ItemStatus = Literal["draft", "posting", "posted", "failed"]

MAX_ITEMS = 12
MAX_CONTENT_CHARS = 70_000  # above every platform's cap: the per-platform rule names the real one
MAX_TITLE_CHARS = 400
MAX_MEDIA_PER_ITEM = 35  # TikTok photo posts, the largest carousel of the six


class ItemIn(RequestModel):
    post_type: str = Field(max_length=64, description="One post type of §4")
    content: str | None = Field(
        default=None,
        max_length=MAX_CONTENT_CHARS,
        description="The caption; may be omitted when generation_id gives this platform's",
    )
    title: str | None = Field(
        default=None, max_length=MAX_TITLE_CHARS, description="Required for YouTube (≤ 100)"
    )
    media_ids: list[str] = Field(
        default_factory=list,
        max_length=MAX_MEDIA_PER_ITEM,
        description="Media of this workspace, in the order they appear",
    )


class CreatePostRequest(RequestModel):
    generation_id: str | None = Field(
        default=None, max_length=64, description="A completed caption generation to draw from"
    )
    items: list[ItemIn] = Field(
        min_length=1, max_length=MAX_ITEMS, description="1–12 items, one per post type"
    )


class UpdatePostRequest(RequestModel):
    """A draft's new items, replacing the old ones whole (the same rules as creating)."""

    items: list[ItemIn] = Field(min_length=1, max_length=MAX_ITEMS)


class ItemError(BaseModel):
    code: str
    message: str


class PostItemOut(BaseModel):
    item_id: str
    post_type: str
    platform: str
    content: str | None
    title: str | None
    media_ids: list[str]
    status: ItemStatus
    platform_post_id: str | None = None
    platform_url: str | None = None
    error: ItemError | None = None
    posted_at: str | None = None


class PostOut(BaseModel):
    post_id: str
    status: PostStatus
    generation_id: str | None
    scheduled_at: str | None
    credits_used: int
    created_at: str
    updated_at: str
    published_at: str | None
    items: list[PostItemOut]


class PostList(BaseModel):
    data: list[PostOut]
    next_cursor: str | None
    has_more: bool


class Deleted(BaseModel):
    success: bool

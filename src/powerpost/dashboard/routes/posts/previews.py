"""What the Posts pages show of a post: labels, per-platform previews (text with its
hashtags, media thumbnails, titles), item outcomes and the attempt history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from powerpost.config import Settings
from powerpost.kit.platforms import HASHTAG_RE, RULES
from powerpost.media.signing import signed_path
from powerpost.models import Media, Post, PostItem, PublishAttempt
from powerpost.posts.schemas import MAX_CONTENT_CHARS

THUMB_BOX = 72

PLATFORM_LABELS = {
    "instagram": "Instagram",
    "tiktok": "TikTok",
    "youtube": "YouTube",
    "x": "X",
    "facebook": "Facebook",
    "linkedin": "LinkedIn",
}
POST_TYPE_LABELS = {
    "instagram-feed": "Instagram feed",
    "instagram-reel": "Instagram Reel",
    "instagram-story": "Instagram Story",
    "tiktok-video": "TikTok video",
    "tiktok-photos": "TikTok photos",
    "youtube-video": "YouTube video",
    "youtube-short": "YouTube Short",
    "x-post": "X post",
    "facebook-post": "Facebook post",
    "facebook-reel": "Facebook Reel",
    "facebook-story": "Facebook Story",
    "linkedin-post": "LinkedIn post",
}
STATUS_LABELS = {
    "draft": "Draft",
    "scheduled": "Scheduled",
    "publishing": "Publishing",
    "published": "Published",
    "partial": "Partly published",
    "failed": "Failed",
    "posting": "Posting",
    "posted": "Posted",
}
OUTCOME_LABELS = {
    "pending": "No answer yet",
    "posted": "Posted",
    "failed": "Failed",
    "retrying": "Failed, retrying",
    "reconciled": "Found already posted",
    "unknown": "Unknown (looked up before retrying)",
}


@dataclass(frozen=True)
class Thumb:
    url: str | None
    width: int
    height: int
    kind: str
    name: str


@dataclass(frozen=True)
class ItemView:
    id: str
    position: int
    post_type: str
    label: str
    platform: str
    platform_label: str
    content: str
    # The content cut at hashtags: (text, is_hashtag), so the template highlights them
    # while autoescaping every piece.
    parts: list[tuple[str, bool]]
    title: str | None
    takes_title: bool
    title_max: int | None
    caption_max: int
    thumbs: list[Thumb]
    missing_media: int
    status: str
    status_label: str
    platform_url: str | None
    platform_post_id: str | None
    error_code: str | None
    error_message: str | None
    posted_at: datetime | None


@dataclass(frozen=True)
class AttemptView:
    started_at: datetime
    finished_at: datetime | None
    item_label: str
    adapter: str
    outcome: str
    outcome_label: str
    error_code: str | None
    raw_error: str | None


@dataclass(frozen=True)
class PostView:
    id: str
    status: str
    status_label: str
    mode: str
    made_by: str
    summary: str
    created_at: datetime
    updated_at: datetime
    scheduled_at: datetime | None
    published_at: datetime | None
    credits_used: int
    items: list[ItemView]
    attempts: list[AttemptView] = field(default_factory=list)


def hashtag_parts(text: str) -> list[tuple[str, bool]]:
    parts: list[tuple[str, bool]] = []
    last = 0
    for match in HASHTAG_RE.finditer(text):
        if match.start() > last:
            parts.append((text[last : match.start()], False))
        parts.append((match.group(0), True))
        last = match.end()
    if last < len(text):
        parts.append((text[last:], False))
    return parts


def _fit(width: int, height: int, box: int) -> tuple[int, int]:
    scale = min(1.0, box / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _thumb(item: Media, settings: Settings) -> Thumb:
    width, height = _fit(
        item.thumbnail_width or item.width, item.thumbnail_height or item.height, THUMB_BOX
    )
    return Thumb(
        # Same-origin signed paths, as on the Media page.
        url=signed_path(settings, item.id, "thumbnail") if item.thumbnail_key else None,
        width=width,
        height=height,
        kind=item.kind,
        name=item.file_name,
    )


def item_view(item: PostItem, media: dict[str, Media], settings: Settings) -> ItemView:
    rules = RULES.get(item.post_type)
    found = [media[m] for m in item.media_ids if m in media]
    content = item.content or ""
    return ItemView(
        id=item.id,
        position=item.position,
        post_type=item.post_type,
        label=POST_TYPE_LABELS.get(item.post_type, item.post_type),
        platform=item.platform,
        platform_label=PLATFORM_LABELS.get(item.platform, item.platform),
        content=content,
        parts=hashtag_parts(content),
        title=item.title,
        takes_title=rules is not None and (rules.needs_title or rules.title_max is not None),
        title_max=rules.title_max if rules is not None else None,
        caption_max=rules.caption_max if rules is not None else MAX_CONTENT_CHARS,
        thumbs=[_thumb(m, settings) for m in found],
        missing_media=len(item.media_ids) - len(found),
        status=item.status,
        status_label=STATUS_LABELS.get(item.status, item.status),
        platform_url=item.platform_url,
        platform_post_id=item.platform_post_id,
        error_code=item.error_code if item.status == "failed" else None,
        error_message=item.error_message if item.status == "failed" else None,
        posted_at=item.posted_at,
    )


def made_by(post: Post, key_names: dict[str, str]) -> str:
    if post.created_by_key_id is None:
        return "you (dashboard)"
    name = key_names.get(post.created_by_key_id)
    return f"API key “{name}”" if name else "an API key that no longer exists"


def post_view(
    post: Post,
    items: Sequence[PostItem],
    media: dict[str, Media],
    key_names: dict[str, str],
    settings: Settings,
    attempts: Sequence[PublishAttempt] = (),
) -> PostView:
    views = [item_view(i, media, settings) for i in items]
    labels = {i.id: i.label for i in views}
    return PostView(
        id=post.id,
        status=post.status,
        status_label=STATUS_LABELS.get(post.status, post.status),
        mode=post.mode,
        made_by=made_by(post, key_names),
        summary=" · ".join(v.label for v in views) or "Post",
        created_at=post.created_at,
        updated_at=post.updated_at,
        scheduled_at=post.scheduled_at,
        published_at=post.published_at,
        credits_used=post.credits_used,
        items=views,
        attempts=[
            AttemptView(
                started_at=a.started_at,
                finished_at=a.finished_at,
                item_label=labels.get(a.item_id, "Removed item"),
                adapter=a.adapter,
                outcome=a.outcome,
                outcome_label=OUTCOME_LABELS.get(a.outcome, a.outcome),
                error_code=a.error_code,
                raw_error=a.raw_error,
            )
            for a in attempts
        ],
    )

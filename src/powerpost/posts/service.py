"""Drafts: create, read, list, replace and delete posts, validating every item against its
platform's published limits (`kit.platforms.RULES`, the one table) before anything is
written. Services never commit; a refused request leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.generation import repository as generations
from powerpost.kit.actor import Actor
from powerpost.kit.clock import iso_z, utcnow
from powerpost.kit.errors import Conflict, NotFound, ValidationError
from powerpost.kit.ids import new_id, parse_uuid
from powerpost.kit.pagination import Page, paginate
from powerpost.kit.platforms import POST_TYPES, validate_item
from powerpost.media import repository as media_repository
from powerpost.media.service import get_workspace_media
from powerpost.models import Generation, Media, Post, PostItem
from powerpost.posts import repository
from powerpost.posts.schemas import (
    ItemError,
    ItemIn,
    PostItemOut,
    PostOut,
)

# A workspace's posts are its history; the cap only stops a runaway script filling the disk.
MAX_POSTS_PER_WORKSPACE = 1_000_000


# Who acts on a post: the workspace and mode it lives in, and the key (None for a person in
# the dashboard). The same actor every paid feature takes, so publishing hands it on as is.
Author = Actor


async def _generation(
    session: AsyncSession, author: Author, generation_id: str | None
) -> Generation | None:
    """The completed caption generation a post draws on: of the author's workspace and
    mode (another mode's is answered exactly as a missing one)."""
    if generation_id is None:
        return None
    canonical = parse_uuid(generation_id)
    found = (
        await generations.get_workspace_generation(
            session, author.workspace_id, author.mode, canonical
        )
        if canonical is not None
        else None
    )
    if found is None:
        raise NotFound(f"generation_id: generation '{generation_id[:64]}' not found")
    if found.status != "completed" or not found.outputs:
        raise Conflict(
            f"generation_id: the generation is {found.status}; a post can draw only on a "
            "completed one"
        )
    return found


def _from_generation(
    generation: Generation | None, platform: str, item: ItemIn
) -> tuple[str | None, str | None]:
    """The item's content and title, filling what it left out from the generation's
    output for its platform (YouTube's is {title, description})."""
    content, title = item.content, item.title
    if generation is None or generation.outputs is None:
        return content, title
    output: Any = generation.outputs.get(platform)
    if isinstance(output, dict):
        if content is None:
            content = output.get("description")
        if title is None:
            title = output.get("title")
    elif isinstance(output, str) and content is None:
        content = output
    return content, title


async def build_items(
    session: AsyncSession,
    author: Author,
    post_id: str,
    items: Sequence[ItemIn],
    generation: Generation | None,
) -> list[PostItem]:
    """Validated item rows for `post_id`; raises naming the first bad item and field.
    Media must be the author's workspace's and of the author's mode."""
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        where = f"items[{index}].post_type"
        if item.post_type not in POST_TYPES:
            raise ValidationError(
                f"{where}: unknown post type '{item.post_type[:40]}'; expected one of "
                + ", ".join(POST_TYPES)
            )
        if item.post_type in seen:
            raise ValidationError(
                f"{where}: '{item.post_type}' is already items[{seen[item.post_type]}]; "
                "a post holds at most one item per post type"
            )
        seen[item.post_type] = index

    now = utcnow()
    rows: list[PostItem] = []
    for index, item in enumerate(items):
        platform = POST_TYPES[item.post_type]
        media: list[Media] = []
        for position, raw in enumerate(item.media_ids):
            if item.media_ids.index(raw) != position:
                raise ValidationError(f"items[{index}].media_ids[{position}]: listed twice")
        try:
            media = await get_workspace_media(
                session, author.workspace_id, author.mode, item.media_ids
            )
        except NotFound as missing:
            raise NotFound(f"items[{index}].media_ids: {missing.message}") from None
        content, title = _from_generation(generation, platform, item)
        if content is not None:
            content = content.strip() or None
        if title is not None:
            title = title.strip() or None
        problem = validate_item(
            item.post_type,
            content,
            title,
            [m.kind for m in media],
            [m.duration_seconds for m in media if m.kind == "video" and m.duration_seconds],
        )
        if problem is not None:
            raise ValidationError(f"items[{index}]: {problem}")
        rows.append(
            PostItem(
                id=new_id(),
                post_id=post_id,
                position=index,
                post_type=item.post_type,
                platform=platform,
                content=content,
                title=title,
                media_ids=[m.id for m in media],
                status="draft",
                publish_round=0,
                updated_at=now,
            )
        )
    return rows


async def create_post(
    session: AsyncSession,
    author: Author,
    *,
    items: Sequence[ItemIn],
    generation_id: str | None,
) -> tuple[Post, list[PostItem]]:
    generation = await _generation(session, author, generation_id)
    if await repository.count_posts(session, author.workspace_id) >= MAX_POSTS_PER_WORKSPACE:
        raise Conflict("This workspace holds the maximum number of posts; delete some drafts")
    now = utcnow()
    post = Post(
        id=new_id(),
        account_id=author.account_id,
        workspace_id=author.workspace_id,
        mode=author.mode,
        created_by_key_id=author.api_key_id,
        generation_id=generation.id if generation is not None else None,
        status="draft",
        scheduled_at=None,
        publish_round=0,
        test_scenario=None,
        credits_used=0,
        created_at=now,
        updated_at=now,
        published_at=None,
    )
    rows = await build_items(session, author, post.id, items, generation)
    session.add(post)
    await session.flush()
    session.add_all(rows)
    await session.flush()
    return post, rows


async def get_post(
    session: AsyncSession, workspace_id: str, mode: str, post_id: str
) -> tuple[Post, list[PostItem]]:
    """A post of this workspace and mode with its items; 404 for anything else."""
    canonical = parse_uuid(post_id)
    post = (
        await repository.get_post(session, workspace_id, mode, canonical)
        if canonical is not None
        else None
    )
    if post is None:
        raise NotFound("Post not found")
    items = (await repository.items_of(session, [post.id]))[post.id]
    return post, items


def _require_draft(post: Post, action: str) -> None:
    if post.status != "draft":
        raise Conflict(f"Only a draft can be {action}; this post is {post.status}")


async def update_post(
    session: AsyncSession, author: Author, post_id: str, items: Sequence[ItemIn]
) -> tuple[Post, list[PostItem]]:
    post, _ = await get_post(session, author.workspace_id, author.mode, post_id)
    _require_draft(post, "edited")
    generation = (
        await _generation(session, author, post.generation_id) if post.generation_id else None
    )
    rows = await build_items(session, author, post.id, items, generation)
    await repository.replace_items(session, post.id, rows)
    post.updated_at = utcnow()
    await session.flush()
    return post, rows


async def delete_post(session: AsyncSession, author: Author, post_id: str) -> None:
    post, _ = await get_post(session, author.workspace_id, author.mode, post_id)
    _require_draft(post, "deleted")
    await repository.delete_post(session, post.id)


async def list_posts(
    session: AsyncSession,
    workspace_id: str,
    mode: str,
    *,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[Page[Post], dict[str, list[PostItem]]]:
    page = await paginate(
        session,
        repository.workspace_posts(workspace_id, mode, status),
        Post.created_at,
        Post.id,
        limit=limit,
        cursor=cursor,
        key=lambda p: (p.created_at, p.id),
    )
    items = await repository.items_of(session, [p.id for p in page.items])
    return page, items


async def newest_posts(
    session: AsyncSession, workspace_ids: Sequence[str], *, limit: int
) -> tuple[list[Post], bool, dict[str, list[PostItem]]]:
    """An operator's view: the newest posts of these workspaces, live and test together,
    whether more exist, and each one's items."""
    found = await repository.newest_in_workspaces(session, workspace_ids, limit + 1)
    shown = found[:limit]
    items = await repository.items_of(session, [p.id for p in shown])
    return shown, len(found) > limit, items


async def find_post(
    session: AsyncSession, workspace_ids: Sequence[str], post_id: str
) -> tuple[Post, list[PostItem]]:
    """A post of any of these workspaces, in either mode (an operator's view); 404 else."""
    canonical = parse_uuid(post_id)
    post = (
        await repository.get_in_workspaces(session, workspace_ids, canonical)
        if canonical is not None
        else None
    )
    if post is None:
        raise NotFound("Post not found")
    return post, (await repository.items_of(session, [post.id]))[post.id]


async def calendar_posts(
    session: AsyncSession,
    workspace_id: str,
    mode: str,
    start: datetime,
    end: datetime,
    *,
    limit: int,
) -> tuple[list[Post], dict[str, list[PostItem]]]:
    """What a calendar shows of [start, end): posts scheduled then, or published then,
    soonest first (at most `limit`), with their items."""
    found = await repository.on_calendar(session, workspace_id, mode, start, end, limit)
    return found, await repository.items_of(session, [p.id for p in found])


def item_out(item: PostItem) -> PostItemOut:
    return PostItemOut(
        item_id=item.id,
        post_type=item.post_type,
        platform=item.platform,
        content=item.content,
        title=item.title,
        media_ids=list(item.media_ids),
        status=item.status,
        platform_post_id=item.platform_post_id,
        platform_url=item.platform_url,
        error=(
            ItemError(code=item.error_code, message=item.error_message or "")
            if item.status == "failed" and item.error_code
            else None
        ),
        posted_at=iso_z(item.posted_at),
    )


def post_out(post: Post, items: Sequence[PostItem]) -> PostOut:
    """The post as `GET /posts/{id}` (and the post.* webhook events) show it."""
    return PostOut(
        post_id=post.id,
        status=post.status,
        generation_id=post.generation_id,
        scheduled_at=iso_z(post.scheduled_at),
        credits_used=post.credits_used,
        created_at=iso_z(post.created_at) or "",
        updated_at=iso_z(post.updated_at) or "",
        published_at=iso_z(post.published_at),
        items=[item_out(i) for i in items],
    )


# The dashboard's review queue: what waits for a person, what is planned, what happened.
QUEUE_DRAFTS = ("draft",)
QUEUE_SCHEDULED = ("scheduled",)
QUEUE_RECENT = ("publishing", "published", "partial", "failed")


@dataclass(frozen=True)
class QueueSection:
    posts: list[Post]
    total: int


@dataclass(frozen=True)
class ReviewQueue:
    """Drafts newest first, scheduled posts soonest first, then the most recently
    published (or publishing, partial, failed) ones; `items` holds every post's items."""

    drafts: QueueSection
    scheduled: QueueSection
    recent: QueueSection
    items: dict[str, list[PostItem]]


async def review_queue(
    session: AsyncSession, workspace_id: str, mode: str, *, limit: int
) -> ReviewQueue:
    async def section(
        statuses: tuple[str, ...],
        order: Literal["created_at", "scheduled_at", "updated_at"],
        descending: bool,
    ) -> QueueSection:
        posts = await repository.posts_in_statuses(
            session, workspace_id, mode, statuses, order=order, descending=descending, limit=limit
        )
        total = (
            len(posts)
            if len(posts) < limit
            else await repository.count_in_statuses(session, workspace_id, mode, statuses)
        )
        return QueueSection(posts=posts, total=total)

    drafts = await section(QUEUE_DRAFTS, "created_at", True)
    scheduled = await section(QUEUE_SCHEDULED, "scheduled_at", False)
    recent = await section(QUEUE_RECENT, "updated_at", True)
    every = drafts.posts + scheduled.posts + recent.posts
    items = await repository.items_of(session, [p.id for p in every])
    return ReviewQueue(drafts=drafts, scheduled=scheduled, recent=recent, items=items)


async def preview_media(
    session: AsyncSession, workspace_id: str, items: Sequence[PostItem]
) -> dict[str, Media]:
    """The live media the items refer to, by id, for previews: a file deleted since the
    draft was made is simply absent (publishing names it; a preview must still show).
    For a person, who sees posts of both modes: each post was checked to use only media of
    its own mode when it was made."""
    wanted = {media_id for item in items for media_id in item.media_ids}
    found = await media_repository.live_in_workspace(session, workspace_id, None, wanted)
    return {m.id: m for m in found}

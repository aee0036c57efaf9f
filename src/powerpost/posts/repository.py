"""All SQL of posts and their items (the publishing state machine's SQL is in
`publishing/repository.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, Select, and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.models import Post, PostItem


async def get_post(
    session: AsyncSession, workspace_id: str, mode: str, post_id: str
) -> Post | None:
    stmt = select(Post).where(
        Post.id == post_id, Post.workspace_id == workspace_id, Post.mode == mode
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def items_of(session: AsyncSession, post_ids: Sequence[str]) -> dict[str, list[PostItem]]:
    """Each post's items in position order (one query for a whole page)."""
    result: dict[str, list[PostItem]] = {post_id: [] for post_id in post_ids}
    if not post_ids:
        return result
    stmt = (
        select(PostItem)
        .where(PostItem.post_id.in_(post_ids))
        .order_by(PostItem.post_id, PostItem.position)
        .execution_options(populate_existing=True)
    )
    for item in (await session.execute(stmt)).scalars():
        result[item.post_id].append(item)
    return result


def workspace_posts(workspace_id: str, mode: str, status: str | None) -> Select[Post]:
    stmt = select(Post).where(Post.workspace_id == workspace_id, Post.mode == mode)
    if status is not None:
        stmt = stmt.where(Post.status == status)
    return stmt


async def replace_items(session: AsyncSession, post_id: str, items: Sequence[PostItem]) -> None:
    await session.execute(delete(PostItem).where(PostItem.post_id == post_id))
    await session.flush()
    session.add_all(items)


async def delete_post(session: AsyncSession, post_id: str) -> None:
    await session.execute(delete(Post).where(Post.id == post_id))


async def count_posts(session: AsyncSession, workspace_id: str) -> int:
    stmt = select(func.count()).select_from(Post).where(Post.workspace_id == workspace_id)
    return int((await session.execute(stmt)).scalar_one())


async def posts_in_statuses(
    session: AsyncSession,
    workspace_id: str,
    mode: str,
    statuses: Sequence[str],
    *,
    order: Literal["created_at", "scheduled_at", "updated_at"],
    descending: bool,
    limit: int,
) -> list[Post]:
    """Posts of one workspace and mode in any of `statuses`, ordered by `order` (ties by
    id), at most `limit` (the dashboard's review queue)."""
    column = {
        "created_at": Post.created_at,
        "scheduled_at": Post.scheduled_at,
        "updated_at": Post.updated_at,
    }[order]
    key = column.desc() if descending else column.asc()
    tie = Post.id.desc() if descending else Post.id.asc()
    stmt = (
        workspace_posts(workspace_id, mode, None)
        .where(Post.status.in_(list(statuses)))
        .order_by(key, tie)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def count_in_statuses(
    session: AsyncSession, workspace_id: str, mode: str, statuses: Sequence[str]
) -> int:
    stmt = (
        select(func.count())
        .select_from(Post)
        .where(
            Post.workspace_id == workspace_id,
            Post.mode == mode,
            Post.status.in_(list(statuses)),
        )
    )
    return int((await session.execute(stmt)).scalar_one())


async def newest_in_workspaces(
    session: AsyncSession, workspace_ids: Sequence[str], limit: int
) -> list[Post]:
    """Posts of these workspaces in both modes, newest first (the operator CLI's list)."""
    if not workspace_ids:
        return []
    stmt = (
        select(Post)
        .where(Post.workspace_id.in_(list(workspace_ids)))
        .order_by(Post.created_at.desc(), Post.id.desc())
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def get_in_workspaces(
    session: AsyncSession, workspace_ids: Sequence[str], post_id: str
) -> Post | None:
    if not workspace_ids:
        return None
    stmt = select(Post).where(Post.id == post_id, Post.workspace_id.in_(list(workspace_ids)))
    return (await session.execute(stmt)).scalar_one_or_none()


def _calendar_time() -> ColumnElement[datetime | None]:
    # Where a post stands on a calendar: when it went out, else when it is due to.
    return func.coalesce(Post.published_at, Post.scheduled_at)


async def on_calendar(
    session: AsyncSession,
    workspace_id: str,
    mode: str,
    start: datetime,
    end: datetime,
    limit: int,
) -> list[Post]:
    """Posts of one workspace and mode published, or scheduled and not yet published, in
    [start, end), soonest first, at most `limit`. Drafts have no time; a post that failed
    on every platform never went out, so it has none either."""
    stmt = (
        workspace_posts(workspace_id, mode, None)
        .where(
            Post.status != "draft",
            or_(
                and_(Post.published_at >= start, Post.published_at < end),
                and_(
                    Post.published_at.is_(None),
                    Post.scheduled_at >= start,
                    Post.scheduled_at < end,
                ),
            ),
        )
        .order_by(_calendar_time(), Post.id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())

"""The SQL of the publishing state machine: guarded transitions, so each happens once.

Every transition is one UPDATE whose WHERE names the state it leaves. On PostgreSQL the
row stays locked until commit and a concurrent twin re-checks the WHERE afterwards and
matches nothing; SQLite runs write transactions one at a time (BEGIN IMMEDIATE).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.models import Post, PostItem, PublishAttempt, PublishRound


async def move_post(
    session: AsyncSession,
    post_id: str,
    *,
    from_statuses: Sequence[str],
    values: dict[str, Any],
    scheduled_at: datetime | None = None,
) -> bool:
    """Move a post out of one of `from_statuses`; False if it was not in one (anymore)."""
    stmt = update(Post).where(Post.id == post_id, Post.status.in_(from_statuses))
    if scheduled_at is not None:
        stmt = stmt.where(Post.scheduled_at == scheduled_at)
    stmt = stmt.values(**values).returning(Post.id).execution_options(synchronize_session=False)
    return (await session.execute(stmt)).first() is not None


async def start_round(
    session: AsyncSession,
    post_id: str,
    from_statuses: Sequence[str],
    scheduled_at: datetime | None = None,
    *,
    values: dict[str, Any],
) -> int | None:
    """Open the next publish round of a post in `from_statuses` (and, for a scheduled
    fire, still scheduled for `scheduled_at`), setting `values` too; its number, or None."""
    stmt = update(Post).where(Post.id == post_id, Post.status.in_(from_statuses))
    if scheduled_at is not None:
        stmt = stmt.where(Post.scheduled_at == scheduled_at)
    stmt = (
        stmt.values(status="publishing", publish_round=Post.publish_round + 1, **values)
        .returning(Post.publish_round)
        .execution_options(synchronize_session=False)
    )
    row = (await session.execute(stmt)).first()
    return None if row is None else int(row[0])


async def post_items(session: AsyncSession, post_id: str) -> list[PostItem]:
    stmt = (
        select(PostItem)
        .where(PostItem.post_id == post_id)
        .order_by(PostItem.position)
        .execution_options(populate_existing=True)
    )
    return list((await session.execute(stmt)).scalars())


async def round_id(session: AsyncSession, post_id: str, number: int) -> str | None:
    stmt = select(PublishRound.id).where(
        PublishRound.post_id == post_id, PublishRound.number == number
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_item(session: AsyncSession, item_id: str) -> PostItem | None:
    return await session.get(PostItem, item_id, populate_existing=True)


async def still_posting(session: AsyncSession, post_id: str) -> int:
    stmt = (
        select(func.count())
        .select_from(PostItem)
        .where(PostItem.post_id == post_id, PostItem.status == "posting")
    )
    return int((await session.execute(stmt)).scalar_one())


async def send_items(
    session: AsyncSession, post_id: str, item_ids: Sequence[str], round_: int, now: datetime
) -> None:
    await session.execute(
        update(PostItem)
        .where(PostItem.post_id == post_id, PostItem.id.in_(item_ids))
        .values(
            status="posting",
            publish_round=round_,
            error_code=None,
            error_message=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )


async def conclude_item(
    session: AsyncSession, item_id: str, round_: int, values: dict[str, Any]
) -> bool:
    """Settle an item still `posting` in `round_`; False if something else already did."""
    stmt = (
        update(PostItem)
        .where(
            PostItem.id == item_id,
            PostItem.status == "posting",
            PostItem.publish_round == round_,
        )
        .values(**values)
        .returning(PostItem.id)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(stmt)).first() is not None


async def attempts_of(session: AsyncSession, item_id: str) -> list[PublishAttempt]:
    stmt = (
        select(PublishAttempt)
        .where(PublishAttempt.item_id == item_id)
        .order_by(PublishAttempt.started_at, PublishAttempt.id)
    )
    return list((await session.execute(stmt)).scalars())


async def attempts_of_post(session: AsyncSession, post_id: str) -> list[PublishAttempt]:
    stmt = (
        select(PublishAttempt)
        .where(PublishAttempt.post_id == post_id)
        .order_by(PublishAttempt.started_at, PublishAttempt.id)
    )
    return list((await session.execute(stmt)).scalars())


async def unanswered(session: AsyncSession, item_id: str) -> bool:
    """Whether an earlier call for this item may have made a post we never heard of."""
    stmt = (
        select(func.count())
        .select_from(PublishAttempt)
        .where(
            PublishAttempt.item_id == item_id,
            PublishAttempt.outcome.in_(("pending", "unknown")),
        )
    )
    return int((await session.execute(stmt)).scalar_one()) > 0


async def close_attempt(session: AsyncSession, attempt_id: str, values: dict[str, Any]) -> None:
    await session.execute(
        update(PublishAttempt)
        .where(PublishAttempt.id == attempt_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def settle_unanswered(
    session: AsyncSession, item_id: str, outcome: str, now: datetime
) -> None:
    """Once an item's fate is known, its earlier unanswered calls are answered too."""
    await session.execute(
        update(PublishAttempt)
        .where(
            PublishAttempt.item_id == item_id,
            PublishAttempt.outcome.in_(("pending", "unknown")),
        )
        .values(outcome=outcome, finished_at=now)
        .execution_options(synchronize_session=False)
    )

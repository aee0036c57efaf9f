"""All SQL of webhook endpoints, deliveries and attempts. Every read a client can reach is
confined to one workspace."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    Workspace,
)


async def lock_workspace(session: AsyncSession, workspace_id: str) -> None:
    """Serialise endpoint creation in one workspace until commit, so the cap is exact under
    concurrency: PostgreSQL takes a row lock; SQLite's write transactions are already one
    at a time."""
    await session.execute(
        select(Workspace.id).where(Workspace.id == workspace_id).with_for_update()
    )


async def count_endpoints(session: AsyncSession, workspace_id: str) -> int:
    stmt = select(func.count()).where(WebhookEndpoint.workspace_id == workspace_id)
    return int((await session.execute(stmt)).scalar_one())


def _in_mode(stmt: Select[WebhookEndpoint], mode: str | None) -> Select[WebhookEndpoint]:
    # None: a person (dashboard, operator CLI), who owns both modes.
    return stmt if mode is None else stmt.where(WebhookEndpoint.mode == mode)


async def endpoints(
    session: AsyncSession, workspace_id: str, mode: str | None
) -> Sequence[WebhookEndpoint]:
    stmt = _in_mode(
        select(WebhookEndpoint).where(WebhookEndpoint.workspace_id == workspace_id), mode
    ).order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    return (await session.execute(stmt)).scalars().all()


async def endpoint(
    session: AsyncSession,
    workspace_id: str,
    mode: str | None,
    endpoint_id: str,
    *,
    for_update: bool = False,
) -> WebhookEndpoint | None:
    stmt = _in_mode(
        select(WebhookEndpoint).where(
            WebhookEndpoint.id == endpoint_id, WebhookEndpoint.workspace_id == workspace_id
        ),
        mode,
    )
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def endpoint_by_id(
    session: AsyncSession, endpoint_id: str, *, for_update: bool = False
) -> WebhookEndpoint | None:
    """For the delivery job, which holds an id it wrote itself."""
    stmt = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def subscribed(
    session: AsyncSession, workspace_id: str, mode: str, event: str
) -> list[WebhookEndpoint]:
    """The workspace's enabled endpoints of `mode` that take `event`. Subscriptions are a short JSON
    list per endpoint and a workspace has at most ten endpoints, so filtering in Python is
    cheaper than a portable JSON query."""
    stmt = select(WebhookEndpoint).where(
        WebhookEndpoint.workspace_id == workspace_id,
        WebhookEndpoint.mode == mode,
        WebhookEndpoint.enabled.is_(True),
    )
    rows = (await session.execute(stmt)).scalars().all()
    return [row for row in rows if event in row.events]


async def remove_endpoint(session: AsyncSession, endpoint_id: str) -> None:
    # Deliveries and attempts go with it (ON DELETE CASCADE); queued jobs find no row.
    await session.execute(delete(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id))


async def delivery(
    session: AsyncSession, delivery_id: str, *, for_update: bool = False
) -> WebhookDelivery | None:
    stmt = select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def delivery_of(
    session: AsyncSession, workspace_id: str, endpoint_id: str, delivery_id: str
) -> WebhookDelivery | None:
    stmt = select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id,
        WebhookDelivery.endpoint_id == endpoint_id,
        WebhookDelivery.workspace_id == workspace_id,
    )
    return (await session.execute(stmt)).scalar_one_or_none()


def deliveries_query(
    workspace_id: str, endpoint_id: str, *, status: str | None, event: str | None
) -> Select[WebhookDelivery]:
    stmt = select(WebhookDelivery).where(
        WebhookDelivery.workspace_id == workspace_id, WebhookDelivery.endpoint_id == endpoint_id
    )
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status)
    if event is not None:
        stmt = stmt.where(WebhookDelivery.event == event)
    return stmt


async def event(session: AsyncSession, event_id: str) -> WebhookEvent | None:
    return await session.get(WebhookEvent, event_id)


async def attempts_of(
    session: AsyncSession, delivery_ids: Sequence[str]
) -> Sequence[WebhookAttempt]:
    if not delivery_ids:
        return []
    stmt = (
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id.in_(delivery_ids))
        .order_by(WebhookAttempt.attempted_at, WebhookAttempt.id)
    )
    return (await session.execute(stmt)).scalars().all()


async def success_counts(
    session: AsyncSession, endpoint_ids: Sequence[str], since: datetime
) -> dict[str, tuple[int, int]]:
    """endpoint id -> (successful attempts, all attempts) since `since`."""
    if not endpoint_ids:
        return {}
    stmt = (
        select(
            WebhookAttempt.endpoint_id,
            func.sum(case((WebhookAttempt.succeeded.is_(True), 1), else_=0)),
            func.count(),
        )
        .where(WebhookAttempt.endpoint_id.in_(endpoint_ids), WebhookAttempt.attempted_at >= since)
        .group_by(WebhookAttempt.endpoint_id)
    )
    rows = (await session.execute(stmt)).all()
    return {row[0]: (int(row[1] or 0), int(row[2])) for row in rows}


async def delete_older_than(session: AsyncSession, cutoff: datetime, limit: int) -> int:
    """Remove up to `limit` events created before `cutoff` with their deliveries and
    attempts, and any attempt older than it (a redelivered old delivery keeps its new
    ones); returns how many events went."""
    old_attempts = (
        select(WebhookAttempt.id).where(WebhookAttempt.attempted_at < cutoff).limit(limit)
    )
    await session.execute(
        delete(WebhookAttempt).where(WebhookAttempt.id.in_(old_attempts.scalar_subquery()))
    )
    ids = (
        (
            await session.execute(
                select(WebhookEvent.id).where(WebhookEvent.created_at < cutoff).limit(limit)
            )
        )
        .scalars()
        .all()
    )
    if not ids:
        return 0
    # Children first: the cascade is declared, but an explicit order does not depend on
    # SQLite's foreign_keys pragma being on for this connection.
    delivery_ids = select(WebhookDelivery.id).where(WebhookDelivery.event_id.in_(ids))
    await session.execute(
        delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(delivery_ids))
    )
    await session.execute(delete(WebhookDelivery).where(WebhookDelivery.event_id.in_(ids)))
    await session.execute(delete(WebhookEvent).where(WebhookEvent.id.in_(ids)))
    return len(ids)


async def mark_event_delivered(session: AsyncSession, event_id: str, now: datetime) -> None:
    """Stamp the outbox row once none of its deliveries is pending any more."""
    pending = select(WebhookDelivery.id).where(
        WebhookDelivery.event_id == event_id, WebhookDelivery.status == "pending"
    )
    await session.execute(
        update(WebhookEvent)
        .where(
            WebhookEvent.id == event_id,
            WebhookEvent.delivered_at.is_(None),
            ~pending.exists(),
        )
        .values(delivered_at=now)
    )

"""Keyset (cursor) pagination over (created_at, id), newest first.

A page ends at its last row; the next page is "everything strictly older than that row" in
the total order (created_at DESC, id DESC). Rows inserted while a client pages through a
list sort before the cursor, so they never shift later pages: every row that existed when
the walk started is returned exactly once (OFFSET would repeat or skip rows instead).

The cursor is opaque to clients: a versioned, base64url-encoded pair of the last row's
timestamp (microseconds) and id. It carries no secret and grants nothing, since every
query it feeds is already scoped to the caller's workspace; it is only validated strictly
so that a damaged cursor is a clear 400 rather than a silently wrong page.

    stmt = select(Generation).where(Generation.workspace_id == ws)
    page = await paginate(session, stmt, Generation.created_at, Generation.id,
                          limit=limit, cursor=cursor,
                          key=lambda g: (g.created_at, g.id))
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BeforeValidator
from sqlalchemy import ColumnElement, Select, literal, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from powerpost.kit.errors import ValidationError
from powerpost.kit.ids import parse_uuid

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "Cursor",
    "CursorParam",
    "LimitParam",
    "Page",
    "decode_cursor",
    "encode_cursor",
    "older_than",
    "paginate",
]

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
_VERSION = 1
_MAX_CURSOR_CHARS = 200
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _empty_limit_is_default(value: object) -> object:
    # `?limit=` from the documented `?status=&limit=&cursor=` template means "not given"
    return DEFAULT_LIMIT if value == "" else value


# The query parameters of every keyset-paged list route.
LimitParam = Annotated[
    int,
    Query(ge=1, le=MAX_LIMIT, description="Page size, 1 to 100 (default 20)"),
    BeforeValidator(_empty_limit_is_default),
]
CursorParam = Annotated[
    str | None, Query(max_length=200, description="The next_cursor of the previous page")
]

T = TypeVar("T")


@dataclass(frozen=True)
class Cursor:
    """The position after which the next page starts: the last row already seen."""

    created_at: datetime
    id: str


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
    has_more: bool


def encode_cursor(created_at: datetime, row_id: str) -> str:
    if created_at.tzinfo is None:
        raise ValueError("cursor timestamps must be aware UTC")
    # Whole microseconds as an integer survive the round trip exactly (float seconds would
    # not), and a cursor one microsecond off would repeat or skip a row.
    delta = created_at.astimezone(UTC) - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    raw = json.dumps({"v": _VERSION, "t": micros, "i": row_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(value: str, *, field: str = "cursor") -> Cursor:
    """The position a cursor names; `ValidationError` (400) for anything malformed."""
    invalid = ValidationError(
        f"'{field}' is not a valid cursor; use the next_cursor of the previous page",
        details=[{"field": field, "message": "not a valid cursor"}],
    )
    if not value or len(value) > _MAX_CURSOR_CHARS or not value.isascii():
        raise invalid
    try:
        padded = value + "=" * (-len(value) % 4)
        data: Any = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid from None
    if not isinstance(data, dict) or data.get("v") != _VERSION or set(data) != {"v", "t", "i"}:
        raise invalid
    micros, row_id = data["t"], data["i"]
    if not isinstance(micros, int) or isinstance(micros, bool) or not isinstance(row_id, str):
        raise invalid
    canonical = parse_uuid(row_id)
    if canonical is None or canonical != row_id:
        raise invalid
    try:
        moment = _EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        raise invalid from None
    return Cursor(created_at=moment, id=row_id)


def older_than(
    created_col: InstrumentedAttribute[datetime],
    id_col: InstrumentedAttribute[str],
    cursor: Cursor,
) -> ColumnElement[bool]:
    """Rows after `cursor` in (created_at DESC, id DESC) order.

    A row-value comparison, not `created_at < t OR (created_at = t AND id < i)`: both
    SQLite and PostgreSQL seek the (…, created_at, id) index with it, where the OR form
    made SQLite walk every newer row (measured with 1,000,000 posts, bench/publish_fanout.py:
    a page 90 % deep took 287 ms against 6 ms for page 1; now the same)."""
    return tuple_(created_col, id_col) < tuple_(
        literal(cursor.created_at, created_col.type), literal(cursor.id, id_col.type)
    )


async def paginate(
    session: AsyncSession,
    stmt: Select[T],
    created_col: InstrumentedAttribute[datetime],
    id_col: InstrumentedAttribute[str],
    *,
    limit: int,
    cursor: str | None,
    key: Callable[[T], tuple[datetime, str]],
) -> Page[T]:
    """One page of `stmt` (already filtered to the caller's rows), newest first.

    Fetches `limit + 1` rows to learn whether another page exists without a COUNT.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
    if cursor is not None:
        stmt = stmt.where(older_than(created_col, id_col, decode_cursor(cursor)))
    stmt = stmt.order_by(created_col.desc(), id_col.desc()).limit(limit + 1)
    rows: Sequence[T] = (await session.execute(stmt)).scalars().all()
    has_more = len(rows) > limit
    items = list(rows[:limit])
    next_cursor = encode_cursor(*key(items[-1])) if has_more and items else None
    return Page(items=items, next_cursor=next_cursor, has_more=has_more)

"""Loading one tenant-scoped row by a raw id from the URL or body, or answering 404."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from powerpost.kit.errors import NotFound
from powerpost.kit.ids import parse_uuid

T = TypeVar("T")


async def get_or_404(
    raw_id: str, lookup: Callable[[str], Awaitable[T | None]], not_found: str
) -> T:
    """`lookup(canonical id)`, or `NotFound(not_found)`.

    A malformed id is answered exactly like an unknown or foreign one, so a caller cannot
    tell "no such id" from "not yours"; it skips the query, as no stored id can match it.
    `lookup` gets the canonical (lowercase) form, the one the rows hold.
    """
    canonical = parse_uuid(raw_id)
    found = None if canonical is None else await lookup(canonical)
    if found is None:
        raise NotFound(not_found)
    return found

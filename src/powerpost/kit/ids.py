"""Resource ids are UUIDv4 strings, generated in Python (never by the database)."""

from __future__ import annotations

import uuid


def new_id() -> str:
    return str(uuid.uuid4())


def parse_uuid(value: str) -> str | None:
    """The canonical lowercase form of a UUID string, or None when it is not one."""
    if len(value) != 36:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None

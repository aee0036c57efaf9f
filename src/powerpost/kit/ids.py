"""Resource ids are UUIDv4 strings, generated in Python (never by the database)."""

from __future__ import annotations

import re
import uuid

# The 8-4-4-4-12 form, either case. `uuid.UUID` alone also takes braces, a `urn:uuid:`
# prefix and hyphens anywhere (it strips them), so `----` + 32 hex digits was accepted.
_CANONICAL = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


def new_id() -> str:
    return str(uuid.uuid4())


def parse_uuid(value: str) -> str | None:
    """The canonical lowercase form of a UUID string, or None when it is not one.

    Only the 8-4-4-4-12 form is a UUID here (in either letter case): every id we hand
    out has it, and a second spelling of the same id is a second string to get wrong.
    """
    if _CANONICAL.fullmatch(value) is None:
        return None
    return value.lower()

"""Whole numbers from text that people and remote servers send."""

from __future__ import annotations

import re

# ASCII digits only: str.isdigit() also accepts "²" and "①", which int() then refuses.
_WHOLE = re.compile(r"[0-9]{1,18}")


def whole_number(raw: str | None) -> int | None:
    """The number ``raw`` spells in ASCII digits (surrounding spaces allowed), else None."""
    if raw is None:
        return None
    text = raw.strip()
    return int(text) if _WHOLE.fullmatch(text) else None

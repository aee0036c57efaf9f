"""Base for request bodies: unknown fields are refused and JSON types are taken strictly
(`"2"` is not a number and `true` is not 1), so a client's mistake is named, not guessed.

Text is also refused when it cannot be stored or shown safely: JSON allows lone UTF-16
surrogates (`"\\ud800"`), which are not Unicode text and fail when encoded, and control
characters such as NUL, which PostgreSQL refuses in text columns and no caption needs.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

TEXT_REFUSED = "text_not_allowed"
# C0 controls except tab, line feed and carriage return; DEL; lone surrogates.
_BAD_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def find_bad_text(value: Any, path: str = "") -> tuple[str, str] | None:
    """(field path, description) of the first string in ``value`` that is not clean text."""
    if isinstance(value, str):
        found = _BAD_CHARACTER.search(value)
        if found is None:
            return None
        char = found.group()
        kind = "an unpaired surrogate" if "\ud800" <= char <= "\udfff" else "a control character"
        return path or "body", f"{kind} (U+{ord(char):04X})"
    if isinstance(value, dict):
        for key, item in value.items():
            name = key if isinstance(key, str) else str(key)
            if (bad := find_bad_text(name, path)) is not None:
                return bad
            if (bad := find_bad_text(item, f"{path}.{name}" if path else name)) is not None:
                return bad
    if isinstance(value, list):
        for index, item in enumerate(value):
            if (bad := find_bad_text(item, f"{path}.{index}" if path else str(index))) is not None:
                return bad
    return None


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _refuse_unclean_text(cls, data: Any) -> Any:
        bad = find_bad_text(data)
        if bad is not None:
            field, what = bad
            raise PydanticCustomError(
                TEXT_REFUSED,
                "'{field}' contains {what}, which is not allowed",
                {"field": field, "what": what},
            )
        return data

from __future__ import annotations

import pytest

from powerpost.kit.numbers import whole_number


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("42", 42),
        (" 7 ", 7),
        ("0", 0),
        ("", None),
        (None, None),
        ("-1", None),
        ("1.5", None),
        ("²", None),
        ("①", None),
        ("٣", None),  # Arabic-Indic three: int() would take it, but it is not what we asked
        ("9" * 19, None),
    ],
)
def test_whole_number(raw: str | None, expected: int | None) -> None:
    assert whole_number(raw) == expected

"""Platform answers are kept for people reading an item's attempts, never with secrets."""

from __future__ import annotations

import re

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # OAuth tokens in query strings and form bodies (Graph API errors echo the URL).
    (
        re.compile(
            r"((?:access_token|refresh_token|client_secret|code|input_token)=)[^&\s\"']+",
            re.IGNORECASE,
        ),
        r"\1[redacted]",
    ),
    (re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE), r"\1[redacted]"),
    (
        re.compile(r"(\"(?:access_token|refresh_token|client_secret)\"\s*:\s*\")[^\"]*", re.I),
        r"\1[redacted]",
    ),
    (re.compile(r"pp_(live|test)_sk_[0-9A-Za-z]+"), r"pp_\1_sk_[redacted]"),
)


def redact_secrets(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text

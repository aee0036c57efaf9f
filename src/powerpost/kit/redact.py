"""Request data made safe to keep: key-shaped text masked, control characters escaped.

One place for both, used by the logs (kit.logging, the access log), by the usage
recorder (which stores request paths) and by the "no key in the query string" check.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from urllib.parse import unquote_plus

# Anything shaped like one of our keys, in any letter case (a key is never case-folded by
# us, but a proxy or a client might).
KEY_PATTERN = re.compile(r"(pp_(?:live|test)_sk_)[0-9A-Za-z]+", re.IGNORECASE)
REDACTED = "[redacted]"

# C0 controls (CR and LF among them), DEL, C1 controls (NEL among them) and the Unicode
# line and paragraph separators: anything a log reader or viewer might start a line at.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Decoding a percent-encoded text again and again ends after this many rounds; each
# round shortens a text that still changes, so a real key never needs more than a few.
_MAX_DECODE_ROUNDS = 8


def redact_keys(text: str) -> str:
    """`text` with every key-shaped run replaced by its prefix and `[redacted]`."""
    if "_sk_" not in text.lower():
        return text
    return KEY_PATTERN.sub(lambda match: match.group(1) + REDACTED, text)


def escape_control(text: str) -> str:
    r"""`text` with control characters written as `\xNN` / `\uNNNN`: one line, always.

    Backslashes are left alone so that escaping twice changes nothing (a record may pass
    more than one filter); a literal `\x0a` in a path stays visible but cannot start a line.
    """
    return _CONTROL.sub(_escape_one, text)


def _escape_one(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def fully_unquoted(text: str) -> str:
    """`text` percent- and plus-decoded until it stops changing (bounded rounds)."""
    for _ in range(_MAX_DECODE_ROUNDS):
        decoded = unquote_plus(text, errors="replace")
        if decoded == text:
            break
        text = decoded
    return text


def contains_key(text: str) -> bool:
    """Whether `text` holds something key-shaped, plainly or percent-encoded (any depth)."""
    return KEY_PATTERN.search(fully_unquoted(text)) is not None


def safe_for_log(text: str) -> str:
    """A request field as it may be logged: keys masked (encoded ones too), one line."""
    if "%" in text or "+" in text:
        decoded = fully_unquoted(text)
        if KEY_PATTERN.search(decoded) is not None:
            text = decoded  # the encoded form would slip past the mask
    return escape_control(redact_keys(text))


def _safe_arg(value: object) -> object:
    if value is None or isinstance(value, int | float):
        return value  # keeps %d and %.1f working
    return safe_for_log(str(value))


class SafeLogRecords(logging.Filter):
    """Masks keys and escapes control characters in a record's message and arguments.

    Arguments are rewritten one by one rather than formatted into the message, because
    some formatters (uvicorn's access formatter) unpack `record.args` themselves.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = safe_for_log(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_safe_arg(arg) for arg in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {name: _safe_arg(arg) for name, arg in record.args.items()}
        return True


SAFE_LOG_RECORDS = SafeLogRecords()

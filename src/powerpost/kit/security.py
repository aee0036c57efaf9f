"""API key format, checksum and digest (auth.md "Key format" and "Storage").

    pp_<live|test>_sk_ + 32 base62 random chars + 6 base62 chars of CRC32(everything before)

The checksum is public format, not security: it lets us reject typos and garbage without
touching the database, and lets secret scanners find our keys with few false positives.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
RANDOM_LENGTH = 32
CHECKSUM_LENGTH = 6
KEY_LENGTH = len("pp_live_sk_") + RANDOM_LENGTH + CHECKSUM_LENGTH  # 49
KEY_RE = re.compile(r"^pp_(live|test)_sk_[0-9A-Za-z]{38}$")
DISPLAY_RANDOM_CHARS = 4


def base62(number: int, width: int) -> str:
    digits = []
    while number:
        number, remainder = divmod(number, 62)
        digits.append(BASE62[remainder])
    return "".join(reversed(digits)).rjust(width, "0")


def checksum(body: str) -> str:
    return base62(zlib.crc32(body.encode("ascii")), CHECKSUM_LENGTH)


def generate_key(mode: str) -> str:
    if mode not in ("live", "test"):
        raise ValueError(f"unknown key mode {mode!r}")
    body = f"pp_{mode}_sk_" + "".join(secrets.choice(BASE62) for _ in range(RANDOM_LENGTH))
    return body + checksum(body)


def is_well_formed(key: str) -> bool:
    """Shape and checksum only; no database, constant work for any input length."""
    if len(key) != KEY_LENGTH or not KEY_RE.match(key):
        return False
    return hmac.compare_digest(key[-CHECKSUM_LENGTH:], checksum(key[:-CHECKSUM_LENGTH]))


def key_mode(key: str) -> str:
    return key[3:7]


@dataclass(frozen=True)
class Display:
    prefix: str  # "pp_live_sk_" + first 4 random chars
    suffix: str  # last 4 chars

    def render(self) -> str:
        return f"{self.prefix}…{self.suffix}"


def display_parts(key: str) -> Display:
    head = len("pp_live_sk_") + DISPLAY_RANDOM_CHARS
    return Display(prefix=key[:head], suffix=key[-4:])


class KeyHasher:
    """HMAC-SHA256 under a versioned pepper.

    A slow hash buys nothing for 190-bit random keys and would cost ~100 ms per request;
    the pepper means a stolen database alone cannot confirm a guessed key.
    """

    def __init__(self, peppers: Mapping[int, bytes]) -> None:
        if not peppers:
            raise ValueError("at least one pepper is required")
        self._peppers = dict(peppers)
        self.current_version = max(peppers)

    def digest(self, key: str, version: int | None = None) -> bytes:
        pepper = self._peppers[self.current_version if version is None else version]
        return hmac.new(pepper, key.encode("ascii"), hashlib.sha256).digest()

    def older_versions(self) -> list[int]:
        return sorted((v for v in self._peppers if v != self.current_version), reverse=True)

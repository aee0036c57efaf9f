"""Known browsers: the device cookie that lets an account's owner past the per-email lock.

Five wrong passwords for an email lock it for 15 minutes whoever typed them, so a stranger
could keep an owner out. The big identity providers answer with a device cookie: a browser
that has signed in to the account before is recognised, and its correct password is let
through while strangers stay locked out. A wrong password from a known browser still
counts, against that browser's own window (see LoginThrottle), so a stolen cookie buys a
handful of guesses, not unlimited ones; and the cookie grants nothing else — the password is
always checked.

The cookie (``pp_device``) is not the session cookie and carries no session: one entry per
account this browser signed in to, most recent first, at most MAX_ACCOUNTS. An entry is
``{account_id}.{device_id}.{issued_unix}.{mac}``: the device id is 128 random bits, and the
MAC is HMAC-SHA256 under a key derived from the server secret over the other three parts,
so an entry cannot be forged, moved to another account, or kept past LIFETIME (checked here,
not only by the browser's Max-Age).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

DEVICE_COOKIE = "pp_device"
LIFETIME = timedelta(days=365)
MAX_ACCOUNTS = 5
# Longer than MAX_ACCOUNTS entries can be; anything longer is not ours and is ignored.
MAX_COOKIE_LENGTH = 1024
_ENTRY_SEPARATOR = "~"
_KEY_LABEL = b"powerpost dashboard device cookie v1"


@dataclass(frozen=True)
class DeviceEntry:
    account_id: str
    device_id: str
    issued: int  # Unix seconds

    def payload(self) -> str:
        return f"{self.account_id}.{self.device_id}.{self.issued}"


class DeviceCookies:
    def __init__(self, secret_key: bytes) -> None:
        # A key of its own, so a MAC made here can never pass for another use of the secret
        # (signed media URLs sign with it directly).
        self._key = hmac.new(secret_key, _KEY_LABEL, hashlib.sha256).digest()

    def _mac(self, entry: DeviceEntry) -> str:
        digest = hmac.new(self._key, entry.payload().encode("ascii"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def _encode(self, entry: DeviceEntry) -> str:
        return f"{entry.payload()}.{self._mac(entry)}"

    def _decode(self, raw: str, now: datetime) -> DeviceEntry | None:
        parts = raw.split(".")
        if len(parts) != 4 or not parts[2].isdigit() or len(parts[2]) > 12:
            return None
        entry = DeviceEntry(parts[0], parts[1], int(parts[2]))
        if not hmac.compare_digest(self._mac(entry), parts[3]):
            return None
        age = now.timestamp() - entry.issued
        if not 0 <= age <= LIFETIME.total_seconds():
            return None
        return entry

    def entries(self, cookie: str | None, now: datetime) -> list[DeviceEntry]:
        """The valid entries of a presented cookie; forged, foreign or stale ones dropped."""
        if not cookie or len(cookie) > MAX_COOKIE_LENGTH:
            return []
        found = (self._decode(raw, now) for raw in cookie.split(_ENTRY_SEPARATOR)[:MAX_ACCOUNTS])
        return [entry for entry in found if entry is not None]

    def device_for(self, cookie: str | None, account_id: str, now: datetime) -> str | None:
        """This browser's device id for the account, if it signed in to it before."""
        for entry in self.entries(cookie, now):
            if entry.account_id == account_id:
                return entry.device_id
        return None

    def after_sign_in(self, cookie: str | None, account_id: str, now: datetime) -> str:
        """The cookie value to set after a sign-in: this account's entry renewed (same
        device id, so its failure window carries over) and first, the others kept."""
        entries = self.entries(cookie, now)
        device_id = next(
            (e.device_id for e in entries if e.account_id == account_id),
            secrets.token_urlsafe(16),
        )
        fresh = DeviceEntry(account_id, device_id, int(now.timestamp()))
        kept = [e for e in entries if e.account_id != account_id][: MAX_ACCOUNTS - 1]
        return _ENTRY_SEPARATOR.join(self._encode(e) for e in [fresh, *kept])

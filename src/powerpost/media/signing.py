"""Signed, expiring media URLs: the links posts and platforms fetch without an API key.

``/media/files/{media_id}/{variant}?expires=<unix>&signature=<hex>`` where the signature is
HMAC-SHA256 of ``"{media_id}:{variant}:{expires}"`` under the server's secret key. A URL is
valid for seven days from the moment it was issued; anyone holding it may read the file.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlencode

from powerpost.config import Settings
from powerpost.kit.clock import utcnow

__all__ = [
    "URL_LIFETIME",
    "VARIANTS",
    "Variant",
    "public_base_url",
    "signed_url",
    "thumbnail_url",
    "verify",
]

Variant = Literal["original", "thumbnail"]
VARIANTS: tuple[Variant, ...] = ("original", "thumbnail")
URL_LIFETIME = timedelta(days=7)
FILES_PREFIX = "/media/files"


def _signature(secret: bytes, media_id: str, variant: str, expires: int) -> str:
    message = f"{media_id}:{variant}:{expires}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def public_base_url(settings: Settings) -> str:
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/")
    return f"http://{settings.host}:{settings.port}"


def signed_path(
    settings: Settings, media_id: str, variant: Variant, now: datetime | None = None
) -> str:
    """The path and query of a signed URL (for links inside our own pages)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown media variant {variant!r}")
    expires = int(((now or utcnow()) + URL_LIFETIME).timestamp())
    query = urlencode(
        {
            "expires": expires,
            "signature": _signature(settings.secret_key, media_id, variant, expires),
        }
    )
    return f"{FILES_PREFIX}/{media_id}/{variant}?{query}"


def signed_url(
    settings: Settings, media_id: str, variant: Variant, now: datetime | None = None
) -> str:
    """An absolute URL of the media file, valid for `URL_LIFETIME` from ``now``."""
    return public_base_url(settings) + signed_path(settings, media_id, variant, now)


def thumbnail_url(
    settings: Settings, media_id: str, thumbnail_key: str | None, now: datetime | None = None
) -> str | None:
    """The signed thumbnail URL, or None for media stored without a thumbnail (the file
    route would answer 404 for it, so no link is handed out)."""
    return signed_url(settings, media_id, "thumbnail", now) if thumbnail_key else None


def verify(
    settings: Settings,
    media_id: str,
    variant: str,
    expires: str,
    signature: str,
    now: datetime | None = None,
) -> int | None:
    """The expiry (unix seconds) of a genuine, unexpired URL; None otherwise."""
    if not expires.isascii() or not expires.isdigit() or len(expires) > 12:
        return None
    # Compare as bytes: compare_digest rejects non-ASCII str, and hex is ASCII anyway.
    expected = _signature(settings.secret_key, media_id, variant, int(expires)).encode()
    if not hmac.compare_digest(expected, signature.encode("utf-8", "replace")):
        return None
    deadline = int(expires)
    if deadline <= int((now or utcnow()).timestamp()):
        return None
    return deadline

"""The one interface every image provider implements, and the shapes it speaks.

Providers never touch the database, credits or storage: the image task resolves media ids to
files, calls `generate`, stores what comes back and refunds the pictures that failed. A
provider raises `ProviderError` when the whole request cannot be served and reports a single
failed picture as an `ImageResult` with `error` set, because partial success is billed
per picture (§6.7).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from powerpost.kit.providers import ProviderError

__all__ = [
    "SIZE_PIXELS",
    "ImageProvider",
    "ImageRequest",
    "ImageResult",
    "ImageSize",
    "ProviderError",
    "ReferenceImage",
    "RenderedImage",
]

ImageSize = Literal["square", "feed", "portrait", "landscape"]

SIZE_PIXELS: dict[ImageSize, tuple[int, int]] = {
    "square": (1024, 1024),
    "feed": (1080, 1350),
    "portrait": (1080, 1920),
    "landscape": (1920, 1080),
}


@dataclass(frozen=True)
class ReferenceImage:
    path: Path
    mime_type: str


@dataclass(frozen=True)
class ImageRequest:
    prompt: str
    size: ImageSize
    model: str
    quantity: int
    enhance_prompt: bool
    references: tuple[ReferenceImage, ...] = ()
    caption: str | None = None  # post mode: the generated post text the picture illustrates


@dataclass(frozen=True)
class RenderedImage:
    data: bytes
    mime_type: str
    width: int
    height: int


@dataclass(frozen=True)
class ImageResult:
    """One requested picture: exactly one of `image` and `error` is set."""

    index: int
    image: RenderedImage | None
    error: str | None


class ImageProvider(Protocol):
    name: str

    async def generate(self, request: ImageRequest) -> list[ImageResult]: ...

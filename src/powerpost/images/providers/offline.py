"""Offline image provider: designed title cards (`kit.cards`) rendered with Pillow, no
network, no model.

It lets a self-hosted server answer §6.6 without an AI vendor and gives tests real pictures
to decode. The cards are deterministic: the same request always yields byte-identical PNGs;
picture `index` varies the layout and the palette's roles.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from PIL import Image, ImageOps

from powerpost.images.providers.base import (
    SIZE_PIXELS,
    ImageRequest,
    ImageResult,
    ProviderError,
    ReferenceImage,
    RenderedImage,
)
from powerpost.kit import cards
from powerpost.kit.cards import Card, encode_png

__all__ = ["OfflineImageProvider", "encode_png", "load_reference", "render_card"]

# references are only sampled for colour and a blurred backdrop: no need for full size
_REFERENCE_MAX_SIDE = 2048


class OfflineImageProvider:
    name = "offline"

    async def generate(self, request: ImageRequest) -> list[ImageResult]:
        # Pillow releases the GIL for most of its work; a thread keeps the event loop free.
        return await asyncio.to_thread(self._generate_sync, request)

    def _generate_sync(self, request: ImageRequest) -> list[ImageResult]:
        references = [load_reference(ref) for ref in request.references]
        results: list[ImageResult] = []
        for index in range(request.quantity):
            card = render_card(request, index, references=references)
            data = encode_png(card.image)
            width, height = card.image.size
            image = RenderedImage(data=data, mime_type="image/png", width=width, height=height)
            results.append(ImageResult(index=index, image=image, error=None))
        return results


def load_reference(reference: ReferenceImage) -> Image.Image:
    try:
        with Image.open(reference.path) as opened:
            image = ImageOps.exif_transpose(opened)
            image.thumbnail((_REFERENCE_MAX_SIDE, _REFERENCE_MAX_SIDE))
            return image.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ProviderError("a reference image could not be read") from exc


def render_card(
    request: ImageRequest,
    index: int = 0,
    *,
    references: Sequence[Image.Image] = (),
    pixels: tuple[int, int] | None = None,
    margin: float = 0.08,
) -> Card:
    """Picture `index` of `request`, at the request's size unless `pixels` says otherwise."""
    return cards.render_card(
        request,
        index,
        pixels=pixels or SIZE_PIXELS[request.size],
        references=references,
        margin=margin,
    )

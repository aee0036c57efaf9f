"""Designed title cards rendered with Pillow: no network, no model.

The offline image provider answers §6.6 with them and the offline video provider animates
one; they give tests real pictures to decode. Every choice (palette, layout, decoration)
comes from a SHA-256 digest of the request, so the same request always yields
byte-identical PNGs.

What a card is made of:
- palette: colour words in the prompt ("ocean blue sunset" -> blues and oranges) in the order
  they appear; otherwise a curated palette picked by digest. Reference images override both
  with their dominant colours.
- background: a gradient with geometric decoration (circles, stripes, rings or blocks) or,
  with references, a blurred and darkened crop of one reference.
- headline: the prompt's main noun phrase with its articles and prepositions (the request
  around it, "create an image of", dropped), or in post mode the caption's first sentence; wrapped, sized to fit, drawn light or dark
  by measured WCAG contrast, with a translucent scrim when neither reaches 4.5:1.
- variations: picture `index` rotates the layout and the palette's roles.
- `enhance_prompt`: the offline stand-in for prompt rewriting adds finish, never content:
  an accent rule above the headline, a soft edge vignette and a smaller subtitle line with
  the rest of the prompt's description (or the prompt's headline in post mode).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from PIL import Image

__all__ = ["Card", "CardLayout", "CardSource", "CardText", "encode_png", "render_card"]

from powerpost.kit.cards.drawing import (
    _LIGHT_TEXT,
    STYLES,
    Style,
    _decorate,
    _Dice,
    _draw_copy,
    _gradient_background,
    _reference_background,
    _text_region,
    _vignette,
)
from powerpost.kit.cards.palette import (
    RGB,
    _rotate,
    palette_for,
    reference_palette,
)
from powerpost.kit.cards.words import (
    _HEADLINE_MAX_CHARS,
    _shorten,
    card_headline,
    sentences,
)


class CardSource(Protocol):
    """What a card is made from (an image request satisfies it; so does `CardText`).

    `size` and `model` only seed the design, so the same request always gets the same card.
    """

    @property
    def prompt(self) -> str: ...

    @property
    def caption(self) -> str | None: ...

    @property
    def size(self) -> str: ...

    @property
    def model(self) -> str: ...

    @property
    def enhance_prompt(self) -> bool: ...


@dataclass(frozen=True)
class CardText:
    """A card's source for callers without a request of their own (a video's still)."""

    prompt: str
    size: str
    model: str
    enhance_prompt: bool = False
    caption: str | None = None


@dataclass(frozen=True)
class CardLayout:
    """What was drawn where: lets tests and thumbnails reason about a card."""

    style: Style
    palette: tuple[RGB, RGB, RGB]
    headline: str
    subtitle: str | None
    text_box: tuple[int, int, int, int] | None  # the headline block, (left, top, right, bottom)
    text_color: RGB
    font_size: int


@dataclass(frozen=True)
class Card:
    image: Image.Image
    layout: CardLayout


def encode_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    # no metadata chunks are written, so equal pixels give equal bytes
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def render_card(
    request: CardSource,
    index: int = 0,
    *,
    pixels: tuple[int, int],
    references: Sequence[Image.Image] = (),
    margin: float = 0.08,
) -> Card:
    """Render card `index` of `request` at `pixels` (width, height).

    `margin` (a share of the shorter side) widens the safe area; video stills widen it
    because the camera move crops the edges.
    """
    width, height = pixels
    seed = _request_digest(request, references)
    dice = _Dice(seed + index.to_bytes(2, "big"))
    base_style = seed[0] % len(STYLES)
    style = STYLES[(base_style + index) % len(STYLES)]

    if references:
        palette = _rotate(reference_palette(references), index)
    else:
        palette = _rotate(palette_for(_palette_text(request), seed), index)

    headline, subtitle = _copy_for(request)
    if references:
        canvas = _reference_background(references[index % len(references)], (width, height))
        canvas = _decorate(canvas, style, palette, dice, strength=0.35)
    else:
        canvas = _gradient_background((width, height), style, palette, dice)
        canvas = _decorate(canvas, style, palette, dice, strength=1.0)
    if request.enhance_prompt:
        canvas = _vignette(canvas)

    box = _text_region((width, height), style, margin, variant=seed[1])
    text_box: tuple[int, int, int, int] | None = None
    text_color = _LIGHT_TEXT
    font_size = 0
    if headline:
        canvas, text_box, text_color, font_size = _draw_copy(
            canvas,
            box,
            headline,
            subtitle if request.enhance_prompt else None,
            # a short headline on a wide or square card reads best centred, like a title
            centered=style in ("diagonal", "radial")
            or (len(headline.split()) <= 3 and width >= height),
            accent=palette[2] if request.enhance_prompt else None,
        )
    return Card(
        image=canvas.convert("RGB"),
        layout=CardLayout(
            style=style,
            palette=palette,
            headline=headline,
            subtitle=subtitle if request.enhance_prompt else None,
            text_box=text_box,
            text_color=text_color,
            font_size=font_size,
        ),
    )


def _copy_for(request: CardSource) -> tuple[str, str | None]:
    if request.caption and request.caption.strip():
        parts = sentences(request.caption)
        headline = _shorten(parts[0], _HEADLINE_MAX_CHARS) if parts else ""
        if request.prompt.strip():
            subtitle = card_headline(request.prompt)[0]
        else:
            subtitle = parts[1] if len(parts) > 1 else ""
        if headline:
            return headline, _shorten(subtitle, 80) or None
    head, rest = card_headline(request.prompt)
    # nine words can still be thousands of characters ("yyyy…"): bound what gets laid out
    return _shorten(head, _HEADLINE_MAX_CHARS), _shorten(rest, 80) or None


def _palette_text(request: CardSource) -> str:
    return f"{request.prompt} {request.caption or ''}"


def _request_digest(request: CardSource, references: Sequence[Image.Image]) -> bytes:
    digest = hashlib.sha256()
    for part in (request.prompt, request.caption or "", request.size, request.model):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    # enhance_prompt stays out of the seed: an enhanced card is the same design, finished
    for image in references:
        digest.update(image.resize((16, 16), Image.Resampling.BILINEAR).tobytes())
    return digest.digest()

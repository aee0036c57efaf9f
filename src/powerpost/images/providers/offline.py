"""Offline image provider: designed title cards rendered with Pillow, no network, no model.

It lets a self-hosted server answer §6.6 without an AI vendor and gives tests real pictures
to decode. Every choice (palette, layout, decoration) comes from a SHA-256 digest of the
request, so the same request always yields byte-identical PNGs.

What a card is made of:
- palette: colour words in the prompt ("ocean blue sunset" -> blues and oranges) in the order
  they appear; otherwise a curated palette picked by digest. Reference images override both
  with their dominant colours.
- background: a gradient with geometric decoration (circles, stripes, rings or blocks) or,
  with references, a blurred and darkened crop of one reference.
- headline: the prompt's significant words (filler such as "create an image of" dropped),
  or in post mode the caption's first sentence; wrapped, sized to fit, drawn light or dark
  by measured WCAG contrast, with a translucent scrim when neither reaches 4.5:1.
- variations: picture `index` rotates the layout and the palette's roles.
- `enhance_prompt`: the offline stand-in for prompt rewriting adds finish, never content:
  an accent rule above the headline, a soft edge vignette and a smaller subtitle line with
  the remaining key words of the prompt (or the caption's second sentence in post mode).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps, ImageStat

from powerpost.images.providers.base import (
    SIZE_PIXELS,
    ImageRequest,
    ImageResult,
    ProviderError,
    ReferenceImage,
    RenderedImage,
)

RGB = tuple[int, int, int]
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
Style = Literal["diagonal", "bands", "radial", "blocks"]

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
STYLES: tuple[Style, ...] = ("diagonal", "bands", "radial", "blocks")
MIN_CONTRAST = 4.5
# references are only sampled for colour and a blurred backdrop: no need for full size
_REFERENCE_MAX_SIDE = 2048
_HEADLINE_MAX_WORDS = 7
_HEADLINE_MAX_CHARS = 90
_LIGHT_TEXT: RGB = (250, 250, 247)
_DARK_TEXT: RGB = (17, 19, 26)

# Colour words and the moods that imply a colour; looked up on lower-cased prompt words.
COLOR_WORDS: dict[str, RGB] = {
    "red": (211, 47, 47),
    "crimson": (176, 24, 48),
    "scarlet": (224, 36, 36),
    "maroon": (118, 22, 38),
    "burgundy": (128, 24, 48),
    "orange": (245, 124, 0),
    "amber": (255, 171, 0),
    "yellow": (251, 208, 40),
    "gold": (212, 160, 23),
    "golden": (212, 160, 23),
    "lemon": (247, 224, 70),
    "green": (46, 160, 67),
    "emerald": (0, 150, 100),
    "olive": (120, 130, 40),
    "lime": (160, 210, 50),
    "mint": (152, 230, 190),
    "teal": (0, 128, 128),
    "turquoise": (32, 200, 190),
    "cyan": (0, 188, 212),
    "aqua": (0, 200, 220),
    "blue": (30, 90, 200),
    "navy": (20, 33, 90),
    "indigo": (63, 40, 150),
    "purple": (123, 44, 168),
    "violet": (143, 60, 200),
    "lavender": (181, 160, 230),
    "magenta": (200, 30, 150),
    "pink": (240, 98, 146),
    "rose": (230, 80, 120),
    "coral": (255, 111, 97),
    "peach": (255, 180, 140),
    "brown": (121, 85, 61),
    "beige": (225, 205, 170),
    "tan": (200, 165, 120),
    "black": (18, 18, 22),
    "white": (245, 245, 242),
    "grey": (128, 132, 140),
    "gray": (128, 132, 140),
    "silver": (190, 195, 202),
    "charcoal": (54, 58, 66),
    "ocean": (0, 105, 170),
    "sea": (0, 120, 180),
    "sky": (110, 180, 240),
    "sunset": (250, 120, 50),
    "sunrise": (255, 160, 80),
    "fire": (230, 70, 20),
    "forest": (34, 100, 50),
    "grass": (90, 170, 60),
    "leaf": (70, 150, 60),
    "night": (16, 24, 60),
    "midnight": (14, 20, 50),
    "snow": (235, 242, 250),
    "ice": (190, 225, 245),
    "sand": (220, 195, 150),
    "desert": (215, 170, 110),
    "coffee": (111, 78, 55),
    "chocolate": (90, 55, 35),
    "autumn": (200, 100, 30),
    "cherry": (190, 20, 50),
    "neon": (57, 255, 120),
}

CURATED_PALETTES: tuple[tuple[RGB, RGB, RGB], ...] = (
    ((18, 52, 86), (0, 150, 170), (255, 196, 61)),
    ((45, 20, 70), (200, 60, 120), (255, 170, 90)),
    ((15, 60, 50), (60, 160, 110), (240, 230, 180)),
    ((250, 240, 225), (235, 150, 110), (60, 50, 80)),
    ((25, 25, 35), (90, 70, 200), (0, 220, 200)),
    ((240, 245, 250), (120, 170, 230), (240, 90, 90)),
    ((90, 20, 30), (220, 80, 60), (250, 210, 120)),
    ((30, 40, 30), (150, 170, 80), (240, 200, 90)),
    ((20, 30, 70), (220, 100, 160), (255, 220, 200)),
    ((250, 225, 90), (240, 120, 40), (40, 30, 60)),
    ((230, 240, 235), (70, 150, 140), (30, 60, 70)),
    ((60, 30, 90), (20, 120, 200), (170, 240, 250)),
)

_FILLER_LEAD = re.compile(
    r"^\s*(?:please\s+|can you\s+|could you\s+|i\s+(?:want|need|would like)\s+(?:you\s+to\s+)?)*"
    r"(?:(?:create|generate|make|draw|design|render|produce|paint|illustrate|show|give)\s+"
    r"(?:me\s+|us\s+)?)?"
    r"(?:(?:an?|the|some|one)\s+)?"
    r"(?:(?:beautiful|stunning|nice|cool|high[- ]quality|realistic|photorealistic)\s+)*"
    r"(?:(?:image|picture|photo|photograph|illustration|graphic|poster|banner|rendering|"
    r"drawing|painting|artwork|visual|shot|cover|thumbnail|card)s?\s+"
    r"(?:of|showing|with|depicting|featuring|for|about|that\s+shows)\s+)?",
    re.IGNORECASE,
)
_STOPWORDS = frozenset(
    """\
    a an the and or but of for to in on at by with from into onto over under about as
    is are was were be been being it its this that these those there here some any very
    really just so such than then which who whom whose what where when while also our your
    my their his her we you they me us them i image picture photo photograph illustration
    style styled high quality detailed 4k 8k hd ultra realistic photorealistic render
    rendering please create generate make showing featuring depicting""".split()  # noqa: SIM905
)
_APOSTROPHES = "'\u2019"
_WORD = re.compile(rf"[^\W_][\w{_APOSTROPHES}&+.\-]*")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
_NOISE = re.compile(r"https?://\S+|www\.\S+|[#@]\w+")


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


def encode_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    # no metadata chunks are written, so equal pixels give equal bytes
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def load_reference(reference: ReferenceImage) -> Image.Image:
    try:
        with Image.open(reference.path) as opened:
            image = ImageOps.exif_transpose(opened)
            image.thumbnail((_REFERENCE_MAX_SIDE, _REFERENCE_MAX_SIDE))
            return image.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ProviderError(f"reference image {reference.path.name} could not be read") from exc


def render_card(
    request: ImageRequest,
    index: int = 0,
    *,
    references: Sequence[Image.Image] = (),
    pixels: tuple[int, int] | None = None,
    margin: float = 0.08,
) -> Card:
    """Render picture `index` of `request`.

    `pixels` overrides the size and `margin` (a share of the shorter side) widens the safe
    area; video stills use both because the camera move crops the edges.
    """
    width, height = pixels or SIZE_PIXELS[request.size]
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

    box = _text_region((width, height), style, margin)
    text_box: tuple[int, int, int, int] | None = None
    text_color = _LIGHT_TEXT
    font_size = 0
    if headline:
        canvas, text_box, text_color, font_size = _draw_copy(
            canvas,
            box,
            headline,
            subtitle if request.enhance_prompt else None,
            centered=style in ("diagonal", "radial"),
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


# --- words ------------------------------------------------------------------------------


def key_phrase(prompt: str, max_words: int = _HEADLINE_MAX_WORDS) -> tuple[str, str]:
    """Split a prompt into (headline, rest): its significant words, filler dropped."""
    text = _clean_text(prompt)
    text = _FILLER_LEAD.sub("", text, count=1)
    words = [w.strip(f".-{_APOSTROPHES}") for w in _WORD.findall(text)]
    significant = [w for w in words if w and w.lower() not in _STOPWORDS]
    head = [_capitalise(w) for w in significant[:max_words]]
    rest = significant[max_words:]
    return " ".join(head), " ".join(rest)


def sentences(text: str) -> list[str]:
    cleaned = _clean_text(text)
    return [s.strip() for s in _SENTENCE_END.split(cleaned) if s and s.strip()]


def first_sentence(text: str, limit: int = _HEADLINE_MAX_CHARS) -> str:
    parts = sentences(text)
    return _shorten(parts[0], limit) if parts else ""


def _copy_for(request: ImageRequest) -> tuple[str, str | None]:
    if request.caption and request.caption.strip():
        parts = sentences(request.caption)
        headline = _shorten(parts[0], _HEADLINE_MAX_CHARS) if parts else ""
        if request.prompt.strip():
            prompt_head, prompt_rest = key_phrase(request.prompt)
            subtitle = " ".join(p for p in (prompt_head, prompt_rest) if p)
        else:
            subtitle = parts[1] if len(parts) > 1 else ""
        if headline:
            return headline, _shorten(subtitle, 80) or None
    headline, rest = key_phrase(request.prompt)
    # seven words can still be thousands of characters ("yyyy…"): bound what gets laid out
    subtitle = _shorten(rest[:1].upper() + rest[1:], 80)
    return _shorten(headline, _HEADLINE_MAX_CHARS), subtitle or None


def _clean_text(text: str) -> str:
    text = _NOISE.sub(" ", text)
    # emoji and pictographs have no glyph in DejaVu and would render as boxes
    kept = "".join(
        ch
        for ch in text
        if unicodedata.category(ch) not in ("So", "Cs", "Co", "Cn", "Cf", "Mn") or ch in "\n\t"
    )
    return re.sub(r"[ \t]+", " ", kept).strip()


def _capitalise(word: str) -> str:
    return word[:1].upper() + word[1:] if word.islower() else word


def _shorten(text: str, limit: int) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:- \u2013\u2014")
    return cut + "…"


# --- colour -----------------------------------------------------------------------------


def palette_for(text: str, seed: bytes) -> tuple[RGB, RGB, RGB]:
    """Colours named in `text` (in order) win; else a curated palette chosen by `seed`."""
    found: list[RGB] = []
    for word in re.findall(r"[a-z]+", text.lower()):
        colour = COLOR_WORDS.get(word)
        # "ocean blue" is one hue: near-duplicates would waste a palette slot
        if colour is not None and all(_distance(colour, c) > 70 for c in found):
            found.append(colour)
    if not found:
        return CURATED_PALETTES[int.from_bytes(seed[1:3], "big") % len(CURATED_PALETTES)]
    if len(found) == 1:
        (only,) = found
        return (_shade(only, 0.45), only, _tint(only, 0.55))
    if len(found) == 2:
        first, second = found
        return (first, second, _tint(second, 0.45))
    return (found[0], found[1], found[2])


def reference_palette(references: Sequence[Image.Image]) -> tuple[RGB, RGB, RGB]:
    colours: list[RGB] = []
    per_image = [dominant_colors(image, 4) for image in references]
    # interleave so every reference contributes before any contributes twice
    for rank in range(4):
        for ranked in per_image:
            if rank < len(ranked) and all(_distance(ranked[rank], c) > 40 for c in colours):
                colours.append(ranked[rank])
    while len(colours) < 3:
        base = colours[-1] if colours else (40, 40, 48)
        colours.append(_tint(base, 0.5) if _luminance(base) < 0.5 else _shade(base, 0.5))
    return (colours[0], colours[1], colours[2])


def dominant_colors(image: Image.Image, count: int) -> list[RGB]:
    """The image's main colours, most common first (median cut on a thumbnail)."""
    small = image.convert("RGB").resize((64, 64), Image.Resampling.BILINEAR)
    quantised = small.quantize(
        colors=max(count, 2), method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
    )
    flat = quantised.getpalette() or []
    counts: list[tuple[int, int]] = [
        (n, slot) for n, slot in quantised.getcolors() or [] if isinstance(slot, int)
    ]
    used = sorted(counts, key=lambda item: (-item[0], item[1]))
    result: list[RGB] = []
    for _, slot in used[:count]:
        r, g, b = flat[slot * 3 : slot * 3 + 3]
        result.append((r, g, b))
    return result


def _palette_text(request: ImageRequest) -> str:
    return f"{request.prompt} {request.caption or ''}"


def _rotate(palette: tuple[RGB, RGB, RGB], index: int) -> tuple[RGB, RGB, RGB]:
    shift = index % 3
    rotated = palette[shift:] + palette[:shift]
    return (rotated[0], rotated[1], rotated[2])


def _shade(colour: RGB, amount: float) -> RGB:
    return _mix(colour, (0, 0, 0), amount)


def _tint(colour: RGB, amount: float) -> RGB:
    return _mix(colour, (255, 255, 255), amount)


def _mix(a: RGB, b: RGB, amount: float) -> RGB:
    return (
        round(a[0] + (b[0] - a[0]) * amount),
        round(a[1] + (b[1] - a[1]) * amount),
        round(a[2] + (b[2] - a[2]) * amount),
    )


def _distance(a: RGB, b: RGB) -> float:
    return math.dist(a, b)


def _luminance(colour: Sequence[float]) -> float:
    """WCAG relative luminance of an sRGB colour."""

    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in colour[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: Sequence[float], b: Sequence[float]) -> float:
    la, lb = _luminance(a), _luminance(b)
    lighter, darker = max(la, lb), min(la, lb)
    return (lighter + 0.05) / (darker + 0.05)


# --- backgrounds --------------------------------------------------------------------------


class _Dice:
    """Deterministic numbers from a seed: SHA-256 in counter mode."""

    def __init__(self, seed: bytes) -> None:
        self._seed = seed
        self._counter = 0

    def uniform(self, low: float, high: float) -> float:
        self._counter += 1
        block = hashlib.sha256(self._seed + self._counter.to_bytes(4, "big")).digest()
        return low + (high - low) * (int.from_bytes(block[:8], "big") / 2**64)

    def choice(self, count: int) -> int:
        return min(int(self.uniform(0, count)), count - 1)


def _request_digest(request: ImageRequest, references: Sequence[Image.Image]) -> bytes:
    digest = hashlib.sha256()
    for part in (request.prompt, request.caption or "", request.size, request.model):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    # enhance_prompt stays out of the seed: an enhanced card is the same design, finished
    for image in references:
        digest.update(image.resize((16, 16), Image.Resampling.BILINEAR).tobytes())
    return digest.digest()


def _solid(size: tuple[int, int], colour: RGB) -> Image.Image:
    return Image.new("RGB", size, colour)


def _linear_mask(size: tuple[int, int], angle: float) -> Image.Image:
    width, height = size
    side = math.ceil(math.hypot(width, height))
    mask = Image.linear_gradient("L").resize((side, side), Image.Resampling.BILINEAR)
    mask = mask.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=128)
    left, top = (side - width) // 2, (side - height) // 2
    # stretched so the card runs the whole way from one palette colour to the other
    return ImageOps.autocontrast(mask.crop((left, top, left + width, top + height)))


def _radial_mask(size: tuple[int, int], centre: tuple[float, float]) -> Image.Image:
    width, height = size
    side = math.ceil(max(width, height) * 2.2)
    mask = Image.radial_gradient("L").resize((side, side), Image.Resampling.BILINEAR)
    left = round(side / 2 - centre[0] * width)
    top = round(side / 2 - centre[1] * height)
    return mask.crop((left, top, left + width, top + height))


def _gradient_background(
    size: tuple[int, int], style: Style, palette: tuple[RGB, RGB, RGB], dice: _Dice
) -> Image.Image:
    first, second, _ = palette
    if style == "radial":
        centre = (dice.uniform(0.3, 0.7), dice.uniform(0.25, 0.6))
        mask = ImageOps.autocontrast(_radial_mask(size, centre))
        return Image.composite(_solid(size, first), _solid(size, second), mask)
    if style == "bands":
        mask = _linear_mask(size, dice.uniform(-12, 12))
    else:
        mask = _linear_mask(size, dice.uniform(25, 65) + (0 if style == "diagonal" else 90))
    return Image.composite(_solid(size, second), _solid(size, first), mask)


def _reference_background(reference: Image.Image, size: tuple[int, int]) -> Image.Image:
    fitted = ImageOps.fit(reference, size, Image.Resampling.LANCZOS)
    blurred = fitted.filter(ImageFilter.GaussianBlur(radius=max(size) / 60))
    # darkened so light text reads over any photo, while keeping the photo's hues
    return Image.blend(blurred, _solid(size, (0, 0, 0)), 0.38)


def _decorate(
    canvas: Image.Image,
    style: Style,
    palette: tuple[RGB, RGB, RGB],
    dice: _Dice,
    *,
    strength: float,
) -> Image.Image:
    width, height = canvas.size
    unit = min(width, height)
    overlay = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    first, second, accent = palette

    def alpha(value: int) -> int:
        return max(0, min(255, round(value * strength)))

    if style == "diagonal":
        for _ in range(3):
            radius = dice.uniform(0.18, 0.42) * unit
            cx, cy = dice.uniform(-0.1, 1.1) * width, dice.uniform(-0.1, 1.1) * height
            colour = (accent, _tint(second, 0.3), first)[dice.choice(3)]
            draw.ellipse(
                (cx - radius, cy - radius, cx + radius, cy + radius), fill=(*colour, alpha(70))
            )
    elif style == "bands":
        stripe = dice.uniform(0.05, 0.09) * unit
        slope = dice.uniform(0.4, 0.9) * height
        start = dice.uniform(0.45, 0.7) * width
        for n in range(4):
            x = start + n * stripe * 1.8
            points = [
                (x, 0.0),
                (x + stripe, 0.0),
                (x + stripe - slope, height),
                (x - slope, height),
            ]
            draw.polygon(points, fill=(*accent, alpha(95 - n * 18)))
    elif style == "radial":
        cx, cy = dice.uniform(0.2, 0.8) * width, dice.uniform(0.15, 0.45) * height
        ring = max(2, round(unit * 0.012))
        for n in range(1, 6):
            radius = n * unit * 0.11
            draw.ellipse(
                (cx - radius, cy - radius, cx + radius, cy + radius),
                outline=(*accent, alpha(110 - n * 15)),
                width=ring,
            )
    else:
        cut = dice.uniform(0.55, 0.7)
        if width >= height:
            draw.polygon(
                [(cut * width, 0), (width, 0), (width, height), ((cut - 0.12) * width, height)],
                fill=(*second, alpha(230)),
            )
            bar = (0.0, height * 0.9, cut * width * 0.6, height * 0.93)
        else:
            draw.polygon(
                [(0, cut * height), (width, (cut - 0.08) * height), (width, height), (0, height)],
                fill=(*second, alpha(230)),
            )
            bar = (0.0, height * 0.06, width * 0.45, height * 0.075)
        draw.rectangle(bar, fill=(*accent, alpha(255)))
    base = canvas.convert("RGBA")
    return Image.alpha_composite(base, overlay)


def _vignette(canvas: Image.Image) -> Image.Image:
    falloff = Image.radial_gradient("L").resize(canvas.size, Image.Resampling.BILINEAR)
    mask = falloff.point(lambda v: max(0, v - 150) * 7 // 10)
    shadow = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    shadow.putalpha(mask)
    return Image.alpha_composite(canvas.convert("RGBA"), shadow)


# --- type -------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _font(size: int, *, bold: bool) -> Font:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    path = FONT_DIR / name
    if path.is_file():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def _text_region(
    size: tuple[int, int], style: Style, margin_share: float
) -> tuple[int, int, int, int]:
    width, height = size
    margin = round(min(width, height) * margin_share)
    if style == "bands":
        return (margin, round(height * 0.5), width - margin, height - margin)
    if style == "blocks":
        if width >= height:
            return (margin, margin, round(width * 0.56), round(height * 0.84))
        return (margin, round(height * 0.12), width - margin, round(height * 0.55))
    return (margin, round(height * 0.22), width - margin, round(height * 0.78))


def _wrap(text: str, font: Font, max_width: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if font.getlength(candidate) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        # a single word wider than the box is broken by characters
        while font.getlength(current) > max_width and len(current) > 1:
            # the longest prefix that fits, by bisection: a character-by-character search
            # measures O(n²) prefixes and takes minutes on a 2000-character word
            low, high = 1, len(current) - 1
            while low < high:
                middle = (low + high + 1) // 2
                if font.getlength(current[:middle]) <= max_width:
                    low = middle
                else:
                    high = middle - 1
            lines.append(current[:low])
            current = current[low:]
    if current:
        lines.append(current)
    return lines


def _fit(text: str, box_width: int, box_height: int, max_lines: int) -> tuple[Font, list[str]]:
    size = max(12, min(round(box_height * 0.42), round(box_width * 0.12)))
    floor = max(12, round(min(box_width, box_height * 2) * 0.05))
    while True:
        font = _font(size, bold=True)
        lines = _wrap(text, font, box_width)
        if (len(lines) <= max_lines and len(lines) * size * 1.18 <= box_height) or size <= floor:
            break
        size = max(floor, round(size * 0.92))
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and font.getlength(last + "…") > box_width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return font, lines


def _font_size(font: Font) -> int:
    return int(getattr(font, "size", 10))


def _draw_copy(
    canvas: Image.Image,
    box: tuple[int, int, int, int],
    headline: str,
    subtitle: str | None,
    *,
    centered: bool,
    accent: RGB | None,
) -> tuple[Image.Image, tuple[int, int, int, int], RGB, int]:
    left, top, right, bottom = box
    box_width, box_height = right - left, bottom - top
    sub_share = 0.22 if subtitle else 0.0
    font, lines = _fit(headline, box_width, round(box_height * (1 - sub_share)), max_lines=5)
    size = _font_size(font)
    line_height = round(size * 1.18)
    # a long headline shrinks; the subtitle must stay readable on a phone all the same
    sub_size = max(12, round(size * 0.42), round(min(canvas.size) * 0.022))
    sub_font = _font(min(sub_size, size), bold=False)
    sub_lines = _wrap(subtitle, sub_font, box_width)[:2] if subtitle else []
    sub_height = round(_font_size(sub_font) * 1.3) * len(sub_lines)
    gap = round(size * 0.45) if sub_lines else 0
    block_height = line_height * len(lines) + gap + sub_height
    y = top + max(0, (box_height - block_height) // 2)
    widths = [font.getlength(line) for line in lines]
    block_width = round(max(widths)) if widths else 0
    x0 = left + (box_width - block_width) // 2 if centered else left
    text_box = (x0, y, x0 + block_width, y + line_height * len(lines))

    pad = round(size * 0.45)
    backdrop = (
        max(0, x0 - pad),
        max(0, y - pad),
        min(canvas.width, x0 + block_width + pad),
        min(canvas.height, y + block_height + pad),
    )
    canvas, colour = _ensure_contrast(canvas.convert("RGBA"), backdrop, size)

    draw = ImageDraw.Draw(canvas)
    if accent is not None:
        rule_width = max(4, round(size * 0.12))
        rule_y = max(0, y - pad // 2 - rule_width)
        rule_x = x0 + (block_width - size * 2) // 2 if centered else x0
        draw.rectangle((rule_x, rule_y, rule_x + size * 2, rule_y + rule_width), fill=accent)
    for line, line_width in zip(lines, widths, strict=True):
        x = left + (box_width - round(line_width)) // 2 if centered else left
        draw.text((x, y), line, font=font, fill=colour)
        y += line_height
    y += gap
    sub_colour = _mix(colour, _average(canvas, backdrop), 0.2)
    for line in sub_lines:
        x = left + (box_width - round(sub_font.getlength(line))) // 2 if centered else left
        draw.text((x, y), line, font=sub_font, fill=sub_colour)
        y += round(_font_size(sub_font) * 1.3)
    return canvas, text_box, colour, size


def _average(canvas: Image.Image, box: tuple[int, int, int, int]) -> RGB:
    mean = ImageStat.Stat(canvas.crop(box).convert("RGB")).mean
    return (round(mean[0]), round(mean[1]), round(mean[2]))


def _worst_contrast(region: Image.Image, colour: RGB) -> float:
    """Contrast of `colour` against the least favourable 5% of the region's pixels."""
    small = region.convert("RGB").resize((32, 32), Image.Resampling.BILINEAR)
    ratios = sorted(contrast_ratio(colour, pixel) for pixel in _pixels(small))
    return ratios[len(ratios) // 20]


def _pixels(image: Image.Image) -> list[tuple[int, int, int]]:
    raw = image.tobytes()
    return [(raw[i], raw[i + 1], raw[i + 2]) for i in range(0, len(raw), 3)]


def _ensure_contrast(
    canvas: Image.Image, backdrop: tuple[int, int, int, int], size: int
) -> tuple[Image.Image, RGB]:
    region = canvas.crop(backdrop)
    colour = max((_LIGHT_TEXT, _DARK_TEXT), key=lambda c: _worst_contrast(region, c))
    if _worst_contrast(region, colour) >= MIN_CONTRAST:
        return canvas, colour
    scrim_colour = (0, 0, 0) if colour == _LIGHT_TEXT else (255, 255, 255)
    for opacity in (90, 130, 170, 210, 245):
        overlay = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
        ImageDraw.Draw(overlay).rounded_rectangle(
            backdrop, radius=round(size * 0.3), fill=(*scrim_colour, opacity)
        )
        candidate = Image.alpha_composite(canvas, overlay)
        if _worst_contrast(candidate.crop(backdrop), colour) >= MIN_CONTRAST:
            break
    return candidate, colour

"""Card drawing: backgrounds, decoration, fonts and type laid out with enough contrast."""

from __future__ import annotations

import hashlib
import math
from functools import lru_cache
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps, ImageStat

from powerpost.kit.cards.palette import (
    RGB,
    _mix,
    _tint,
    contrast_ratio,
)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

Style = Literal["diagonal", "bands", "radial", "blocks"]

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")

STYLES: tuple[Style, ...] = ("diagonal", "bands", "radial", "blocks")

MIN_CONTRAST = 4.5

_LIGHT_TEXT: RGB = (250, 250, 247)

_DARK_TEXT: RGB = (17, 19, 26)


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


@lru_cache(maxsize=64)
def _font(size: int, *, bold: bool) -> Font:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    path = FONT_DIR / name
    if path.is_file():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def _text_region(
    size: tuple[int, int], style: Style, margin_share: float, variant: int = 0
) -> tuple[int, int, int, int]:
    """Where the copy goes: by style, by the canvas's shape, and on a tall canvas by
    `variant` (a story's headline sits in its upper third or across its middle)."""
    width, height = size
    margin = round(min(width, height) * margin_share)
    if height > width * 1.2 and style in ("diagonal", "radial") and variant % 2:
        return (margin, round(height * 0.1), width - margin, round(height * 0.45))
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

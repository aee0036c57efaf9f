"""Card colours: colour words, curated palettes, colours taken from reference pictures,
and the WCAG contrast arithmetic the type is checked with."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from PIL import Image

RGB = tuple[int, int, int]

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

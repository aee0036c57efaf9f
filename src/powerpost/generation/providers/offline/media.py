"""What the attached media says on its own: kind, count, shape, length, colours, the words
of its file names, and the hashtags for what it shows."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from powerpost.generation.providers.base import MediaInput
from powerpost.generation.providers.offline.keywords import _hashtag, _Keyword
from powerpost.generation.providers.offline.vocabulary import _FILE_NOISE, _NAMED_COLOURS

_NUMBER_WORDS = {
    2: "two",
    3: "three",
    4: "four",
    5: "five",
    6: "six",
    7: "seven",
    8: "eight",
    9: "nine",
    10: "ten",
}


@dataclass(frozen=True)
class _MediaFacts:
    kind: str
    count: int
    orientation: str | None
    colours: tuple[str, ...]
    seconds: float | None
    file_words: tuple[str, ...]

    @property
    def duration_words(self) -> str | None:
        if self.seconds is None or self.seconds <= 0:
            return None
        if self.seconds < 90:
            n = max(1, round(self.seconds))
            return f"{n} second{'s' if n != 1 else ''}"
        minutes = round(self.seconds / 60)
        return f"{minutes} minutes"

    @property
    def duration_adjective(self) -> str | None:
        words = self.duration_words
        if words is None:
            return None
        number, unit = words.split(" ")
        return f"{number}-{unit.rstrip('s')}"

    def noun_phrase(self) -> str:
        """'a 42-second vertical video', '3 portrait photos', 'a photo'."""
        noun = "video" if self.kind == "video" else "photo"
        adjectives = [a for a in (self.duration_adjective, self.orientation) if a]
        if self.count > 1:
            count = _NUMBER_WORDS.get(self.count, str(self.count))
            return " ".join([count, *adjectives, noun + "s"])
        first = adjectives[0] if adjectives else noun
        article = "an" if _starts_with_vowel_sound(first) else "a"
        return " ".join([article, *adjectives, noun])


def _starts_with_vowel_sound(word: str) -> bool:
    digits = re.match(r"\d+", word)
    if digits:
        number = digits.group(0)
        return number.startswith("8") or number in {"11", "18"}
    return word[:1].lower() in {"a", "e", "i", "o", "u"}


def _parse_colour(value: str) -> tuple[int, int, int] | None:
    match = re.fullmatch(r"#?([0-9a-fA-F]{6})", value.strip())
    if not match:
        return None
    raw = match.group(1)
    return int(raw[0:2], 16), int(raw[2:4], 16), int(raw[4:6], 16)


def _colour_name(rgb: tuple[int, int, int]) -> str:
    # "redmean" weighting: a cheap perceptual correction to plain RGB distance
    def distance(other: tuple[int, int, int]) -> float:
        rmean = (rgb[0] + other[0]) / 2
        dr, dg, db = rgb[0] - other[0], rgb[1] - other[1], rgb[2] - other[2]
        return (2 + rmean / 256) * dr * dr + 4 * dg * dg + (2 + (255 - rmean) / 256) * db * db

    return min(_NAMED_COLOURS, key=lambda item: distance(item[1]))[0]


def _orientation(width: int, height: int, kind: str) -> str | None:
    if width <= 0 or height <= 0:
        return None
    ratio = width / height
    if ratio > 1.1:
        return "widescreen" if kind == "video" else "landscape"
    if ratio < 0.9:
        return "vertical" if kind == "video" else "portrait"
    return "square"


def _file_words(file_name: str) -> list[str]:
    stem = PurePath(file_name).stem
    stem = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", stem)
    words: list[str] = []
    for token in re.split(r"[\W_]+", stem):
        low = token.lower()
        if not low or low in _FILE_NOISE or re.fullmatch(r"v\d+|\d+[a-z]?|[a-z]\d+", low):
            continue
        if sum(ch.isdigit() for ch in low) * 2 >= len(low):
            continue
        if len(low) >= 6 and re.fullmatch(r"[0-9a-f]+", low):
            continue
        words.append(low)
    return words


def _media_facts(media: Sequence[MediaInput]) -> _MediaFacts | None:
    if not media:
        return None
    videos = [m for m in media if m.kind == "video"]
    chosen = videos if videos else list(media)
    kind = "video" if videos else "image"
    orientations = {_orientation(m.width, m.height, kind) for m in chosen}
    orientation = orientations.pop() if len(orientations) == 1 else None
    colours: list[str] = []
    for item in chosen:
        for value in item.dominant_colors[:3]:
            rgb = _parse_colour(value)
            if rgb is not None:
                name = _colour_name(rgb)
                if name not in colours:
                    colours.append(name)
    words: list[str] = []
    for item in media:
        for word in _file_words(item.file_name):
            if word not in words:
                words.append(word)
    seconds = chosen[0].duration_seconds if kind == "video" else None
    return _MediaFacts(
        kind=kind,
        count=len(chosen),
        orientation=orientation,
        colours=tuple(colours[:3]),
        seconds=seconds,
        file_words=tuple(words[:6]),
    )


_ORIENTATION_TAGS: dict[str, tuple[str, str]] = {
    # (key, tag); "#Portrait" and "#Landscape" alone would claim a genre, not a shape
    "portrait": ("portrait format", "#PortraitFormat"),
    "landscape": ("landscape format", "#LandscapeFormat"),
    "vertical": ("vertical format", "#VerticalFormat"),
    "widescreen": ("widescreen", "#Widescreen"),
}
_SHORT_VIDEO_SECONDS = 60.0
_LONG_VIDEO_SECONDS = 600.0


def _media_keywords(mf: _MediaFacts) -> list[_Keyword]:
    """Hashtags for what the media itself shows, most telling first: its kind, its length
    class, its shape, its colours. They follow every keyword from words, so a caps-limited
    platform keeps the kind and the first detail."""
    found: list[tuple[str, str]] = []
    if mf.kind == "video":
        # one tag per word: a short video is #ShortVideo alone, never beside #Video
        if mf.seconds is not None and 0 < mf.seconds <= _SHORT_VIDEO_SECONDS:
            found.append(("short video", "#ShortVideo"))
        else:
            found.append(("video", "#Video"))
            if mf.seconds is not None and mf.seconds >= _LONG_VIDEO_SECONDS:
                found.append(("long form", "#LongForm"))
    else:
        found.append(("photography", "#Photography"))
        if mf.count > 1:
            found.append(("photo series", "#PhotoSeries"))
    if mf.orientation == "square":
        found.append(("square format", "#SquareFormat"))
    elif mf.orientation in _ORIENTATION_TAGS:
        found.append(_ORIENTATION_TAGS[mf.orientation])
    for colour in mf.colours:
        tag = _hashtag(colour.title())
        if tag is not None:
            found.append((colour, tag))
    return [_Keyword(key, key, tag, 0.0) for key, tag in found]

"""Fit a provider's captions to the platform rules a post will later be checked against.

A caption that breaks a rule which can be repaired without changing what it says is
repaired here rather than failing a paid generation that a post would otherwise refuse
later: hashtags beyond the platform's cap are dropped from the end, and YouTube's
forbidden '<' and '>' become look-alike angle quotes. Lengths are checked after fitting;
a caption that is missing, empty or too long cannot be repaired and is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from powerpost.kit.platforms import (
    HASHTAG_RE,
    RULES,
    caption_length,
    caption_limit,
    count_hashtags,
)

# U+2039 and U+203A read like '<' and '>' and YouTube accepts them
_ANGLE_LOOKALIKES = str.maketrans({"<": "\u2039", ">": "\u203a"})


class UnfitCaption(Exception):
    """A caption no repair can bring within its platform's rules; the text says why."""


def _tightest(values: list[int]) -> int | None:
    return min(values) if values else None


def hashtag_limit(platform: str) -> int | None:
    """The fewest hashtags any of the platform's post types allows (one caption serves
    them all); None when the platform sets no cap."""
    return _tightest(
        [r.hashtag_max for r in RULES.values() if r.platform == platform and r.hashtag_max]
    )


def _youtube_title_max() -> int:
    limit = _tightest(
        [r.title_max for r in RULES.values() if r.platform == "youtube" and r.title_max]
    )
    if limit is None:
        raise RuntimeError("kit.platforms has no YouTube title limit")
    return limit


YOUTUBE_TITLE_MAX = _youtube_title_max()


def without_angle_brackets(text: str, fits: Callable[[str], bool] = lambda _: True) -> str:
    """`text` with '<' and '>' swapped for look-alikes that YouTube accepts; if the
    look-alikes (3 bytes each in UTF-8) would push it over its limit, the brackets are
    removed instead, which can only shorten it."""
    if "<" not in text and ">" not in text:
        return text
    swapped = text.translate(_ANGLE_LOOKALIKES)
    if fits(swapped):
        return swapped
    return text.replace("<", "").replace(">", "")


def drop_hashtags(text: str, keep: int) -> str:
    """`text` with at most `keep` hashtags: the ones past the cap go, last first. A tag that
    ends its line (a tag block) is removed with its space; one inside a sentence keeps its
    word and loses only the '#', so the sentence still reads."""
    found = list(HASHTAG_RE.finditer(text))
    if len(found) <= keep:
        return text
    for match in reversed(found[max(keep, 0) :]):
        start, end = match.span()
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", end)
        line_end = len(text) if line_end < 0 else line_end
        if text[end:line_end].strip():
            text = text[:start] + text[start + 1 :]
            continue
        cut = start
        while cut > line_start and text[cut - 1] in " \t":
            cut -= 1
        text = text[:cut] + text[line_end:]
        if cut == line_start:
            # the line held only tags: the line goes too, with the break before it
            text = text[: max(line_start - 1, 0)] + text[line_start:]
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _within(platform: str) -> Callable[[str], bool]:
    limit = caption_limit(platform)
    return lambda text: caption_length(platform, text) <= limit


def _fit_text(platform: str, text: str, tag_room: int | None) -> str:
    if tag_room is not None:
        text = drop_hashtags(text, tag_room)
    if platform == "youtube":
        text = without_angle_brackets(text, _within(platform))
    return text


def fit_output(platform: str, value: object) -> str | dict[str, str]:
    """One provider output fitted to its platform's rules, or UnfitCaption."""
    cap = hashtag_limit(platform)
    if platform != "youtube":
        if not isinstance(value, str) or not value.strip():
            raise UnfitCaption(f"the {platform} caption is missing or empty")
        text = _fit_text(platform, value, cap)
        if not text.strip() or not _within(platform)(text):
            raise UnfitCaption(f"the {platform} caption is empty or over its limit")
        return text

    if not isinstance(value, Mapping):
        raise UnfitCaption("youtube has no {title, description}")
    title, description = value.get("title"), value.get("description")
    if not isinstance(title, str) or not isinstance(description, str):
        raise UnfitCaption("youtube has no {title, description}")
    title = without_angle_brackets(title)
    if not title.strip() or len(title) > YOUTUBE_TITLE_MAX:
        raise UnfitCaption(f"the youtube title is empty or over {YOUTUBE_TITLE_MAX} chars")
    # YouTube counts the title's hashtags with the description's toward its cap
    room = None if cap is None else max(cap - count_hashtags(title), 0)
    description = _fit_text("youtube", description, room)
    if not description.strip() or not _within("youtube")(description):
        raise UnfitCaption("the youtube description is empty or over its limit")
    return {"title": title, "description": description}


def fit_outputs(
    outputs: Mapping[str, object], platforms: Sequence[str]
) -> dict[str, str | dict[str, str]]:
    """Exactly the requested platforms' captions, each fitted; UnfitCaption for the first
    one that cannot be."""
    return {platform: fit_output(platform, outputs.get(platform)) for platform in platforms}

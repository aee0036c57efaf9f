"""Significant words and phrases of the material, and the hashtags they become."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from powerpost.generation.providers.offline.text import (
    _CHUNK_SPLIT_RE,
    _is_content,
    _norm_key,
    _split_sentences,
    _words,
)


@dataclass(frozen=True)
class _Keyword:
    key: str  # lowercase words joined by a space
    display: str  # surface form for prose
    tag: str  # "#Form"
    score: float
    spread: int = 1  # in how many pieces of material (prompt, titles, facts) it occurs


def _extract_keywords(segments: Sequence[tuple[str, float]]) -> list[_Keyword]:
    """Significant words and phrases of two or three words, weighted by where they appear.

    A phrase must recur, or stand alone as a whole run of content words in a weighty
    segment (prompt, title, file name): "cold brew" in "our cold brew is back"; a two-word
    phrase that mostly occurs inside an accepted three-word one ("brew coffee" in
    "cold brew coffee") is a fragment and is dropped in its favour.
    """
    scores: dict[str, float] = {}
    order: dict[str, int] = {}
    surfaces: dict[str, dict[str, int]] = {}
    strong: dict[str, bool] = {}
    counts: dict[str, int] = {}
    seen_in: dict[str, set[int]] = {}

    def add(words: Sequence[str], weight: float, segment: int, whole: bool = False) -> None:
        key = " ".join(_norm_key(w) for w in words)
        surface = " ".join(words)
        scores[key] = scores.get(key, 0.0) + weight
        order.setdefault(key, len(order))
        forms = surfaces.setdefault(key, {})
        forms[surface] = forms.get(surface, 0) + 1
        strong[key] = strong.get(key, False) or (whole and weight >= 2)
        counts[key] = counts.get(key, 0) + 1
        seen_in.setdefault(key, set()).add(segment)

    def flush(run: list[str], weight: float, segment: int) -> None:
        for size in (2, 3):
            for start in range(len(run) - size + 1):
                add(run[start : start + size], weight, segment, whole=size == len(run))

    for segment, (text, weight) in enumerate(segments):
        for sentence in _split_sentences(text) or [text]:
            sentence_start = True
            for chunk in _CHUNK_SPLIT_RE.split(sentence):
                run: list[str] = []
                for word in _words(chunk):
                    surface = word.replace("’", "'")
                    if surface.lower().endswith("'s"):
                        surface = surface[:-2]
                    if _is_content(word):
                        # a capital at the start of a sentence says nothing about the word
                        keep_case = not sentence_start or surface.isupper()
                        shown = surface if keep_case else surface.lower()
                        run.append(shown)
                        add([shown], weight, segment)
                    else:
                        flush(run, weight, segment)
                        run = []
                    sentence_start = False
                flush(run, weight, segment)

    # fold a plural into its singular when both occur
    for key in sorted(scores):
        singular = key[:-1] if key.endswith("s") and not key.endswith("ss") else None
        if singular and singular in scores:
            scores[singular] += scores.pop(key)
            strong[singular] = strong[singular] or strong[key]
            counts[singular] += counts.pop(key)
            seen_in[singular] |= seen_in[key]

    def accepted(key: str) -> bool:
        return " " not in key or strong[key] or counts[key] >= 2

    trigrams = [k for k in scores if k.count(" ") == 2 and accepted(k)]
    keywords: list[_Keyword] = []
    for key, score in scores.items():
        size = key.count(" ") + 1
        if not accepted(key):
            continue
        if size == 2 and any(
            f" {key} " in f" {t} " and scores[t] >= 0.75 * score for t in trigrams
        ):
            continue
        forms = surfaces[key]
        display = max(forms, key=lambda f: (forms[f], -list(forms).index(f)))
        tag = _hashtag(display)
        if tag is None:
            continue
        weight = (1.0, 1.6, 1.8)[size - 1]
        if size == 1 and key.endswith(("ed", "ly")):
            weight = 0.5  # most likely a verb or an adverb: a weak tag
        keywords.append(_Keyword(key, display, tag, score * weight, len(seen_in[key])))
    keywords.sort(key=lambda k: (-k.score, order[k.key]))
    return keywords


def _hashtag(display: str) -> str | None:
    parts = [re.sub(r"[^\w]", "", p) for p in re.split(r"[\s\-]+", display)]
    parts = [p for p in parts if p]
    if not parts:
        return None
    if len(parts) == 1:
        word = parts[0]
        body = word if word.isupper() or word[:1].isupper() else word.lower()
    else:
        body = "".join(p if p.isupper() else p[:1].upper() + p[1:] for p in parts)
    if body.isdigit() or len(body) > 30 or "_" in body:
        return None
    return "#" + body


def _tags_of(keywords: Sequence[_Keyword]) -> set[str]:
    return {k.tag.lower() for k in keywords}

"""Significant phrases of the material, and the hashtags they become.

Hashtags come from noun phrases and names, never from single function words, verbs or
adjectives: "Announcing our Black Friday sale: 30% off all running shoes" gives
#BlackFriday and #RunningShoes, not #Black #Friday #sale #running. A name outranks a
compound, a compound outranks a lone noun, and a lone noun that says nothing on its own
(#sale, #tips, #office) is never a tag.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from powerpost.generation.providers.offline.text import _norm_key, _split_sentences, _stem
from powerpost.generation.providers.offline.vocabulary import (
    _GENERIC_MODIFIERS,
    _GENERIC_NOUNS,
    _STOP_WORDS,
)
from powerpost.kit.phrases import is_english, noun_chunks


@dataclass(frozen=True)
class _Keyword:
    key: str  # lowercase words joined by a space
    display: str  # surface form for prose
    tag: str  # "#Form"
    score: float
    spread: int = 1  # in how many pieces of material (prompt, titles, facts) it occurs


# how specific each kind of phrase is: the first tags are the most specific ones
_NAME, _ONE_NAME, _COMPOUND, _HEAD = 3.0, 2.6, 2.5, 1.0
_ADJECTIVE_END = re.compile(r"(?:ive|ous|ful|less|able|ible|ish|ly|ed|est)$")
_PROPER_RUN = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-Z][\w'’]*(?:\s+[A-Z][\w'’]*)*")


def _taggable_word(word: str, head: bool) -> bool:
    key = _norm_key(word)
    if key in _STOP_WORDS or key in _GENERIC_NOUNS or len(key) < 3:
        return False
    if not any(ch.isalpha() for ch in key) or sum(ch.isdigit() for ch in key) * 2 > len(key):
        return False
    if _ADJECTIVE_END.search(key) and not word[:1].isupper():
        return False
    return head or word[:1].isupper()


def _generic_lead(words: Sequence[str]) -> bool:
    """A first word that opens the phrase without narrowing it: "all", "new", or a generic
    plural before another noun ("mistakes first-time founders make": a clause, not a name)."""
    key = _norm_key(words[0])
    plural = key.endswith("s") and len(words) > 1 and key in _GENERIC_NOUNS
    return key in _GENERIC_MODIFIERS or plural


def _add_name(out: list[tuple[tuple[str, ...], float, bool]], run: Sequence[str]) -> None:
    if len(run) > 1:
        out.append((tuple(run[:4]), _NAME, False))
    elif run and _taggable_word(run[0], True):
        out.append(((run[0],), _ONE_NAME, False))


def _phrases(text: str) -> list[tuple[tuple[str, ...], float, bool]]:
    """(words, specificity, needs recurring) for every candidate phrase in `text`."""
    out: list[tuple[tuple[str, ...], float, bool]] = []
    if not is_english(text):
        # the word lists only read English: keep the names, which need no grammar
        for sentence in _split_sentences(text) or [text]:
            for match in _PROPER_RUN.finditer(sentence):
                _add_name(out, match.group(0).split()[:3])
        return out
    for chunk in noun_chunks(text):
        words = list(chunk.words)
        proper = list(chunk.proper)
        while words and not proper[0] and _generic_lead(words):
            words.pop(0)
            proper.pop(0)
        if not words:
            continue
        if any(proper) and not all(proper) and len(words) <= 3:
            names = [w for w, p in zip(words, proper, strict=True) if p]
            if len(names) == 1 and not _taggable_word(names[0], True):
                # "rainy Sunday", "perfect Monday": the name alone says nothing
                out.append((tuple(words), _COMPOUND, False))
                continue
        # names: runs of proper words inside the phrase
        common: list[str] = []
        run: list[str] = []
        for word, is_proper in zip(words, proper, strict=True):
            if is_proper:
                run.append(word)
                continue
            _add_name(out, run)
            run = []
            common.append(word)
        _add_name(out, run)
        if len(common) == len(words) and len(words) >= 2:
            out.append((tuple(words[-3:]), _COMPOUND, False))
            if len(words) >= 3:
                out.append((tuple(words[-2:]), _COMPOUND, True))
                out.append((tuple(words[-3:-1]), _COMPOUND, True))
        # a lone common word only as the head of its phrase: "starter", never "sourdough"
        last = words[-1]
        if not proper[-1] and _taggable_word(last, True):
            out.append(((last,), _HEAD, False))
    return out


def _extract_keywords(segments: Sequence[tuple[str, float]]) -> list[_Keyword]:
    """Candidate hashtags of the material, most specific and best supported first.

    score = specificity (name 3, compound 2.5, lone noun 1) x the segment's weight,
    summed over every occurrence; a phrase that only appears inside a longer one must
    recur to count ("cold brew" in "cold brew coffee"); plurals fold into singulars.
    """
    scores: dict[str, float] = {}
    order: dict[str, int] = {}
    surfaces: dict[str, dict[str, int]] = {}
    counts: dict[str, int] = {}
    needs: dict[str, bool] = {}
    seen_in: dict[str, set[int]] = {}
    for segment, (text, weight) in enumerate(segments):
        for words, specificity, must_recur in _phrases(text):
            key = " ".join(_stem(_norm_key(w)) for w in words)
            scores[key] = scores.get(key, 0.0) + specificity * weight
            order.setdefault(key, len(order))
            forms = surfaces.setdefault(key, {})
            surface = " ".join(words)
            forms[surface] = forms.get(surface, 0) + 1
            counts[key] = counts.get(key, 0) + 1
            needs[key] = needs.get(key, True) and must_recur
            seen_in.setdefault(key, set()).add(segment)
    keywords: list[_Keyword] = []
    for key, score in scores.items():
        if needs[key] and counts[key] < 2:
            continue
        forms = surfaces[key]
        display = max(forms, key=lambda f: (forms[f], -list(forms).index(f)))
        tag = _hashtag(display)
        if tag is None:
            continue
        keywords.append(_Keyword(key, display, tag, score, len(seen_in[key])))
    keywords.sort(key=lambda k: (-k.score, order[k.key]))
    return keywords


def _hashtag(display: str) -> str | None:
    parts = [re.sub(r"[^\w]", "", p) for p in re.split(r"[\s\-]+", display)]
    parts = [p for p in parts if p]
    if not parts:
        return None
    body = "".join(p if p[1:] != p[1:].lower() else p[:1].upper() + p[1:] for p in parts)
    if body.isdigit() or len(body) > 30 or "_" in body:
        return None
    return "#" + body


def _tag_words(keyword: _Keyword) -> set[str]:
    """The words a tag stands for, plural folded: #RunningShoes and #Shoe share one."""
    return {_stem(_norm_key(w)) for w in re.split(r"[\s\-]+", keyword.display) if w}


def _tags_of(keywords: Sequence[_Keyword]) -> set[str]:
    return {k.tag.lower() for k in keywords}

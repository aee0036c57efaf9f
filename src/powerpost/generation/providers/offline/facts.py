"""Picking the most informative source sentences with a small explainable score."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from powerpost.generation.providers.base import SourceDoc
from powerpost.generation.providers.offline.text import (
    _CITATION_RE,
    _HASHTAG_RE,
    _cap,
    _shorten_sentence,
    _split_sentences,
    _squash,
    _stems,
    _words,
)
from powerpost.generation.providers.offline.vocabulary import (
    _JUNK_MARKERS,
    _LEADING_CONNECTORS,
    _PRONOUN_START,
)


@dataclass(frozen=True)
class _Candidate:
    text: str
    keys: frozenset[str]
    doc: int
    position: int
    score: float


def _clean_source_sentence(sentence: str) -> str | None:
    sentence = _squash(_CITATION_RE.sub("", sentence))
    sentence = _HASHTAG_RE.sub(lambda m: m.group(1), sentence)
    low = sentence.lower()
    if any(marker in low for marker in _JUNK_MARKERS) or "<" in sentence or ">" in sentence:
        return None
    stripped = _LEADING_CONNECTORS.sub("", sentence)
    if stripped != sentence:
        sentence = _cap(stripped)
    if not sentence or not (sentence[0].isupper() or sentence[0].isdigit() or sentence[0] in '"“'):
        return None
    if not re.search(r"[.!?][\"'”’)]?$", sentence):
        return None
    tokens = _words(sentence)
    if not 6 <= len(tokens) <= 45 or len(sentence) > 320:
        return None
    alpha = sum(1 for t in tokens if any(ch.isalpha() for ch in t))
    if alpha < 0.6 * len(tokens):
        return None
    letters = [ch for ch in sentence if ch.isalpha()]
    if letters and sum(ch.isupper() for ch in letters) > 0.6 * len(letters):
        return None
    return sentence


def _select_facts(
    sources: Sequence[SourceDoc],
    query: dict[str, float],
    avoid: Sequence[frozenset[str]],
    deep: bool,
    max_words: int,
) -> list[str]:
    """Rank source sentences by an explainable score and keep the best, diverse ones.

    score = relevance (query-term overlap, prompt terms weigh 2 and titles 1, divided by
    sqrt of the sentence's term count) + centrality (mean log frequency of its terms across
    all sources) + position (earlier sentences lead) + 0.3 if it carries a number, times
    penalties for questions, pronoun openings that lose their referent, and off-target length.
    """
    char_cap = 60_000 if deep else 15_000
    per_source = 3 if deep else 2
    wanted = 10 if deep else 4
    source_cap = 10 if deep else 3

    docs: list[list[tuple[int, str, list[str]]]] = []
    frequency: dict[str, int] = {}
    for source in sources:
        sentences: list[tuple[int, str, list[str]]] = []
        for raw in _split_sentences(source.text[:char_cap]):
            cleaned = _clean_source_sentence(raw)
            if cleaned is None:
                continue
            keys = _stems(cleaned)
            if len(set(keys)) < 3:
                continue
            # position counts kept sentences only, so navigation junk does not push facts down
            sentences.append((len(sentences), cleaned, keys))
            for key in set(keys):
                frequency[key] = frequency.get(key, 0) + 1
        docs.append(sentences)

    scored: list[list[_Candidate]] = []
    for doc_index, sentences in enumerate(docs):
        candidates: list[_Candidate] = []
        for position, text, keys in sentences:
            unique = frozenset(keys)
            relevance = sum(query.get(k, 0.0) for k in unique) / math.sqrt(len(unique))
            centrality = 0.5 * sum(math.log1p(frequency[k]) for k in unique) / len(unique)
            lead = 0.6 / (1 + 0.15 * position)
            score = relevance + centrality + lead
            if re.search(r"\d", text):
                score += 0.3
            if text.rstrip("\"'”’)").endswith("?"):
                score *= 0.7
            if _words(text)[0].lower() in _PRONOUN_START:
                score *= 0.6
            if len(text.split()) > max_words * 1.6:
                score *= 0.8
            candidates.append(_Candidate(text, unique, doc_index, position, score))
        scored.append(candidates)

    def doc_strength(index: int) -> float:
        best = sorted((c.score for c in scored[index]), reverse=True)[:3]
        return best[0] + 0.5 * sum(best) / len(best) if best else 0.0

    ranked_docs = sorted(range(len(scored)), key=lambda i: (-doc_strength(i), i))[:source_cap]
    pool = sorted(
        (c for i in ranked_docs for c in scored[i]),
        key=lambda c: (-c.score, c.doc, c.position),
    )
    chosen: list[_Candidate] = []
    taken: dict[int, int] = {}
    seen: list[frozenset[str]] = list(avoid)
    for candidate in pool:
        if len(chosen) >= wanted:
            break
        if taken.get(candidate.doc, 0) >= per_source:
            continue
        if any(_jaccard(candidate.keys, other) >= 0.6 for other in seen):
            continue
        short = _shorten_sentence(candidate.text, max_words)
        if short is None:
            continue
        chosen.append(_Candidate(short, candidate.keys, candidate.doc, candidate.position, 0))
        taken[candidate.doc] = taken.get(candidate.doc, 0) + 1
        seen.append(candidate.keys)
    return [c.text for c in chosen]


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)

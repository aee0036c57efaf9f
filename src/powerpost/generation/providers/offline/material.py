"""Gathering: everything a request offers (prompt, sources, media, style examples, call to
action) turned into the one `_Material` every platform's caption is written from."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from powerpost.generation.providers.base import CaptionRequest, SourceDoc
from powerpost.generation.providers.offline.facts import _select_facts
from powerpost.generation.providers.offline.keywords import _extract_keywords, _Keyword, _tags_of
from powerpost.generation.providers.offline.media import _media_facts, _media_keywords, _MediaFacts
from powerpost.generation.providers.offline.prompt import (
    _INTENT_PATTERNS,
    _lowercase_common_start,
    _parse_prompt,
    _Prompt,
)
from powerpost.generation.providers.offline.text import (
    _HASHTAG_RE,
    _TOKEN_RE,
    _cap,
    _contains_phrase,
    _emoji_run,
    _end_sentence,
    _has_words,
    _norm_key,
    _split_sentences,
    _squash,
    _stem,
    _stems,
    _strip_emoji,
    _words,
    _words_to_title,
)
from powerpost.kit.phrases import is_english, kind_of


@dataclass
class _Material:
    seed: str
    mode: str
    intent: str
    topic: str | None
    statements: list[str]
    facts: list[str]
    media: _MediaFacts | None
    keywords: list[_Keyword]
    focus: str | None
    cta: str | None
    signoff: str | None
    max_words: int
    title_source: str | None
    # the emoji of a prompt with no words in it: decoration where the emoji level allows
    symbols: str = ""
    post_types: tuple[str, ...] = ()
    # what the prompt's opening is: a topic phrase, a statement or a question
    kind: str = "topic"
    english: bool = True


def _signoff(examples: Sequence[str]) -> str | None:
    """A closing phrase at least two example posts end with (the longest shared one)."""
    endings: list[list[str]] = []
    originals: list[str] = []
    for post in examples:
        lines = [_strip_emoji(line).strip() for line in post.strip().split("\n")]
        lines = [line for line in lines if line and not re.fullmatch(r"(?:#\w+\s*)+", line)]
        if not lines:
            continue
        last_sentences = _split_sentences(_HASHTAG_RE.sub("", lines[-1]).strip())
        if not last_sentences:
            continue
        last = last_sentences[-1]
        originals.append(last)
        endings.append([w.lower() for w in _words(last)])
    if len(endings) < 2:
        return None
    need = max(2, (len(endings) + 1) // 2)
    longest = max(len(e) for e in endings)
    for size in range(min(longest, 12), 1, -1):
        counts: dict[tuple[str, ...], int] = {}
        for words in endings:
            if len(words) >= size:
                suffix = tuple(words[-size:])
                counts[suffix] = counts.get(suffix, 0) + 1
        shared = [s for s, n in counts.items() if n >= need]
        if shared:
            suffix = shared[0]
            for original, words in zip(originals, endings, strict=True):
                if tuple(words[-size:]) == suffix:
                    return _phrase_tail(original, size)
    return None


def _phrase_tail(sentence: str, size: int) -> str:
    """The last `size` words of a sentence with their original spelling and punctuation."""
    spans = [m.start() for m in _TOKEN_RE.finditer(sentence)]
    tail = sentence[spans[-size] :].strip()
    return _end_sentence(_cap(tail))


def _avg_sentence_words(examples: Sequence[str]) -> float | None:
    lengths: list[int] = []
    for post in examples:
        text = _strip_emoji(_HASHTAG_RE.sub("", post))
        lengths.extend(len(_words(s)) for s in _split_sentences(text) if _words(s))
    return sum(lengths) / len(lengths) if lengths else None


def _normalize_cta(cta_text: str | None) -> str | None:
    if cta_text is None:
        return None
    text = _squash(cta_text)
    if not text:
        return None
    return _end_sentence(_cap(text))


def _clean_title(title: str) -> str:
    parts = [p.strip() for p in re.split(r"\s+[|–—:-]\s+|\s+::\s+", title) if p.strip()]
    if not parts:
        return ""
    first = parts[0]
    return first if len(first.split()) >= 2 else max(parts, key=len)


def _is_title_case(words: Sequence[str]) -> bool:
    return len(words) >= 3 and sum(1 for w in words if w[:1].isupper()) >= 0.6 * len(words)


def _untitle(title: str) -> str:
    """Title Case carries no evidence of proper nouns; keep only acronyms' capitals."""
    words = title.split()
    if not _is_title_case(words):
        return title
    return " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words)


def _sentence_case(title: str, proper: set[str]) -> str:
    words = title.split()
    if not _is_title_case(words):
        return _lowercase_common_start(title)
    out: list[str] = []
    for word in words:
        key = _norm_key(word)
        out.append(word if word.isupper() or key in proper else word.lower())
    return " ".join(out)


def _gather(request: CaptionRequest) -> _Material:
    style = request.style
    given_prompt = _squash(request.prompt or "")
    # "!!! ???" or a run of emoji says nothing to build sentences, topics or a title on
    prompt = given_prompt if _has_words(given_prompt) else ""
    sources = [
        SourceDoc(s.url, _squash(s.title), s.text)
        for s in request.sources
        if s.title.strip() or s.text.strip()
    ]
    media = _media_facts(request.media)

    # The seed is the material only: a writing style changes wording through its rules, and
    # the same facts keep the same phrasing choices whichever style asks for them.
    seed = hashlib.sha256(
        json.dumps(
            {
                "prompt": given_prompt,
                "cta": request.cta_text,
                "sources": [[s.url, s.title, s.text[:5000]] for s in sources],
                "media": [[m.kind, m.file_name, m.width, m.height] for m in request.media],
            },
            sort_keys=True,
        ).encode("utf-8")
    ).hexdigest()

    examples = style.example_posts if style else ()
    average = _avg_sentence_words(examples)
    # mirror the examples' rhythm, but never so short that real facts cannot fit
    max_words = 30 if average is None else max(14, min(40, round(average * 2)))

    parsed = _parse_prompt(prompt) if prompt else _Prompt()
    statements = list(parsed.statements)

    cta = _normalize_cta(request.cta_text)
    if cta is not None:
        for index, statement in enumerate(statements):
            if _contains_phrase(statement, cta):
                # the user already wrote the call to action: it becomes the CTA line itself
                cta = statements.pop(index)
                break

    query: dict[str, float] = {}
    for key in _stems(prompt):
        query[key] = 2.0
    for source in sources:
        for key in _stems(source.title):
            query.setdefault(key, 1.0)
    if media is not None:
        for word in media.file_words:
            query.setdefault(_stem(word), 1.0)
    avoid = [frozenset(_stems(s)) for s in statements]
    deep = request.research_mode == "deep"
    facts = _select_facts(sources, query, avoid, deep, max_words) if sources else []

    titles = [_clean_title(s.title) for s in sources if s.title]
    # the prompt's own words without its instructions ("Write a post announcing ...")
    said = " ".join([parsed.topic or "", *parsed.statements]).strip() if prompt else ""
    segments: list[tuple[str, float]] = [(said or prompt, 3.0)]
    if parsed.topic:
        segments.append((parsed.topic, 1.0))
    if media is not None and media.file_words:
        segments.append((" ".join(media.file_words), 3.0))
    segments.extend((_untitle(t), 2.0) for t in titles)
    segments.extend((f, 1.0) for f in facts)
    keywords = _extract_keywords([(t, w) for t, w in segments if t])
    prompt_tags = [_Keyword(t[1:].lower(), t[1:], t, 1000.0 - i) for i, t in enumerate(parsed.tags)]
    keywords = prompt_tags + [
        k for k in keywords if k.tag.lower() not in {t.lower() for t in parsed.tags}
    ]
    proper = {k.key for k in keywords if " " not in k.key and k.display[:1].isupper()}

    topic = parsed.topic
    title_source: str | None = None
    placeholder_topic = False
    if topic is None and not statements:
        if titles:
            topic = _sentence_case(titles[0], proper)
            title_source = titles[0]
        elif media is not None and media.file_words:
            topic = _words_to_title(" ".join(media.file_words))
        elif media is not None:
            noun = "clip" if media.kind == "video" else "shot"
            topic = f"these {noun}s" if media.count > 1 else f"this {noun}"
            placeholder_topic = True
    if topic is not None and len(topic.split()) > 16:
        statements.insert(0, _end_sentence(_cap(topic)))
        topic = None

    intent_text = " ".join([prompt, *titles[:2]])
    intent = next(
        (name for name, pattern in _INTENT_PATTERNS if pattern.search(intent_text)), "general"
    )
    kind = "topic"
    english = is_english(prompt) if prompt else True
    if topic is None and statements:
        # a headline is a phrase kept whole (too long or too exact for a template)
        kind = {"question": "question", "topic": "headline"}.get(
            kind_of(statements[0]) if english else "statement", "statement"
        )
        if statements[0].rstrip("\"'”’)").endswith("?"):
            kind = "question"
    if kind == "question":
        intent = "question"

    # a question names a focus only when one clearly recurs; otherwise it stays open
    focus: str | None = None
    if topic and len(topic.split()) <= 5 and not placeholder_topic:
        focus = topic
    else:
        recurring = [k for k in keywords if k.spread >= 2]
        if recurring:
            best = recurring[0]
            phrase = next(
                (k for k in recurring if " " in k.key and k.score >= 0.6 * best.score), None
            )
            focus = (phrase or best).display

    if media is not None and not prompt and not sources:
        # the media is all there is: tag what it shows, after any words from its file name
        keywords += [k for k in _media_keywords(media) if k.tag.lower() not in _tags_of(keywords)]

    return _Material(
        seed=seed,
        mode=request.research_mode,
        intent=intent,
        topic=topic,
        statements=statements,
        facts=facts,
        media=media,
        keywords=keywords,
        focus=focus,
        cta=cta,
        signoff=_signoff(examples),
        max_words=max_words,
        title_source=title_source,
        symbols="" if prompt else _emoji_run(given_prompt),
        post_types=request.post_types,
        kind=kind,
        english=english,
    )

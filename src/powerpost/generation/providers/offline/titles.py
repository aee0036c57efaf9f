"""The YouTube title: from the topic, the user's words or the media, within 100 characters."""

from __future__ import annotations

from powerpost.generation.fitting import without_angle_brackets
from powerpost.generation.providers.offline.layout import _Voice
from powerpost.generation.providers.offline.material import _Material
from powerpost.generation.providers.offline.media import _MediaFacts
from powerpost.generation.providers.offline.text import (
    _join_list,
    _squash,
    _strip_end,
    _trim_text,
    _words_to_title,
)


def _media_look_title(mf: _MediaFacts) -> str:
    look = "A Quick Look"
    if mf.kind == "video" and mf.duration_adjective:
        look = f"A {_words_to_title(mf.duration_adjective)} Look"
    if mf.colours:
        look += f" in {_words_to_title(_join_list(mf.colours))}"
    return look


def _fallback_title(m: _Material) -> str:
    """A title when the material offers no words for one: the media's look, else what
    is being posted."""
    if m.media is not None:
        return _media_look_title(m.media)
    youtube = [p for p in m.post_types if p.startswith("youtube-")]
    if youtube and all(p == "youtube-short" for p in youtube):
        return "New Short"
    return "New Video"


def _title_sentence(sentence: str, english: bool) -> str:
    """A sentence as a title: Title Case in English, a question keeps its mark."""
    question = sentence.rstrip().endswith("?")
    base = _strip_end(sentence)
    if english:
        base = _words_to_title(base)
    return base + "?" if question else base


def _youtube_title(voice: _Voice, draft_hook: str) -> str:
    m = voice.material
    mf = m.media
    if not (m.topic or m.statements or m.facts or m.focus or mf):
        return _fallback_title(m)
    media_only = mf is not None and not m.statements and not m.facts
    base: str
    if media_only and mf is not None and not mf.file_words and not m.title_source:
        return _media_look_title(mf)
    noun_phrase = True  # a phrase takes a tone suffix; a sentence stands as it is
    if m.topic and m.title_source:
        base = m.title_source
    elif m.topic:
        base = _words_to_title(m.topic)
    elif m.statements and len(m.statements[0]) <= 70:
        base, noun_phrase = _title_sentence(m.statements[0], m.english), False
    elif m.focus:
        base = _words_to_title(m.focus)
    else:
        base, noun_phrase = _title_sentence(draft_hook, m.english), False
    base = without_angle_brackets(base)
    candidates: list[str] = []
    if media_only and mf is not None and mf.kind == "video" and mf.duration_words:
        candidates.append(f"{base} in {_words_to_title(mf.duration_words)}")
    if noun_phrase and m.topic and m.intent in ("announce", "launch"):
        if not base.lower().startswith(("introducing", "announcing")):
            candidates.append(f"Introducing {base}")
    elif noun_phrase:
        candidates.append(base + voice.pick(voice.tone.title_suffixes, "title"))
    candidates.append(base)
    for candidate in candidates:
        candidate = _squash(candidate)
        if 0 < len(candidate) <= 100:
            return candidate
    return _trim_text(base, 100) or base[:100]

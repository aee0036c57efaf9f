"""Composing the opening around the user's words without breaking their grammar.

A topic phrase ("5 tips for keeping sourdough alive", "our spring menu") is set into a
template that suits its shape; a statement, a command or an announcement is kept whole
and may get a kicker of its own before it ("Big news! Announcing our sale..."); a
question is asked as written. No template ever repeats the word the user's text starts
with ("Announcing announcing...").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from powerpost.generation.providers.offline.phrasing import (
    _CASUAL_TONES,
    _INTENT_CTA,
    _INTENT_QUESTIONS,
    _KICKERS,
    _TOPIC_HOOKS,
)
from powerpost.generation.providers.offline.text import _cap, _stable_int
from powerpost.kit.phrases import NUMBER_WORDS, tag

_GUIDE_WORDS = re.compile(
    r"\b(?:tips?|guide|ways|steps|lessons|mistakes|checklist|ideas|secrets|hacks)\b", re.I
)


def _register(tone_name: str) -> int:
    """0 for the casual tones, 1 for the formal ones (an index into the phrasing tables)."""
    return 0 if tone_name in _CASUAL_TONES else 1


def _words_of(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[^\W\d_]+(?:['’][^\W\d_]+)*", text)}


def _first_word(text: str) -> str:
    words = re.findall(r"[^\W\d_]+(?:['’][^\W\d_]+)*", text)
    return words[0].lower() if words else ""


def _choose(options: Sequence[str], seed: int, fits: object) -> str | None:
    """The seed's option, or the next one that `fits`; None when none does."""
    check = fits if callable(fits) else (lambda _: True)
    for step in range(len(options)):
        option = options[(seed + step) % len(options)]
        if check(option):
            return option
    return None


def topic_shape(topic: str) -> str:
    """ "list" for "5 tips for...", "howto" for "how to..."/"why...", "guide" for a phrase
    naming tips or a guide, "noun" for any other noun phrase."""
    first = _first_word(topic)
    lead = topic.split()[0].lower() if topic.split() else ""
    if (lead[:1].isdigit() and lead not in {"1", "one"}) or (
        lead in NUMBER_WORDS and lead not in {"one", "first", "once", "half"}
    ):
        return "list"
    if first in {"how", "why", "what", "when", "where", "which"}:
        return "howto"
    if _GUIDE_WORDS.search(topic):
        return "guide"
    return "noun"


def inline(topic: str) -> str:
    """The topic as it reads inside a sentence: a common first word in lower case."""
    tokens = tag(topic)
    if not tokens:
        return topic
    first = tokens[0]
    acronym = len(first.text) > 1 and first.text.isupper()
    if first.text[:1].isupper() and first.tag != "PROPER" and not acronym and first.text != "I":
        return first.text[:1].lower() + topic[1:]
    return topic


def topic_hook(topic: str, tone_name: str, tone_hooks: Sequence[str], seed: int) -> str:
    """The opening line for a topic phrase, from a template that suits its shape."""
    shape = topic_shape(topic)
    templates = _TOPIC_HOOKS[shape][_register(tone_name)] if shape in _TOPIC_HOOKS else tone_hooks
    text = inline(topic)
    first = _first_word(text)

    def fits(template: str) -> bool:
        return first not in _words_of(template.replace("{t}", " ").replace("{T}", " "))

    template = _choose(templates, seed, fits) or "{T}."
    return _cap(template.format(t=text, T=_cap(text)))


def kicker(intent: str, tone_name: str, statement: str, seed: int) -> str | None:
    """A short sentence of its own to open a statement with, sharing no word with the
    statement's opening ("Big news!" never before "Big news: ...")."""
    options = _KICKERS.get(intent)
    if options is None:
        return None
    opening = _words_of(" ".join(statement.split()[:5]))

    def fits(line: str) -> bool:
        return not (_words_of(line) - {"a", "an", "the", "us", "our", "we", "from"}) & opening

    return _choose(options[_register(tone_name)], seed, fits)


def intent_question(intent: str, seed: int) -> str | None:
    options = _INTENT_QUESTIONS.get(intent)
    return options[seed % len(options)] if options else None


def intent_cta(intent: str) -> str | None:
    return _INTENT_CTA.get(intent)


def seed_of(*parts: str) -> int:
    return _stable_int(*parts)

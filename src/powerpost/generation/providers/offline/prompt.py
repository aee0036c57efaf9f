"""Reading the prompt: instructions set aside, a topic or statements kept, the user's own
hashtags collected, and the intent (a sale, an event, a hire, tips...) recognised."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from powerpost.generation.providers.offline.text import (
    _HASHTAG_RE,
    _cap,
    _end_sentence,
    _is_emoji,
    _split_sentences,
    _squash,
    _strip_end,
)
from powerpost.generation.providers.offline.vocabulary import _STOP_WORDS
from powerpost.kit.phrases import is_english, kind_of

_META_DROP = re.compile(
    r"^(?:please\s+)?(?:(?:keep|make)\s+it\b|(?:use|add)\s+(?:some\s+|a\s+few\s+|lots\s+of\s+|"
    r"relevant\s+)?(?:emojis?|hashtags?)\b|(?:tone|style|voice|audience|platforms?)\s*:|"
    r"(?:don't|do\s+not)\s+use\b|(?:in|with)\s+an?\s+[\w-]+\s+(?:tone|voice|style)\b|"
    r"(?:write|sound)\s+(?:it\s+)?(?:like|as)\b|(?:target|aim)\s+(?:it\s+)?at\b)",
    re.IGNORECASE,
)
_LEAD_INSTRUCTION = re.compile(
    r"^(?:please\s+)?(?:can\s+you\s+|could\s+you\s+|help\s+me\s+)?"
    r"(?:write|create|generate|make|draft|compose|craft|give\s+me|prepare|put\s+together)\s+"
    r"(?:me\s+)?(?:an?\s+|some\s+|the\s+|\d+\s+)?(?:[\w-]+\s+){0,3}?"
    r"(?:post|posts|caption|captions|tweet|tweets|thread|copy|announcement|update|description|"
    r"content|blurb|text)\b\s*"
    r"(?:for\s+(?:instagram|tiktok|x|twitter|facebook|linkedin|youtube|social\s+media|"
    r"our\s+(?:followers|audience|customers|page|channel))\s*)?"
    r"(?P<verb>about|on|for|announcing|introducing|promoting|celebrating|highlighting|"
    r"sharing|showcasing|explaining|saying(?:\s+that)?|telling\s+(?:people|everyone|followers)"
    r"(?:\s+that)?|to\s+(?:announce|promote|celebrate|share|introduce|explain)|"
    r"that\s+(?:announces|introduces|promotes|celebrates|highlights|shares|explains|says))?\s*",
    re.IGNORECASE,
)
_POINT_INSTRUCTION = re.compile(
    r"^(?:please\s+)?(?:also\s+)?(?:be\s+sure\s+to\s+|make\s+sure\s+to\s+|don't\s+forget\s+to\s+)?"
    r"(?:mention|highlight|emphasi[sz]e|include|note|stress|point\s+out|add)\s+"
    r"(?P<that>that\s+)?(?P<rest>.+)$",
    re.IGNORECASE,
)
_INTENT_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # first match wins: the narrower intents come before the broad "announce"
    (
        "quote",
        re.compile(
            r"^\s*[\"“]|\b(?i:quote of the)\b|\b[Aa]s [A-Z]\w+(?: [A-Z]\w+)* said\b|—\s*[A-Z]"
        ),
    ),
    ("notice", re.compile(r"\b(?:reminder|heads up|closed|schedule change|please note)\b", re.I)),
    ("hiring", re.compile(r"\b(?:hiring|join our team|open roles?|open positions?)\b", re.I)),
    ("team", re.compile(r"\b(?:meet \w+ \w+, our new|welcome \w+(?: \w+)? to the team)\b", re.I)),
    (
        "event",
        re.compile(
            r"\b(?:event|webinar|workshop|meetup|conference|summit|join us|livestream|"
            r"festival|concert|tasting|night at|charity run|fun run|marathon|class(?:es)?)\b",
            re.I,
        ),
    ),
    (
        "sale",
        re.compile(
            r"\b(?:sale|discount|% off|percent off|deal|deals|promo|coupon|offer|"
            r"free shipping|use code|clearance)\b",
            re.I,
        ),
    ),
    (
        "launch",
        re.compile(
            r"\b(?:launch\w*|introduc\w*|unveil\w*|releas\w*|now available|out now|"
            r"is here|new drop|version \d[\d.]*|debut\w*)\b",
            re.I,
        ),
    ),
    (
        "milestone",
        re.compile(
            r"\b(?:\d+(?:st|nd|rd|th)|anniversary|milestone|followers|downloads|"
            r"turned \d+|thank you)\b",
            re.I,
        ),
    ),
    (
        "tips",
        re.compile(r"\b(?:tips?|how to|guide|ways to|steps|lessons|mistakes|checklist)\b", re.I),
    ),
    (
        "announce",
        re.compile(
            r"\b(?:announc\w*|partnership|big news|official\w*|opening|coming soon|"
            r"certified)\b",
            re.I,
        ),
    ),
)


@dataclass
class _Prompt:
    topic: str | None = None
    statements: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


def _looks_like_statement(text: str) -> bool:
    """A clause, a command or a question rather than a topic phrase; text the English
    word lists cannot read is kept as the user wrote it."""
    if text.endswith(("!", "?")) or not is_english(text):
        return True
    return kind_of(text) != "topic"


_HEADLINE_MARKS = re.compile(r"[:=+|]|\d")


def _topic_ok(phrase: str) -> bool:
    """A topic to set into a template: a short noun phrase. A headline with a colon,
    figures or many words ("Flash sale: 2 for 1 this weekend") is kept as written."""
    if not _has_words_only(phrase) or phrase.endswith(("!", "?")):
        return False
    listing = re.match(r"\s*(?:\d+|how|why|what|when|where)\b", phrase, re.I) is not None
    if listing:
        # "Why stretching after a run matters": a topic although it has a verb
        return len(phrase.split()) <= 16 and ":" not in phrase
    if _looks_like_statement(phrase):
        return False
    return len(phrase.split()) <= 8 and not _HEADLINE_MARKS.search(phrase)


def _has_words_only(phrase: str) -> bool:
    return not any(_is_emoji(ch) for ch in phrase)


def _lowercase_common_start(text: str) -> str:
    words = text.split(" ", 1)
    if words and words[0].lower() in _STOP_WORDS and not words[0].isupper():
        return words[0].lower() + (" " + words[1] if len(words) > 1 else "")
    return text


def _parse_prompt(prompt: str) -> _Prompt:
    parsed = _Prompt()
    text = _squash(prompt)
    for match in _HASHTAG_RE.finditer(text):
        tag = "#" + match.group(1)
        if tag.lower() not in (t.lower() for t in parsed.tags):
            parsed.tags.append(tag)
    # the user's own hashtags move to the tag block; the word stays readable in the prose
    text = _squash(_HASHTAG_RE.sub(lambda m: m.group(1), text))
    first = True
    for sentence in _split_sentences(text):
        sentence = sentence.strip()
        if not sentence or _META_DROP.match(sentence):
            continue
        leading, first = first, False
        if leading:
            lead = _LEAD_INSTRUCTION.match(sentence)
            if lead and lead.end() < len(sentence):
                remainder = sentence[lead.end() :].strip()
                verb = (lead.group("verb") or "").lower()
                if verb.startswith(("saying", "telling")) or (
                    verb.startswith("that") and verb.split()[-1] == "says"
                ):
                    parsed.statements.append(_end_sentence(_cap(remainder)))
                    continue
                phrase = _strip_end(remainder)
                if _topic_ok(phrase):
                    parsed.topic = _lowercase_common_start(phrase)
                else:
                    parsed.statements.append(_end_sentence(_cap(remainder)))
                continue
        point = _POINT_INSTRUCTION.match(sentence)
        if point:
            rest = _strip_end(point.group("rest"))
            if rest:
                if point.group("that"):
                    parsed.statements.append(_end_sentence(_cap(rest)))
                else:
                    parsed.statements.append(f"Plus: {_lowercase_common_start(rest)}.")
            continue
        if leading and not parsed.topic and sentence[-1] not in ".!?…" and _topic_ok(sentence):
            parsed.topic = _lowercase_common_start(_strip_end(sentence))
            continue
        parsed.statements.append(_end_sentence(_cap(sentence)))
    if not parsed.topic and not parsed.statements and text:
        # everything read as instructions: the prompt itself is still the best material
        parsed.statements.append(_end_sentence(_cap(text)))
    return parsed

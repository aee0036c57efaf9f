"""Reading the prompt: instructions set aside, a topic or statements kept, the user's own
hashtags collected, and the intent (announce, event, sale, tips) recognised."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from powerpost.generation.providers.offline.text import (
    _HASHTAG_RE,
    _cap,
    _end_sentence,
    _split_sentences,
    _squash,
    _strip_end,
    _words,
)
from powerpost.generation.providers.offline.vocabulary import _STOP_WORDS, _wordset

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
_VERB_HINTS = _wordset(
    """
    is are was were will would can could should shall has have had do does did am be been
    being 's 're 've 'll we i you they he she it there here
    """
)
_INTENT_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "announce",
        re.compile(
            r"\b(?:launch\w*|introduc\w*|announc\w*|unveil\w*|releas\w*|now available|"
            r"coming soon|opening|debut\w*)\b",
            re.I,
        ),
    ),
    (
        "event",
        re.compile(
            r"\b(?:event|webinar|workshop|meetup|conference|summit|join us|livestream)\b", re.I
        ),
    ),
    (
        "sale",
        re.compile(r"\b(?:sale|discount|% off|percent off|deal|deals|promo|coupon|offer)\b", re.I),
    ),
    (
        "tips",
        re.compile(r"\b(?:tips?|how to|guide|ways to|steps|lessons|mistakes|checklist)\b", re.I),
    ),
)


@dataclass
class _Prompt:
    topic: str | None = None
    statements: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


def _looks_like_statement(text: str) -> bool:
    """A clause rather than a noun phrase: it has a subject pronoun or an auxiliary verb."""
    if text.endswith(("!", "?")):
        return True
    for word in _words(text):
        low = word.lower().replace("’", "'")
        if low in _VERB_HINTS or low.endswith(("'re", "'ve", "'ll", "'m")):
            return True
        if low.endswith("'s") and low[:-2] in {"it", "that", "there", "here", "what", "who"}:
            return True
    return False


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
                if len(phrase.split()) <= 16 and not _looks_like_statement(phrase):
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
        if (
            leading
            and not parsed.topic
            and sentence[-1] not in ".!?…"
            and len(sentence.split()) <= 12
            and not _looks_like_statement(sentence)
        ):
            parsed.topic = _lowercase_common_start(_strip_end(sentence))
            continue
        parsed.statements.append(_end_sentence(_cap(sentence)))
    if not parsed.topic and not parsed.statements and text:
        # everything read as instructions: the prompt itself is still the best material
        parsed.statements.append(_end_sentence(_cap(text)))
    return parsed

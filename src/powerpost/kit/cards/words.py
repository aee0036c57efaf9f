"""Card copy: the headline and subtitle taken from a prompt or a caption (the request
around the subject and links dropped, glyph-less characters removed, bounded lengths)."""

from __future__ import annotations

import re
import unicodedata

from powerpost.kit.phrases import Token, kind_of, tag

_HEADLINE_MAX_WORDS = 7

_HEADLINE_MAX_CHARS = 90

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")

_NOISE = re.compile(r"https?://\S+|www\.\S+|[#@]\w+")

# "please create an image of", "a photo showing": the request around the subject
_REQUEST_LEAD = re.compile(
    r"^\s*(?:please\s+|can you\s+|could you\s+|i\s+(?:want|need|would like)\s+(?:you\s+to\s+)?)*"
    r"(?:(?:create|generate|make|draw|design|render|produce|paint|illustrate|show|give)\s+"
    r"(?:me\s+|us\s+)?)?",
    re.IGNORECASE,
)
_MEDIUM_LEAD = re.compile(
    r"^(?:(?:an?|the|some|one)\s+)?"
    r"(?:(?:beautiful|stunning|nice|cool|high[- ]quality|realistic|photorealistic|cinematic)\s+)*"
    r"(?:image|picture|photo|photograph|illustration|graphic|poster|banner|rendering|"
    r"drawing|painting|artwork|visual|shot|cover|thumbnail|card|video|clip|footage|animation)s?"
    r"\s+(?:of|showing|with|depicting|featuring|for|about|that\s+shows)\s+",
    re.IGNORECASE,
)
# style words that describe the picture's finish, not its subject
_FINISH = re.compile(
    r"\b(?:in\s+)?(?:4k|8k|hd|ultra[- ]realistic|photorealistic|high[- ]quality|highly detailed|"
    r"detailed|cinematic lighting)\b",
    re.IGNORECASE,
)
_CLAUSE_BREAK = re.compile(r"\s*(?:[,;:!?.](?=\s|$)|\s[-–—]\s)\s*")
_SHORT_CLAUSE = 6  # words: a clause this short stays whole ("Grand opening this Saturday")
_CONTENT_TAGS = frozenset({"NOUN", "PROPER", "ADJ", "NUM"})


def card_headline(prompt: str, max_words: int = _HEADLINE_MAX_WORDS + 2) -> tuple[str, str]:
    """A prompt's main noun phrase as a headline, and the rest as a secondary line.

    The phrase keeps its articles and prepositions: "a cozy bakery storefront at sunrise,
    fresh croissants in the window" gives ("A cozy bakery storefront at sunrise", "Fresh
    croissants in the window"). The phrase runs to its first preposition phrase (an "of"
    phrase does not count: "Time-lapse of dough rising in a rustic kitchen"); a clause or
    a prompt with no noun phrase up front is cut at its first break instead.
    """
    text = _REQUEST_LEAD.sub("", _FINISH.sub("", _clean_text(prompt)), count=1)
    text = _MEDIUM_LEAD.sub("", text, count=1).strip()
    if not text:
        return "", ""
    clause = _CLAUSE_BREAK.split(text, maxsplit=1)
    first, rest = clause[0].strip(), (clause[1].strip() if len(clause) > 1 else "")
    tokens = [t for t in tag(first) if t.tag not in ("PUNCT", "LINK")]
    whole = len(tokens) <= _SHORT_CLAUSE or (len(tokens) <= max_words and kind_of(first) != "topic")
    end = None if whole else _phrase_end(tokens, max_words)
    if end is None or end >= len(tokens):
        words = first.split()
        head = " ".join(words[:max_words])
        tail = " ".join(words[max_words:])
    else:
        cut = tokens[end - 1].end
        head, tail = first[:cut].strip(), first[cut:].strip()
    rest = " ".join(p for p in (tail, rest) if p).strip(" ,;:-")
    if not any(ch.isalnum() for ch in rest):
        rest = ""
    if not any(ch.isalnum() for ch in head):
        return "", ""
    return _capitalise(head.rstrip(" ,;:-")), _capitalise(rest) if rest else ""


def _phrase_end(tokens: list[Token], max_words: int) -> int | None:
    """How many tokens the leading noun phrase spans, or None when there is none."""
    index = 0
    while index < len(tokens) and tokens[index].tag in ("DET", "NUM"):
        index += 1
    start = index
    while index < len(tokens) and tokens[index].tag in _CONTENT_TAGS:
        index += 1
    if index == start:
        return None
    phrases = 0
    while index < len(tokens) and tokens[index].tag == "PREP" and index < max_words:
        after = index + 1
        while after < len(tokens) and tokens[after].tag in ("DET", "NUM"):
            after += 1
        body = after
        while body < len(tokens) and tokens[body].tag in _CONTENT_TAGS:
            body += 1
        if body == after or body > max_words:
            break
        is_of = tokens[index].low == "of"
        index = body
        if not is_of:
            phrases += 1
            if phrases >= 1:
                break
    return index


def sentences(text: str) -> list[str]:
    cleaned = _clean_text(text)
    return [s.strip() for s in _SENTENCE_END.split(cleaned) if s and s.strip()]


def first_sentence(text: str, limit: int = _HEADLINE_MAX_CHARS) -> str:
    parts = sentences(text)
    return _shorten(parts[0], limit) if parts else ""


def _clean_text(text: str) -> str:
    text = _NOISE.sub(" ", text)
    # emoji and pictographs have no glyph in DejaVu and would render as boxes
    kept = "".join(
        ch
        for ch in text
        if unicodedata.category(ch) not in ("So", "Cs", "Co", "Cn", "Cf", "Mn") or ch in "\n\t"
    )
    return re.sub(r"[ \t]+", " ", kept).strip()


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _shorten(text: str, limit: int) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:- \u2013\u2014")
    return cut + "…"

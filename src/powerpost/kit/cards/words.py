"""Card copy: the headline and subtitle taken from a prompt or a caption (filler and
links dropped, glyph-less characters removed, bounded lengths)."""

from __future__ import annotations

import re
import unicodedata

_HEADLINE_MAX_WORDS = 7

_HEADLINE_MAX_CHARS = 90

_FILLER_LEAD = re.compile(
    r"^\s*(?:please\s+|can you\s+|could you\s+|i\s+(?:want|need|would like)\s+(?:you\s+to\s+)?)*"
    r"(?:(?:create|generate|make|draw|design|render|produce|paint|illustrate|show|give)\s+"
    r"(?:me\s+|us\s+)?)?"
    r"(?:(?:an?|the|some|one)\s+)?"
    r"(?:(?:beautiful|stunning|nice|cool|high[- ]quality|realistic|photorealistic)\s+)*"
    r"(?:(?:image|picture|photo|photograph|illustration|graphic|poster|banner|rendering|"
    r"drawing|painting|artwork|visual|shot|cover|thumbnail|card)s?\s+"
    r"(?:of|showing|with|depicting|featuring|for|about|that\s+shows)\s+)?",
    re.IGNORECASE,
)

_STOPWORDS = frozenset(
    """\
    a an the and or but of for to in on at by with from into onto over under about as
    is are was were be been being it its this that these those there here some any very
    really just so such than then which who whom whose what where when while also our your
    my their his her we you they me us them i image picture photo photograph illustration
    style styled high quality detailed 4k 8k hd ultra realistic photorealistic render
    rendering please create generate make showing featuring depicting""".split()  # noqa: SIM905
)

_APOSTROPHES = "'\u2019"

_WORD = re.compile(rf"[^\W_][\w{_APOSTROPHES}&+.\-]*")

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")

_NOISE = re.compile(r"https?://\S+|www\.\S+|[#@]\w+")


def key_phrase(prompt: str, max_words: int = _HEADLINE_MAX_WORDS) -> tuple[str, str]:
    """Split a prompt into (headline, rest): its significant words, filler dropped."""
    text = _clean_text(prompt)
    text = _FILLER_LEAD.sub("", text, count=1)
    words = [w.strip(f".-{_APOSTROPHES}") for w in _WORD.findall(text)]
    significant = [w for w in words if w and w.lower() not in _STOPWORDS]
    head = [_capitalise(w) for w in significant[:max_words]]
    rest = significant[max_words:]
    return " ".join(head), " ".join(rest)


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


def _capitalise(word: str) -> str:
    return word[:1].upper() + word[1:] if word.islower() else word


def _shorten(text: str, limit: int) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:- \u2013\u2014")
    return cut + "…"

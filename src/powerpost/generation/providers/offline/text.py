"""Small text helpers: tokens, sentences, emoji, trimming, and the SHA-256 "choice"
every deterministic pick goes through."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import TypeVar

from powerpost.generation.providers.offline.vocabulary import (
    _ABBREVIATIONS,
    _EMOJI_RANGES,
    _STOP_WORDS,
)

_T = TypeVar("_T")


_TOKEN_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_CHUNK_SPLIT_RE = re.compile(r"[.,;:!?()\[\]{}\"“”…|/\n]+|\s[-–—]+\s")
_BOUNDARY_RE = re.compile(r"([.!?…]+[\"'”’)\]]*)\s+(?=[\"'“‘(\[]?[A-Z0-9À-Ý])")
_HASHTAG_RE = re.compile(r"(?<![\w#&])#([^\W_][\w]*)")
_CLAUSE_BREAK_RE = re.compile(
    r",\s+(?=(?:which|who|while|and|but|although|as|with|including|because|since|where|"
    r"so|after|before|making|helping|allowing)\b)|;\s+|\s+[—–]\s+|:\s+"
)
_CITATION_RE = re.compile(r"\[(?:\d+|citation needed|[a-z])\]", re.IGNORECASE)


def _is_emoji(ch: str) -> bool:
    cp = ord(ch)
    return any(low <= cp <= high for low, high in _EMOJI_RANGES)


def _strip_emoji(text: str) -> str:
    cleaned = "".join(ch for ch in text if not _is_emoji(ch))
    lines = [re.sub(r"[ \t]{2,}", " ", line).strip() for line in cleaned.split("\n")]
    lines = [re.sub(r"\s+([.,!?;:])(?=\s|$)", r"\1", line) for line in lines]
    return "\n".join(lines)


def _has_words(text: str) -> bool:
    """Whether there is a letter or digit to write about once emoji are set aside."""
    return any(ch.isalnum() and not _is_emoji(ch) for ch in text)


# code points that only make sense attached to the emoji before them
_EMOJI_ATTACHED = frozenset(
    "\u200d\ufe0e\ufe0f\u20e3"
    + "".join(chr(cp) for cp in range(0x1F3FB, 0x1F400))  # skin tones
    + "".join(chr(cp) for cp in range(0xE0020, 0xE0080))  # tags of a subdivision flag
)
_SYMBOLS_MAX = 8  # code points of a wordless prompt's emoji kept as decoration


def _emoji_run(text: str) -> str:
    """The emoji of `text` in order (other characters skipped), at most _SYMBOLS_MAX code
    points, never cut inside a sequence (a skin tone, a joined family, a flag)."""
    kept = [ch for ch in text if _is_emoji(ch)]
    start = 0
    while start < len(kept) and kept[start] in _EMOJI_ATTACHED:
        start += 1
    kept = kept[start:]
    if len(kept) > _SYMBOLS_MAX:
        end = _SYMBOLS_MAX
        while end > 0 and (
            kept[end] in _EMOJI_ATTACHED or kept[end - 1] == "\u200d" or _splits_flag(kept, end)
        ):
            end -= 1
        kept = kept[:end]
    return "".join(kept)


def _splits_flag(chars: Sequence[str], end: int) -> bool:
    """Whether cutting before chars[end] leaves half a flag (an odd run of regional
    indicator letters)."""
    if end >= len(chars) or not _is_regional_indicator(chars[end]):
        return False
    run = 0
    while end - run > 0 and _is_regional_indicator(chars[end - run - 1]):
        run += 1
    return run % 2 == 1


def _is_regional_indicator(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _squash(text: str) -> str:
    return " ".join(text.split())


def _cap(text: str) -> str:
    for i, ch in enumerate(text):
        if ch.isalpha():
            return text[:i] + ch.upper() + text[i + 1 :]
        if ch.isdigit():
            return text
    return text


def _end_sentence(text: str) -> str:
    text = text.rstrip(" ,;:-–—")
    if not text:
        return text
    if re.search(r"(?:https?://|www\.)\S+$", text):
        return text  # a full stop glued to a link would break it on most networks
    if text[-1] in ".!?…" or (text[-1] in "\"')”’" and len(text) > 1 and text[-2] in ".!?"):
        return text
    return text + "."


def _strip_end(text: str) -> str:
    return text.rstrip(" .!?,;:…")


def _words(text: str) -> list[str]:
    return _TOKEN_RE.findall(text)


def _norm_key(word: str) -> str:
    key = word.lower().replace("’", "'")
    if key.endswith("'s"):
        key = key[:-2]
    return key


def _is_content(word: str) -> bool:
    key = _norm_key(word)
    if key in _STOP_WORDS or "'" in key or not any(ch.isalpha() for ch in key):
        return False
    if sum(ch.isdigit() for ch in key) * 2 > len(key):
        return False
    return len(key) >= 3 or (word.isupper() and len(word) >= 2)


def _content_keys(text: str) -> list[str]:
    return [_norm_key(w) for w in _words(text) if _is_content(w)]


def _stem(key: str) -> str:
    # enough folding for matching "beans" to "bean"; real stemming would need a library
    if len(key) > 4 and key.endswith("s") and not key.endswith(("ss", "us", "is")):
        return key[:-1]
    return key


def _stems(text: str) -> list[str]:
    return [_stem(k) for k in _content_keys(text)]


def _split_sentences(text: str) -> list[str]:
    # a line break before a lowercase word is wrapping, not a new sentence or heading
    text = re.sub(r"[ \t]*\n[ \t]*(?=[a-z])", " ", text)
    out: list[str] = []
    for line in text.split("\n"):
        line = _squash(line)
        if not line:
            continue
        start = 0
        for match in _BOUNDARY_RE.finditer(line):
            if match.group(1).startswith("."):
                before = line[start : match.start(1)].rsplit(" ", 1)[-1].lower()
                if before in _ABBREVIATIONS or (len(before) == 1 and before.isalpha()):
                    continue
            piece = line[start : match.end(1)].strip()
            if piece:
                out.append(piece)
            start = match.end()
        tail = line[start:].strip()
        if tail:
            out.append(tail)
    return out


def _trim_text(text: str, max_chars: int) -> str:
    """Shorten on a sentence boundary if one is close, else on a word boundary with '…'."""
    if len(text) <= max_chars:
        return text
    if max_chars < 12:
        return ""
    head = text[:max_chars]
    cut = max(head.rfind(". "), head.rfind("! "), head.rfind("? "))
    if cut >= max_chars // 2:
        return head[: cut + 1]
    head = text[: max_chars - 1]
    space = head.rfind(" ")
    if space <= 0:
        return ""
    return head[:space].rstrip(" ,;:-–—") + "…"


def _shorten_sentence(sentence: str, max_words: int) -> str | None:
    """Cut a long sentence at a clause boundary; None when no clean cut exists."""
    words = sentence.split()
    if len(words) <= max_words:
        return sentence
    floor = max(5, max_words // 3)
    best: int | None = None
    for match in _CLAUSE_BREAK_RE.finditer(sentence):
        count = len(sentence[: match.start()].split())
        if floor <= count <= max_words:
            best = match.start()
    if best is None:
        # a little over the target reads fine; far over with no clean cut is dropped
        return sentence if len(words) <= max_words * 1.25 else None
    return _end_sentence(sentence[:best])


def _join_list(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _words_to_title(text: str) -> str:
    small = {"a", "an", "and", "as", "at", "but", "by", "for", "in", "of", "on", "or", "the", "to"}
    out: list[str] = []
    for i, word in enumerate(text.split()):
        if word.isupper() or any(ch.isupper() for ch in word[1:]) or "://" in word:
            out.append(word)
        elif i > 0 and word.lower() in small:
            out.append(word.lower())
        else:
            out.append("-".join(_cap(part) for part in word.split("-")))
    return " ".join(out)


def _stable_int(*parts: str) -> int:
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def _pick(options: Sequence[_T], *parts: str) -> _T:
    return options[_stable_int(*parts) % len(options)]


def _normalized(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


def _contains_phrase(text: str, phrase: str) -> bool:
    needle = _normalized(phrase)
    return bool(needle) and f" {needle} " in f" {_normalized(text)} "

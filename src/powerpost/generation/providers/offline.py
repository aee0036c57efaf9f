"""A caption writer that needs no network and no model: extractive, rule-based, deterministic.

It reads the material it is given (the prompt, fetched sources, facts about the media),
picks the most informative source sentences with a small explainable score, draws hashtags
from the content (from what the media shows when media is all there is), and lays the
result out per platform convention. A prompt without a letter or digit ("!!! ???", a run of
emoji) gives no words to build on: the captions fall back to generic lines and a generic
YouTube title, and its emoji only decorate. Same input, same output: every "choice" is a
SHA-256 of the input, never `hash()` (salted per process) or `random`.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import TypeVar

from powerpost.generation.fitting import without_angle_brackets
from powerpost.generation.providers.base import (
    CaptionOutputs,
    CaptionRequest,
    EmojiUse,
    MediaInput,
    ProviderError,
    SourceDoc,
    WritingStyle,
)
from powerpost.kit.platforms import PLATFORMS, caption_length, caption_limit

_T = TypeVar("_T")

# ---------------------------------------------------------------------------------------
# Vocabulary


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


_STOP_WORDS = _wordset(
    """
    a about above across after afterwards again against all almost alone along already also
    although always am among amongst an and another any anyhow anyone anything anyway anywhere
    are around as at back be became because become becomes been before being below beside
    besides between beyond both but by can cannot could did do does doing done down due during
    each either else elsewhere enough etc even ever every everyone everything everywhere except
    few for former from further get gets getting give given go goes going gone got had has
    have having he her here hers herself him himself his how however i if in indeed into is it
    its itself just keep last least less let lets like made make makes making many may me
    meanwhile might mine more moreover most mostly much must my myself near nearly neither
    never nevertheless next no nobody none nor not nothing now nowhere of off often on once one
    only onto or other others otherwise our ours ourselves out over own per perhaps please put
    quite rather really said same say says see seem seemed seems several she should since so
    some somehow someone something sometime sometimes somewhere still such than that the their
    theirs them themselves then there thereby therefore these they this those though through
    throughout thus to together too toward towards under until up upon us use used uses using
    very via was we well were what whatever when whenever where wherever whether which while
    who whoever whole whom whose why will with within without would yet you your yours
    yourself yourselves it's we're you're they're i'm don't doesn't didn't can't won't isn't
    aren't wasn't weren't that's there's here's what's let's we've you've we'll you'll
    new news today tomorrow yesterday day days week weeks month months year years time times
    way ways thing things lot lots people person everyone someone anyone really actually
    want wants need needs know knows think thinks find found look looks looking take takes
    come comes came put puts tell tells told read click visit link bio post posts caption
    announcing introducing promoting celebrating sharing showcasing explaining launching
    captions write create generate draft compose mention highlight include emphasize
    emphasise instagram tiktok twitter tweet facebook linkedin youtube social media reel reels
    story stories short shorts hashtag hashtags emoji emojis video videos photo photos image
    images picture pictures clip clips content copy announcement update tone style voice
    fun funny short long brief quick playful professional friendly bold informative casual
    good great best better big small large high low first second third also via around
    according percent including include includes included based several various different
    """
)

# A file name's words that say nothing about its subject.
_FILE_NOISE = _wordset(
    """
    img image images photo photos pic pics picture dsc dscn dcim pxl vid video mov mp4 jpg
    jpeg png webp webm heic final finale edit edited copy export exported draft new old
    untitled screenshot screen shot scaled resized hd uhd raw web lowres highres thumb
    thumbnail crop cropped fin rev ver version small large medium original orig file
    clip clips movie footage reel reels story stories
    """
)

_LEADING_CONNECTORS = re.compile(
    r"^(?:however|moreover|additionally|in addition|furthermore|meanwhile|also|but|and|so|"
    r"therefore|thus|still|then|as a result|in fact|indeed|of course|that said)\s*,?\s+",
    re.IGNORECASE,
)
_JUNK_MARKERS = (
    "cookie",
    "javascript",
    "all rights reserved",
    "privacy policy",
    "terms of service",
    "terms of use",
    "sign up",
    "sign in",
    "log in",
    "subscribe",
    "newsletter",
    "click here",
    "read more",
    "advertisement",
    "skip to",
    "accept all",
    "©",
    "http",
    "www.",
)
_PRONOUN_START = _wordset("it this that these those they he she his her its their them such")
_ABBREVIATIONS = _wordset(
    """
    mr mrs ms dr prof sr jr st vs etc e.g i.e inc ltd co corp no fig approx dept est
    u.s u.k jan feb mar apr jun jul aug sep sept oct nov dec mt ft
    """
)

_NAMED_COLOURS: tuple[tuple[str, tuple[int, int, int]], ...] = (
    ("black", (0, 0, 0)),
    ("charcoal", (54, 69, 79)),
    ("grey", (128, 128, 128)),
    ("silver", (192, 192, 192)),
    ("white", (255, 255, 255)),
    ("cream", (255, 250, 215)),
    ("beige", (225, 205, 170)),
    ("tan", (210, 180, 140)),
    ("brown", (125, 75, 35)),
    ("maroon", (128, 0, 0)),
    ("red", (215, 30, 40)),
    ("coral", (255, 127, 80)),
    ("orange", (255, 140, 0)),
    ("gold", (230, 180, 30)),
    ("yellow", (255, 230, 50)),
    ("olive", (128, 128, 0)),
    ("lime", (170, 220, 50)),
    ("green", (40, 140, 50)),
    ("mint", (160, 235, 190)),
    ("teal", (0, 128, 128)),
    ("turquoise", (64, 224, 208)),
    ("sky blue", (135, 206, 235)),
    ("blue", (30, 90, 220)),
    ("navy", (10, 25, 110)),
    ("indigo", (75, 0, 130)),
    ("purple", (128, 40, 150)),
    ("lavender", (200, 170, 240)),
    ("magenta", (230, 0, 200)),
    ("pink", (250, 160, 190)),
    ("peach", (255, 215, 180)),
)

# Emoji code points: what "emoji none" strips and what a decoration may add.
_EMOJI_RANGES: tuple[tuple[int, int], ...] = (
    (0x1F000, 0x1FAFF),
    (0x2300, 0x23FF),
    (0x2600, 0x27BF),
    (0x2B00, 0x2BFF),
    (0x2190, 0x21FF),
    (0x25A0, 0x25FF),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3299),
    (0xFE00, 0xFE0F),
    (0x200D, 0x200D),
    (0x20E3, 0x20E3),
    (0xE0020, 0xE007F),
    (0x00A9, 0x00A9),
    (0x00AE, 0x00AE),
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x2122, 0x2122),
    (0x2139, 0x2139),
    (0x24C2, 0x24C2),
)

# topic words that earn a themed emoji before the tone's generic ones
_THEME_EMOJI: dict[str, str] = {
    word: symbol
    for symbol, words in (
        ("☕", "coffee espresso"),
        ("🍵", "tea"),
        ("🚀", "launch launching startup"),
        ("☀️", "summer sun"),
        ("🏖️", "beach"),
        ("❄️", "winter snow"),
        ("🌸", "spring flower flowers"),
        ("🍂", "autumn fall"),
        ("✈️", "travel trip flight"),
        ("🍽️", "food"),
        ("🍳", "recipe"),
        ("🍕", "pizza"),
        ("🍰", "cake"),
        ("🎵", "music"),
        ("🎶", "concert"),
        ("💪", "fitness workout gym"),
        ("🏃", "running"),
        ("🏷️", "sale discount deal"),
        ("📚", "book books reading learning"),
        ("📊", "data"),
        ("📈", "growth"),
        ("🤖", "ai robot"),
        ("💻", "tech software code"),
        ("🌿", "nature"),
        ("🌱", "plant plants garden"),
        ("🌍", "sustainability climate"),
        ("🌊", "ocean"),
        ("🐶", "dog"),
        ("🐱", "cat"),
        ("🐾", "pet"),
        ("🎉", "party anniversary"),
        ("🎂", "birthday"),
        ("📅", "event webinar"),
        ("🍷", "wine"),
        ("🍺", "beer"),
        ("📸", "camera photography"),
        ("🎨", "art design"),
        ("💰", "money finance"),
        ("🩺", "health"),
        ("🤝", "team partnership"),
        ("🏡", "home"),
        ("🚗", "car"),
        ("🎮", "game gaming"),
    )
    for word in words.split()
}


@dataclass(frozen=True)
class _Tone:
    hooks: dict[str, tuple[str, ...]]  # intent -> templates; {t} topic, {T} capitalised
    emoji: tuple[str, ...]
    questions: tuple[str, ...]  # {k}: the focus phrase
    open_question: str  # when the material has no clear focus
    points_label: str
    title_suffixes: tuple[str, ...]
    cta: dict[str, str]  # platform -> default call to action


_BASE_CTA: dict[str, str] = {
    "instagram": "Save this post for later and share it with someone who'd love it.",
    "tiktok": "Follow for more.",
    "youtube": "Subscribe for more videos like this, and tell us what you think in the comments.",
    "facebook": "Share this with someone who'd enjoy it.",
    "linkedin": "Follow for more insights like this.",
}

_TONES: dict[str, _Tone] = {
    "neutral": _Tone(
        hooks={
            "general": ("A closer look at {t}.", "Let's talk about {t}.", "All about {t}."),
            "announce": ("Introducing {t}.", "It's here: {t}."),
            "sale": ("Don't miss this: {t}.", "On offer now: {t}."),
            "event": ("Save the date: {t}.", "Coming up: {t}."),
            "tips": ("What to know about {t}.", "A few notes on {t}."),
        },
        emoji=("✨", "📌", "👀"),
        questions=(
            "What do you think about {k}? Let us know in the comments.",
            "Where do you stand on {k}? Tell us below.",
        ),
        open_question="What do you think? Let us know in the comments.",
        points_label="Key facts",
        title_suffixes=("", ": A Closer Look"),
        cta={},
    ),
    "professional": _Tone(
        hooks={
            "general": (
                "A closer look at {t}, and why it matters.",
                "Why {t} deserves your attention.",
                "What {t} means for your work.",
            ),
            "announce": ("We're pleased to announce {t}.", "Announcing {t}."),
            "sale": ("A limited-time offer: {t}.",),
            "event": ("Join us for {t}.", "You're invited: {t}."),
            "tips": ("Practical insights on {t}.", "Lessons on {t} worth sharing."),
        },
        emoji=("📈", "💡", "✅"),
        questions=(
            "How is your team approaching {k}? I'd value your perspective in the comments.",
            "What has your experience been with {k}? Share your perspective below.",
        ),
        open_question="What's your perspective? I'd value your thoughts in the comments.",
        points_label="Key takeaways",
        title_suffixes=(": Key Insights", ": What It Means for You"),
        cta={"instagram": "Save this post for reference and share it with your team."},
    ),
    "playful": _Tone(
        hooks={
            "general": (
                "Okay, let's talk about {t}!",
                "Plot twist: today is all about {t}!",
                "Guess what's on our minds? {T}!",
            ),
            "announce": ("Drumroll, please... say hello to {t}!", "Surprise! {T} is here!"),
            "sale": ("Treat yourself: {t}!", "Good news for your wallet: {t}!"),
            "event": ("Clear your calendar: {t}!", "Psst, you're invited: {t}!"),
            "tips": ("Your cheat sheet for {t}!", "Little secrets about {t}, coming right up!"),
        },
        emoji=("🎉", "😄", "🙌", "🤩"),
        questions=(
            "Be honest: where do you stand on {k}? Drop it in the comments!",
            "Team {k} or not? Tell us in the comments!",
        ),
        open_question="Thoughts? Drop them in the comments!",
        points_label="The good stuff",
        title_suffixes=(" (You'll Love This)", ": The Fun Version"),
        cta={
            "instagram": "Tag a friend who needs to see this!",
            "tiktok": "Follow for more, you know you want to.",
            "facebook": "Tag a friend who needs to see this!",
        },
    ),
    "bold": _Tone(
        hooks={
            "general": ("All eyes on {t}.", "Here's the truth about {t}.", "{T}. Let's go."),
            "announce": ("It's finally here: {t}.", "Big news: {t}."),
            "sale": ("Don't miss out: {t}.", "Now or never: {t}."),
            "event": ("Be there: {t}.", "Lock it in: {t}."),
            "tips": ("Stop guessing about {t}.", "The no-nonsense guide to {t}."),
        },
        emoji=("🔥", "🚀", "⚡"),
        questions=(
            "Agree or disagree? Tell us what you think about {k} below.",
            "What's your honest take on {k}? Say it in the comments.",
        ),
        open_question="Agree or disagree? Tell us below.",
        points_label="What matters",
        title_suffixes=(": The Real Story", ": No Fluff"),
        cta={
            "instagram": "Don't scroll past: save this and share it.",
            "tiktok": "Follow now so you don't miss what's next.",
            "facebook": "Share this now with someone who needs it.",
        },
    ),
    "friendly": _Tone(
        hooks={
            "general": (
                "We can't wait to tell you about {t}!",
                "Something we love right now: {t}.",
                "Let's chat about {t}.",
            ),
            "announce": ("We're so excited to share {t} with you!", "Say hello to {t}!"),
            "sale": ("A little treat for you: {t}!",),
            "event": ("We'd love to see you at {t}!", "Come join us: {t}!"),
            "tips": ("A few tips on {t} we think you'll love.",),
        },
        emoji=("😊", "💛", "🙌"),
        questions=(
            "What's your take on {k}? Tell us in the comments!",
            "Have you got a favourite thing about {k}? We'd love to hear it below.",
        ),
        open_question="What do you think? Tell us in the comments!",
        points_label="A few things we love",
        title_suffixes=("", ": Everything You'll Want to Know"),
        cta={"tiktok": "Follow along for more!"},
    ),
    "informative": _Tone(
        hooks={
            "general": (
                "What you need to know about {t}.",
                "{T}, explained.",
                "Everything worth knowing about {t}.",
            ),
            "announce": ("Now available: {t}.", "New: {t}. Here's what to know."),
            "sale": ("Deal alert: {t}.",),
            "event": ("Mark your calendar: {t}.",),
            "tips": ("A quick guide to {t}.", "{T}: the essentials."),
        },
        emoji=("💡", "📌", "🧠"),
        questions=(
            "What questions do you have about {k}? Ask away in the comments.",
            "What would you add about {k}? Share it below.",
        ),
        open_question="Questions? Ask away in the comments.",
        points_label="Key facts",
        title_suffixes=(": What You Need to Know", ": Explained"),
        cta={"instagram": "Save this for later so you have it handy."},
    ),
}

_TONE_SYNONYMS: dict[str, str] = {
    word: tone
    for tone, words in (
        ("neutral", "neutral balanced"),
        ("professional", "professional formal corporate authoritative expert business"),
        ("playful", "playful fun funny witty humorous cheeky quirky"),
        ("bold", "bold confident energetic provocative edgy urgent"),
        ("friendly", "friendly warm casual conversational approachable upbeat"),
        ("informative", "informative educational explanatory informational helpful"),
    )
    for word in words.split()
}

_PLATFORM_TONE = {
    "instagram": "friendly",
    "tiktok": "playful",
    "x": "neutral",
    "youtube": "informative",
    "facebook": "friendly",
    "linkedin": "professional",
}
_PLATFORM_EMOJI: dict[str, EmojiUse] = {
    "instagram": "light",
    "tiktok": "light",
    "x": "light",
    "youtube": "none",
    "facebook": "light",
    "linkedin": "none",
}
# (default, most allowed) hashtag counts: Instagram's API cap is 30, LinkedIn reads best
# with 3 to 5, YouTube shows the first three above the title and tags past 15 look spammy.
_PLATFORM_TAGS: dict[str, tuple[int, int]] = {
    "instagram": (8, 30),
    "tiktok": (4, 10),
    "x": (2, 5),
    "youtube": (5, 15),
    "facebook": (2, 10),
    "linkedin": (3, 5),
}
# how many source facts each layout uses: (regular, deep)
_BODY_FACTS: dict[str, tuple[int, int]] = {
    "instagram": (2, 5),
    "tiktok": (1, 2),
    "x": (1, 2),
    "youtube": (1, 2),
    "facebook": (2, 1),
    "linkedin": (2, 1),
}
_POINT_FACTS: dict[str, tuple[int, int]] = {
    "youtube": (3, 6),
    "facebook": (0, 4),
    "linkedin": (0, 5),
}

# ---------------------------------------------------------------------------------------
# Text helpers

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
        if word.isupper() or any(ch.isupper() for ch in word[1:]):
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


# ---------------------------------------------------------------------------------------
# Material


@dataclass(frozen=True)
class _Keyword:
    key: str  # lowercase words joined by a space
    display: str  # surface form for prose
    tag: str  # "#Form"
    score: float
    spread: int = 1  # in how many pieces of material (prompt, titles, facts) it occurs


_NUMBER_WORDS = {
    2: "two",
    3: "three",
    4: "four",
    5: "five",
    6: "six",
    7: "seven",
    8: "eight",
    9: "nine",
    10: "ten",
}


@dataclass(frozen=True)
class _MediaFacts:
    kind: str
    count: int
    orientation: str | None
    colours: tuple[str, ...]
    seconds: float | None
    file_words: tuple[str, ...]

    @property
    def duration_words(self) -> str | None:
        if self.seconds is None or self.seconds <= 0:
            return None
        if self.seconds < 90:
            n = max(1, round(self.seconds))
            return f"{n} second{'s' if n != 1 else ''}"
        minutes = round(self.seconds / 60)
        return f"{minutes} minutes"

    @property
    def duration_adjective(self) -> str | None:
        words = self.duration_words
        if words is None:
            return None
        number, unit = words.split(" ")
        return f"{number}-{unit.rstrip('s')}"

    def noun_phrase(self) -> str:
        """'a 42-second vertical video', '3 portrait photos', 'a photo'."""
        noun = "video" if self.kind == "video" else "photo"
        adjectives = [a for a in (self.duration_adjective, self.orientation) if a]
        if self.count > 1:
            count = _NUMBER_WORDS.get(self.count, str(self.count))
            return " ".join([count, *adjectives, noun + "s"])
        first = adjectives[0] if adjectives else noun
        article = "an" if _starts_with_vowel_sound(first) else "a"
        return " ".join([article, *adjectives, noun])


def _starts_with_vowel_sound(word: str) -> bool:
    digits = re.match(r"\d+", word)
    if digits:
        number = digits.group(0)
        return number.startswith("8") or number in {"11", "18"}
    return word[:1].lower() in {"a", "e", "i", "o", "u"}


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


def _parse_colour(value: str) -> tuple[int, int, int] | None:
    match = re.fullmatch(r"#?([0-9a-fA-F]{6})", value.strip())
    if not match:
        return None
    raw = match.group(1)
    return int(raw[0:2], 16), int(raw[2:4], 16), int(raw[4:6], 16)


def _colour_name(rgb: tuple[int, int, int]) -> str:
    # "redmean" weighting: a cheap perceptual correction to plain RGB distance
    def distance(other: tuple[int, int, int]) -> float:
        rmean = (rgb[0] + other[0]) / 2
        dr, dg, db = rgb[0] - other[0], rgb[1] - other[1], rgb[2] - other[2]
        return (2 + rmean / 256) * dr * dr + 4 * dg * dg + (2 + (255 - rmean) / 256) * db * db

    return min(_NAMED_COLOURS, key=lambda item: distance(item[1]))[0]


def _orientation(width: int, height: int, kind: str) -> str | None:
    if width <= 0 or height <= 0:
        return None
    ratio = width / height
    if ratio > 1.1:
        return "widescreen" if kind == "video" else "landscape"
    if ratio < 0.9:
        return "vertical" if kind == "video" else "portrait"
    return "square"


def _file_words(file_name: str) -> list[str]:
    stem = PurePath(file_name).stem
    stem = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", stem)
    words: list[str] = []
    for token in re.split(r"[\W_]+", stem):
        low = token.lower()
        if not low or low in _FILE_NOISE or re.fullmatch(r"v\d+|\d+[a-z]?|[a-z]\d+", low):
            continue
        if sum(ch.isdigit() for ch in low) * 2 >= len(low):
            continue
        if len(low) >= 6 and re.fullmatch(r"[0-9a-f]+", low):
            continue
        words.append(low)
    return words


def _media_facts(media: Sequence[MediaInput]) -> _MediaFacts | None:
    if not media:
        return None
    videos = [m for m in media if m.kind == "video"]
    chosen = videos if videos else list(media)
    kind = "video" if videos else "image"
    orientations = {_orientation(m.width, m.height, kind) for m in chosen}
    orientation = orientations.pop() if len(orientations) == 1 else None
    colours: list[str] = []
    for item in chosen:
        for value in item.dominant_colors[:3]:
            rgb = _parse_colour(value)
            if rgb is not None:
                name = _colour_name(rgb)
                if name not in colours:
                    colours.append(name)
    words: list[str] = []
    for item in media:
        for word in _file_words(item.file_name):
            if word not in words:
                words.append(word)
    seconds = chosen[0].duration_seconds if kind == "video" else None
    return _MediaFacts(
        kind=kind,
        count=len(chosen),
        orientation=orientation,
        colours=tuple(colours[:3]),
        seconds=seconds,
        file_words=tuple(words[:6]),
    )


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


def _extract_keywords(segments: Sequence[tuple[str, float]]) -> list[_Keyword]:
    """Significant words and phrases of two or three words, weighted by where they appear.

    A phrase must recur, or stand alone as a whole run of content words in a weighty
    segment (prompt, title, file name): "cold brew" in "our cold brew is back"; a two-word
    phrase that mostly occurs inside an accepted three-word one ("brew coffee" in
    "cold brew coffee") is a fragment and is dropped in its favour.
    """
    scores: dict[str, float] = {}
    order: dict[str, int] = {}
    surfaces: dict[str, dict[str, int]] = {}
    strong: dict[str, bool] = {}
    counts: dict[str, int] = {}
    seen_in: dict[str, set[int]] = {}

    def add(words: Sequence[str], weight: float, segment: int, whole: bool = False) -> None:
        key = " ".join(_norm_key(w) for w in words)
        surface = " ".join(words)
        scores[key] = scores.get(key, 0.0) + weight
        order.setdefault(key, len(order))
        forms = surfaces.setdefault(key, {})
        forms[surface] = forms.get(surface, 0) + 1
        strong[key] = strong.get(key, False) or (whole and weight >= 2)
        counts[key] = counts.get(key, 0) + 1
        seen_in.setdefault(key, set()).add(segment)

    def flush(run: list[str], weight: float, segment: int) -> None:
        for size in (2, 3):
            for start in range(len(run) - size + 1):
                add(run[start : start + size], weight, segment, whole=size == len(run))

    for segment, (text, weight) in enumerate(segments):
        for sentence in _split_sentences(text) or [text]:
            sentence_start = True
            for chunk in _CHUNK_SPLIT_RE.split(sentence):
                run: list[str] = []
                for word in _words(chunk):
                    surface = word.replace("’", "'")
                    if surface.lower().endswith("'s"):
                        surface = surface[:-2]
                    if _is_content(word):
                        # a capital at the start of a sentence says nothing about the word
                        keep_case = not sentence_start or surface.isupper()
                        shown = surface if keep_case else surface.lower()
                        run.append(shown)
                        add([shown], weight, segment)
                    else:
                        flush(run, weight, segment)
                        run = []
                    sentence_start = False
                flush(run, weight, segment)

    # fold a plural into its singular when both occur
    for key in sorted(scores):
        singular = key[:-1] if key.endswith("s") and not key.endswith("ss") else None
        if singular and singular in scores:
            scores[singular] += scores.pop(key)
            strong[singular] = strong[singular] or strong[key]
            counts[singular] += counts.pop(key)
            seen_in[singular] |= seen_in[key]

    def accepted(key: str) -> bool:
        return " " not in key or strong[key] or counts[key] >= 2

    trigrams = [k for k in scores if k.count(" ") == 2 and accepted(k)]
    keywords: list[_Keyword] = []
    for key, score in scores.items():
        size = key.count(" ") + 1
        if not accepted(key):
            continue
        if size == 2 and any(
            f" {key} " in f" {t} " and scores[t] >= 0.75 * score for t in trigrams
        ):
            continue
        forms = surfaces[key]
        display = max(forms, key=lambda f: (forms[f], -list(forms).index(f)))
        tag = _hashtag(display)
        if tag is None:
            continue
        weight = (1.0, 1.6, 1.8)[size - 1]
        if size == 1 and key.endswith(("ed", "ly")):
            weight = 0.5  # most likely a verb or an adverb: a weak tag
        keywords.append(_Keyword(key, display, tag, score * weight, len(seen_in[key])))
    keywords.sort(key=lambda k: (-k.score, order[k.key]))
    return keywords


def _hashtag(display: str) -> str | None:
    parts = [re.sub(r"[^\w]", "", p) for p in re.split(r"[\s\-]+", display)]
    parts = [p for p in parts if p]
    if not parts:
        return None
    if len(parts) == 1:
        word = parts[0]
        body = word if word.isupper() or word[:1].isupper() else word.lower()
    else:
        body = "".join(p if p.isupper() else p[:1].upper() + p[1:] for p in parts)
    if body.isdigit() or len(body) > 30 or "_" in body:
        return None
    return "#" + body


def _tags_of(keywords: Sequence[_Keyword]) -> set[str]:
    return {k.tag.lower() for k in keywords}


_ORIENTATION_TAGS: dict[str, tuple[str, str]] = {
    # (key, tag); "#Portrait" and "#Landscape" alone would claim a genre, not a shape
    "portrait": ("portrait format", "#PortraitFormat"),
    "landscape": ("landscape format", "#LandscapeFormat"),
    "vertical": ("vertical video", "#VerticalVideo"),
    "widescreen": ("widescreen", "#Widescreen"),
}
_SHORT_VIDEO_SECONDS = 60.0
_LONG_VIDEO_SECONDS = 600.0


def _media_keywords(mf: _MediaFacts) -> list[_Keyword]:
    """Hashtags for what the media itself shows, most telling first: its kind, its length
    class, its shape, its colours. They follow every keyword from words, so a caps-limited
    platform keeps the kind and the first detail."""
    found: list[tuple[str, str]] = []
    if mf.kind == "video":
        found.append(("video", "#Video"))
        if mf.seconds is not None and 0 < mf.seconds <= _SHORT_VIDEO_SECONDS:
            found.append(("short video", "#ShortVideo"))
        elif mf.seconds is not None and mf.seconds >= _LONG_VIDEO_SECONDS:
            found.append(("long form", "#LongForm"))
    else:
        found.append(("photography", "#Photography"))
        if mf.count > 1:
            found.append(("photo series", "#PhotoSeries"))
    if mf.orientation == "square":
        found.append(("square format", "#SquareFormat"))
    elif mf.orientation in _ORIENTATION_TAGS:
        found.append(_ORIENTATION_TAGS[mf.orientation])
    for colour in mf.colours:
        tag = _hashtag(colour.title())
        if tag is not None:
            found.append((colour, tag))
    return [_Keyword(key, key, tag, 0.0) for key, tag in found]


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
    segments: list[tuple[str, float]] = [(prompt, 3.0)]
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
    )


# ---------------------------------------------------------------------------------------
# Layout


@dataclass
class _Draft:
    hook: str
    body: list[str]
    points: list[str] = field(default_factory=list)
    media: str | None = None
    question: str | None = None
    cta: str | None = None
    signoff: str | None = None
    tags: list[str] = field(default_factory=list)
    keep_first_body: bool = False  # body[0] is the user's own words: trim it, never drop it


@dataclass(frozen=True)
class _Voice:
    platform: str
    material: _Material
    tone: _Tone
    emoji: EmojiUse
    tag_count: int

    def pick(self, options: Sequence[_T], slot: str) -> _T:
        return _pick(options, self.material.seed, self.platform, slot)

    def emoji_options(self) -> list[str]:
        themed: list[str] = [self.material.symbols] if self.material.symbols else []
        for keyword in self.material.keywords[:10]:
            for word in keyword.key.split():
                symbol = _THEME_EMOJI.get(word)
                if symbol and symbol not in themed:
                    themed.append(symbol)
        return themed + [e for e in self.tone.emoji if e not in themed]

    def hook(self, text: str) -> str:
        if self.emoji == "none":
            return text
        options = self.emoji_options()
        first = (
            options[0]
            if options and options[0] not in self.tone.emoji
            else self.pick(options, "hook")
        )
        if self.emoji == "light":
            return f"{text} {first}"
        second = next((e for e in options if e != first), first)
        return f"{text} {first}{second}"

    def paragraph(self, text: str, index: int) -> str:
        if self.emoji != "heavy":
            return text
        return f"{text} {self.pick(self.emoji_options(), f'para{index}')}"

    def bullet(self, text: str, index: int) -> str:
        if self.emoji == "heavy":
            return f"{self.pick(self.emoji_options(), f'bullet{index}')} {text}"
        return f"• {text}"

    def call(self, text: str | None) -> str | None:
        if text is None:
            return None
        if self.emoji == "heavy" or (self.emoji == "light" and self.platform == "instagram"):
            return f"👉 {text}"
        return text


def _hook_text(voice: _Voice) -> tuple[str, list[str], bool]:
    """The opening line, the statements left for the body, and whether body[0] is the user's."""
    m = voice.material
    if m.topic:
        templates = voice.tone.hooks.get(m.intent) or voice.tone.hooks["general"]
        template = voice.pick(templates, "hook")
        hook = template.format(t=m.topic, T=_cap(m.topic))
        return _cap(hook), list(m.statements), bool(m.statements)
    if m.statements:
        return m.statements[0], list(m.statements[1:]), len(m.statements) > 1
    return _cap(m.focus or "here's the latest") + ".", [], False


def _facts_for(
    voice: _Voice, table: dict[str, tuple[int, int]], start: int = 0
) -> tuple[list[str], int]:
    """Up to the layout's number of facts from `start`, and the index after the last used."""
    regular, deep = table.get(voice.platform, (0, 0))
    wanted = deep if voice.material.mode == "deep" else regular
    limit = voice.material.max_words
    if voice.platform in ("tiktok", "x"):
        limit = min(limit, 22)
    out: list[str] = []
    index = start
    facts = voice.material.facts
    while index < len(facts) and len(out) < wanted:
        short = _shorten_sentence(facts[index], limit)
        if short is not None:
            out.append(short)
        index += 1
    return out, index


def _media_line(voice: _Voice) -> str | None:
    mf = voice.material.media
    if mf is None:
        return None
    colours = _join_list(mf.colours)
    platform = voice.platform
    if mf.kind == "video":
        duration = mf.duration_words
        if platform == "youtube":
            return f"Runtime: {duration}." if duration else None
        if duration and mf.seconds is not None and mf.seconds <= 120:
            return f"Watch to the end: it only takes {duration}."
        return f"The full video runs {duration}." if duration else None
    if mf.count > 1 and platform in ("instagram", "facebook", "tiktok", "linkedin"):
        return f"Swipe through all {mf.count} photos" + (f" in {colours}." if colours else ".")
    if colours:
        return f"Captured in {colours} tones."
    return None


def _media_description(mf: _MediaFacts) -> str:
    text = _cap(mf.noun_phrase())
    if mf.colours:
        text += f" in {_join_list(mf.colours)} tones"
    return text + "."


def _choose_tags(voice: _Voice) -> list[str]:
    count = voice.tag_count
    if count <= 0:
        return []
    chosen: dict[str, str] = {}  # lowercase tag -> tag
    deferred: list[str] = []
    words_taken: set[str] = set()
    for keyword in voice.material.keywords:
        if len(chosen) >= count:
            break
        words = set(keyword.key.split())
        # prefer new words over re-spelling tagged ones (#ColdBrew first, #cold only to fill)
        if words <= words_taken:
            deferred.append(keyword.tag)
            continue
        chosen.setdefault(keyword.tag.lower(), keyword.tag)
        words_taken |= words
    for tag in deferred:
        if len(chosen) >= count:
            break
        chosen.setdefault(tag.lower(), tag)
    return list(chosen.values())


def _closing(voice: _Voice) -> tuple[str | None, str | None]:
    m = voice.material
    cta = m.cta or voice.tone.cta.get(voice.platform) or _BASE_CTA.get(voice.platform)
    signoff = m.signoff
    if signoff and cta and _contains_phrase(cta, signoff):
        signoff = None
    return cta, signoff


def _fit(voice: _Voice, draft: _Draft, render: Callable[[_Voice, _Draft], str]) -> str:
    """Render, then give up the least essential parts until the platform limit holds."""
    platform = voice.platform
    limit = caption_limit(platform)
    for _ in range(1000):
        text = render(voice, draft)
        over = caption_length(platform, text) - limit
        if over <= 0:
            return text
        if draft.points:
            draft.points.pop()
        elif len(draft.body) > (1 if draft.keep_first_body else 0):
            draft.body.pop()
        elif draft.signoff:
            draft.signoff = None
        elif draft.media:
            draft.media = None
        elif draft.question:
            draft.question = None
        elif draft.body:
            trimmed = _trim_text(draft.body[0], len(draft.body[0]) - over - 3)
            if trimmed:
                draft.body[0] = trimmed
            else:
                draft.body.pop()
                draft.keep_first_body = False
        elif len(draft.tags) > 1:
            draft.tags.pop()
        elif len(draft.hook) > 40:
            trimmed = _trim_text(draft.hook, max(40, len(draft.hook) - over - 3))
            draft.hook = trimmed or draft.hook[:40]
        elif draft.tags:
            draft.tags.pop()
        elif draft.cta and len(draft.cta) > 20:
            draft.cta = _trim_text(draft.cta, max(20, len(draft.cta) - over - 3))
        else:
            break
    text = render(voice, draft)
    while text and caption_length(platform, text) > limit:
        over = caption_length(platform, text) - limit
        text = _trim_text(text, len(text) - over - 3)
    return text


def _close(parts: list[str], closing: Sequence[str | None], tags: Sequence[str]) -> None:
    """Append the blocks a multi-paragraph caption ends with: its closing lines (question,
    call to action, sign-off; the absent ones skipped) as one block, then the hashtags."""
    lines = [x for x in closing if x]
    if lines:
        parts.append("\n".join(lines))
    if tags:
        parts.append(" ".join(tags))


def _labelled_bullets(voice: _Voice, label: str, points: Sequence[str]) -> str:
    bullets = "\n".join(voice.bullet(p, i) for i, p in enumerate(points))
    return f"{label}:\n{bullets}"


def _render_instagram(voice: _Voice, d: _Draft) -> str:
    parts = [voice.hook(d.hook)]
    parts.extend(voice.paragraph(" ".join(d.body[i : i + 2]), i) for i in range(0, len(d.body), 2))
    if d.points:
        parts.append("\n".join(voice.bullet(p, i) for i, p in enumerate(d.points)))
    if d.media:
        parts.append(d.media)
    _close(parts, (d.question, voice.call(d.cta), d.signoff), d.tags)
    return "\n\n".join(p for p in parts if p)


def _render_tiktok(voice: _Voice, d: _Draft) -> str:
    rest = [voice.paragraph(" ".join(d.body), 0) if d.body else "", d.media or ""]
    rest += [voice.call(d.cta) or "", d.signoff or "", " ".join(d.tags)]
    tail = " ".join(p for p in rest if p)
    return voice.hook(d.hook) + ("\n" + tail if tail else "")


def _render_x(voice: _Voice, d: _Draft) -> str:
    parts = [voice.hook(d.hook), *d.body, d.media or "", voice.call(d.cta) or "", d.signoff or ""]
    text = " ".join(p for p in parts if p)
    return f"{text} {' '.join(d.tags)}" if d.tags else text


def _render_youtube(voice: _Voice, d: _Draft) -> str:
    parts = [" ".join([voice.hook(d.hook), *d.body])]
    if d.media:
        parts.append(d.media)
    if d.points:
        lines = [f"- {p}" for p in d.points]
        parts.append("In this video:\n" + "\n".join(lines))
    _close(parts, (voice.call(d.cta), d.signoff), d.tags)
    return without_angle_brackets("\n\n".join(parts))


def _render_facebook(voice: _Voice, d: _Draft) -> str:
    parts = [voice.hook(d.hook)]
    if d.body:
        parts.append(voice.paragraph(" ".join(d.body), 0))
    if d.points:
        parts.append(_labelled_bullets(voice, voice.tone.points_label, d.points))
    if d.media:
        parts.append(d.media)
    _close(parts, (d.question, voice.call(d.cta), d.signoff), d.tags)
    return "\n\n".join(parts)


def _render_linkedin(voice: _Voice, d: _Draft) -> str:
    parts = [voice.hook(d.hook)]
    parts.extend(voice.paragraph(sentence, i) for i, sentence in enumerate(d.body))
    if d.points:
        parts.append(_labelled_bullets(voice, "Key takeaways", d.points))
    if d.media:
        parts.append(d.media)
    _close(parts, (d.question, voice.call(d.cta), d.signoff), d.tags)
    return "\n\n".join(parts)


_RENDERERS: dict[str, Callable[[_Voice, _Draft], str]] = {
    "instagram": _render_instagram,
    "tiktok": _render_tiktok,
    "x": _render_x,
    "youtube": _render_youtube,
    "facebook": _render_facebook,
    "linkedin": _render_linkedin,
}


def _draft_for(voice: _Voice) -> _Draft:
    m = voice.material
    platform = voice.platform
    hook, statements, keep_first = _hook_text(voice)
    if platform == "tiktok":
        statements = statements[:2]
    body_facts, used = _facts_for(voice, _BODY_FACTS)
    points, _ = _facts_for(voice, _POINT_FACTS, used)
    body = statements + body_facts
    media_line = _media_line(voice)
    if m.media is not None and not m.statements and not m.facts:
        # media is all there is to go on: describe it plainly
        body.insert(0, _media_description(m.media))
        if m.media.kind == "image":
            media_line = _media_line(voice) if m.media.count > 1 and not m.media.colours else None
    if platform in ("x", "linkedin") and body:
        media_line = None
    question = None
    if platform in ("facebook", "linkedin"):
        if m.focus:
            question = voice.pick(voice.tone.questions, "question").format(k=m.focus)
        else:
            question = voice.tone.open_question
    cta, signoff = _closing(voice)
    if platform == "x" and not m.cta:
        cta = None
    draft = _Draft(
        hook=hook,
        body=body,
        points=points,
        media=media_line,
        question=question,
        cta=cta,
        signoff=signoff,
        tags=[],
        keep_first_body=keep_first,
    )
    if platform == "youtube":
        tags = _choose_tags(voice)
        mf = m.media
        if (
            tags
            and mf is not None
            and mf.kind == "video"
            and mf.seconds is not None
            and mf.seconds <= 180
            and mf.orientation in ("vertical", "square")
            and "#shorts" not in (t.lower() for t in tags)
        ):
            # YouTube reads #Shorts as a hint; the first three tags stay the topical ones
            tags = [*tags[:3], "#Shorts", *tags[3:]][: voice.tag_count]
        draft.tags = tags
    else:
        draft.tags = _choose_tags(voice)
    if platform == "x":
        # keep room for words: the tags go before the message does
        while draft.tags and caption_length("x", " ".join([draft.cta or "", *draft.tags])) > 180:
            draft.tags.pop()
    return draft


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
        base, noun_phrase = _strip_end(m.statements[0]), False
    elif m.focus:
        base = _words_to_title(m.focus)
    else:
        base, noun_phrase = _strip_end(draft_hook), False
    base = without_angle_brackets(base)
    candidates: list[str] = []
    if media_only and mf is not None and mf.kind == "video" and mf.duration_words:
        candidates.append(f"{base} in {_words_to_title(mf.duration_words)}")
    if noun_phrase and m.topic and m.intent == "announce":
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


class OfflineCaptionProvider:
    """Writes captions from the given material alone, the same way every time."""

    name = "offline"

    async def write_captions(self, request: CaptionRequest) -> CaptionOutputs:
        if not request.platforms:
            raise ProviderError("No platforms were requested.")
        unknown = [p for p in request.platforms if p not in PLATFORMS]
        if unknown:
            raise ProviderError(f"Unknown platform '{unknown[0]}'.")
        has_prompt = bool(request.prompt and request.prompt.strip())
        has_sources = any(s.title.strip() or s.text.strip() for s in request.sources)
        if not (has_prompt or has_sources or request.media):
            raise ProviderError("There is nothing to write about: no prompt, sources or media.")

        material = _gather(request)
        outputs: CaptionOutputs = {}
        for platform in dict.fromkeys(request.platforms):
            outputs[platform] = _write(platform, material, request.style)
        return outputs


def _resolve_tone(style: WritingStyle | None, platform: str) -> str:
    if style is None:
        return _PLATFORM_TONE[platform]
    for word in re.findall(r"[a-z]+", style.tone.lower()):
        if word in _TONE_SYNONYMS:
            return _TONE_SYNONYMS[word]
    return "neutral"


def _write(platform: str, material: _Material, style: WritingStyle | None) -> str | dict[str, str]:
    tone = _TONES[_resolve_tone(style, platform)]
    default_tags, max_tags = _PLATFORM_TAGS[platform]
    voice = _Voice(
        platform=platform,
        material=material,
        tone=tone,
        emoji=style.emoji_use if style is not None else _PLATFORM_EMOJI[platform],
        tag_count=min(max(style.hashtag_count, 0), max_tags) if style is not None else default_tags,
    )
    draft = _draft_for(voice)
    hook = draft.hook
    text = _fit(voice, draft, _RENDERERS[platform])
    if voice.emoji == "none":
        text = _strip_emoji(text)
    if platform == "youtube":
        title = _youtube_title(voice, hook)
        if voice.emoji == "none":
            title = _squash(_strip_emoji(title))
        if not _has_words(title):
            # emoji or punctuation alone is no title, and YouTube requires one
            title = _fallback_title(material)
        return {"title": title, "description": text}
    return text

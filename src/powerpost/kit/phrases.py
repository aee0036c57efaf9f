"""A small, dictionary-free reading of English phrases: word classes by position, noun
phrases, and whether a piece of text is a statement, a topic or a question.

The offline caption writer takes hashtags from noun phrases with it, and the offline
cards take their headline from the main noun phrase. No model and no download: closed word
classes (articles, prepositions, pronouns, auxiliaries) are listed, a few hundred common
verbs are listed with their forms, and everything else is read from its neighbours ("the
launch" is a noun, "we launch" a verb). Deterministic and fast; wrong now and then on
rare words, which costs a missed hashtag, never a changed fact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


DETERMINERS = _set(
    "a an the this that these those our your my their his her its every each some any no "
    "all both either neither another such what which whose"
)
PREPOSITIONS = _set(
    "of for in on at by with from into onto over under about to until till through during "
    "before after across around near between without within via per than like behind "
    "beyond toward towards upon among against along inside outside since past off up out as "
    "down amid despite except throughout"
)
PRONOUNS = _set(
    "i we you they he she it me us them him mine ours yours theirs myself ourselves "
    "yourself yourselves themselves everyone everybody someone somebody anyone nobody "
    "everything something anything nothing who whom"
)
AUXILIARIES = _set(
    "is are was were be been being am will would can could should shall may might must has "
    "have had do does did isn't aren't wasn't weren't won't wouldn't can't couldn't "
    "shouldn't don't doesn't didn't hasn't haven't hadn't"
)
CONJUNCTIONS = _set("and or but nor so yet plus & + because while although if when whether")
ADVERBS = _set(
    "just now also still already very really soon finally officially only even again "
    "here there today tonight tomorrow yesterday ever never always often not too "
    "currently officially proudly together back ago"
)
QUESTION_WORDS = _set("what what's which who who's whom whose where where's when why how how's")
NUMBER_WORDS = _set(
    "one two three four five six seven eight nine ten eleven twelve twenty thirty forty "
    "fifty hundred thousand million billion dozen half first second third fourth fifth "
    "sixth seventh eighth ninth tenth once twice"
)
# adjectives that stand after a noun ("keep it alive", "tickets are live"): never a tag
PREDICATIVE = _set(
    "alive awake ready available open closed live free happy proud excited thrilled glad "
    "sorry sure able unable aware due worth back busy late early possible necessary "
    "important easy hard simple better best good great bad fine"
)
# -ing words that are nouns or noun modifiers in their own right
ING_NOUNS = _set(
    "morning evening wedding clothing building meeting painting marketing training funding "
    "housing pudding icing sibling ceiling spring string thing things king ring wing swing "
    "bedding stuffing seasoning frosting filling dressing topping packaging branding "
    "networking coaching consulting engineering programming accounting banking landscaping "
    "plumbing roofing catering shipping shopping running hiking cycling swimming skiing "
    "surfing baking cooking camping fishing gardening knitting reading writing boxing climbing "
    "dancing singing yoga parking lighting printing pricing hosting learning recycling "
    "composting beekeeping storytelling mentoring gaming streaming podcasting photography "
    "design feeling opening offering savings earnings listing listings belongings "
    "happenings beginnings"
)
# common verbs; their -s, -ed and -ing forms are derived
_VERB_BASES = _set(
    "add announce apply arrive ask bake become begin believe bring build buy call celebrate "
    "change check choose close come complete connect continue create cut deliver design "
    "discover do download drink drop earn eat enjoy enter expand explore feel find finish "
    "follow forget get give go grab grow guess have hear help hire hit hold host improve "
    "include introduce invite join keep know launch learn leave let like listen live look "
    "love make manage meet miss move need offer open order partner pay pick plan plant play "
    "prefer prepare present protect provide reach read reduce register release remember "
    "reopen return run save say see sell send serve share shop show sign sip spend start "
    "stay stop support take taste teach tell thank think travel try turn unveil update use "
    "visit vote wait want watch welcome win work write brew cook donate volunteer ship matter "
    "raise sponsor rise surpass cross mark"
)
_IRREGULAR = _set(
    "began begun became brought bought built came chose did done drank drove ate fell felt "
    "found flew forgot got gotten gave given went gone grew grown heard held kept knew known "
    "left let lost made meant met paid put ran read rose said saw seen sold sent shown shot "
    "sat spent stood took taken taught told thought threw won wrote written broke broken stuck"
)
# at the start of a prompt these are commands ("Join us", "Use code SPRING20")
_IMPERATIVES = _set(
    "join use shop meet grab try get save read watch listen register book order visit follow "
    "tag check discover explore learn celebrate come let make take see enjoy help sign "
    "download start stop tell share vote guess win find buy treat mark swing stop pop head "
    "catch reserve claim give bring remember don't say welcome thank"
)

Kind = Literal["statement", "topic", "question"]

_TOKEN_RE = re.compile(
    r"https?://\S+|www\.\S+|[#@][^\W_]\w*|"
    r"[$€£¥]?\d[\d,.:/]*\d(?:%|st|nd|rd|th|k|K|am|pm|L)?|[$€£¥]?\d(?:%|st|nd|rd|th|k|K|am|pm|L)?|"
    r"[^\W_]+(?:['’.&+-][^\W_]+)*|[.!?;:,()\"“”…—–]|\s-\s"
)
_SENTENCE_END = frozenset(".!?…")
_NAME_PARTICLES = _set("da de di del van von der le la bin al")
_ABBREVIATIONS = _set("mr mrs ms dr prof st vs etc inc ltd co no approx mt ft jr sr")


@dataclass(frozen=True)
class Token:
    text: str
    tag: str  # DET PREP PRON AUX CONJ ADV WH NUM VERB ADJ NOUN PROPER PUNCT LINK
    start: int
    end: int

    @property
    def low(self) -> str:
        return self.text.lower().replace("’", "'")


def _forms(base: str) -> set[str]:
    if base.endswith("e") and not base.endswith("ee"):
        stem = base[:-1]
        return {base, base + "s", stem + "ed", stem + "ing"}
    if base.endswith("y") and base[-2:-1] not in "aeiou":
        return {base, base[:-1] + "ies", base[:-1] + "ied", base + "ing"}
    double = (
        len(base) <= 4
        and re.fullmatch(r"[^aeiou]*[aeiou][^aeiouwxy]", base) is not None
        and base not in {"open", "visit", "offer", "enter"}
    )
    doubled = base + base[-1] if double else base
    plural = base + ("es" if base.endswith(("s", "sh", "ch", "x", "z")) else "s")
    return {base, plural, doubled + "ed", doubled + "ing"}


_VERB_FORMS = frozenset(f for b in _VERB_BASES for f in _forms(b)) | _IRREGULAR
_VERB_BASE_SET = _VERB_BASES


def _is_number(text: str) -> bool:
    low = text.lower()
    return text[:1] in "$€£¥" or text[:1].isdigit() or low in NUMBER_WORDS


def _has_letter(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


def _closed_class(low: str) -> str | None:
    if low in DETERMINERS:
        return "DET"
    if low in PREPOSITIONS:
        return "PREP"
    if low in PRONOUNS:
        return "PRON"
    if low in AUXILIARIES or re.fullmatch(r"[a-z]+'(?:re|ve|ll|m|d)", low):
        return "AUX"
    if low.endswith("'s") and low[:-2] in PRONOUNS | {"that", "there", "here", "it"}:
        return "AUX"
    if low in CONJUNCTIONS:
        return "CONJ"
    if low in QUESTION_WORDS:
        return "WH"
    if low in ADVERBS or (
        low.endswith("ly") and len(low) > 4 and low not in {"family", "supply", "italy"}
    ):
        return "ADV"
    return None


@lru_cache(maxsize=512)
def tag(text: str) -> tuple[Token, ...]:
    """Word classes for `text`, by list and by position."""
    raw = [(m.group(0), m.start(), m.end()) for m in _TOKEN_RE.finditer(text)]
    first: list[bool] = []  # whether each token starts a sentence
    at_start = True
    for i, (word, _, _) in enumerate(raw):
        first.append(at_start and _has_letter(word))
        if word in _SENTENCE_END or word == ":" or (word in '"“”' and at_start):
            at_start = word not in '"“”' or at_start
            if word == "." and i > 0 and raw[i - 1][0].lower() in _ABBREVIATIONS:
                at_start = False
        elif _has_letter(word) or word[:1].isdigit():
            at_start = False
    tags: list[str] = []
    for word, _, _ in raw:
        low = word.lower().replace("’", "'")
        if word.startswith(("http", "www.", "#", "@")):
            tags.append("LINK")
        elif _is_number(word):
            tags.append("NUM")
        elif not _has_letter(word):
            tags.append("PUNCT")
        elif re.fullmatch(r"\d+(?:st|nd|rd|th)", low):
            tags.append("NUM")
        else:
            tags.append(_closed_class(low) or "OPEN")
    for i, (word, _, _) in enumerate(raw):
        if tags[i] != "OPEN":
            continue
        tags[i] = _open_class(word, i, raw, tags, first)
    for i in range(1, len(raw) - 1):
        # "Leonardo da Vinci", "Vincent van Gogh": a particle inside a name is part of it
        if raw[i][0] in _NAME_PARTICLES and tags[i - 1] == "PROPER" and tags[i + 1] == "PROPER":
            tags[i] = "PROPER"
    return tuple(Token(w, t, s, e) for (w, s, e), t in zip(raw, tags, strict=True))


def _open_class(
    word: str, i: int, raw: list[tuple[str, int, int]], tags: list[str], first: list[bool]
) -> str:
    low = word.lower().replace("’", "'")
    prev = tags[i - 1] if i > 0 else "START"
    prev_low = raw[i - 1][0].lower() if i > 0 else ""
    nxt = tags[i + 1] if i + 1 < len(tags) else "END"
    starts = first[i]
    verbish = low in _VERB_FORMS
    ing = low.endswith("ing") and len(low) > 5 and low not in ING_NOUNS
    ed = low.endswith("ed") and len(low) > 4 and low not in {"need", "seed", "feed", "speed"}
    if starts and low in _IMPERATIVES:
        return "VERB"
    if low in PREDICATIVE and not _content_next(tags, i):
        return "ADJ"
    if low in ING_NOUNS:
        # "shipping March 15" is a verb; "free shipping on orders" a noun
        if nxt in ("DET", "PRON", "NUM") and prev not in ("DET", "NOUN", "PROPER", "NUM"):
            return "VERB"
        if nxt == "OPEN" and prev == "PUNCT" and raw[i + 1][0][:1].isupper():
            return "VERB"
        return "PROPER" if word[:1].isupper() and not starts else "NOUN"
    if ing:
        if low in _VERB_FORMS and nxt in ("DET", "PRON"):
            return "VERB"  # "a post announcing our launch"
        if prev in ("DET", "NUM") or (prev in ("NOUN", "PROPER", "ADJ") and not starts):
            return "NOUN"
        return "VERB"
    if starts and nxt in ("DET", "PRON") and not (word[:1].isupper() and i > 0):
        return "VERB"  # "Quick tip: water your succulents"
    after_break = prev in ("PUNCT", "CONJ") and i > 0
    if verbish and low in _VERB_BASE_SET and after_break and nxt in ("PREP", "DET", "PRON", "ADV"):
        return "VERB"  # "..., listen at", "and share it"
    if starts:
        after = [w for w, _, _ in raw[i + 1 : i + 3]]
        capital_run = (
            word[:1].isupper()
            and bool(after)
            and (
                after[0][:1].isupper()
                or (after[0] in _NAME_PARTICLES and len(after) > 1 and after[1][:1].isupper())
            )
        )
        if verbish and (low in _VERB_BASE_SET) and nxt in ("DET", "PRON", "PREP", "ADV", "NUM"):
            return "VERB"
        if (word.isupper() and len(word) > 1) or (capital_run and not verbish):
            return "PROPER"
        return "NOUN"
    subject = prev in ("PRON", "AUX") or (
        prev == "ADV" and i > 1 and tags[i - 2] in ("PRON", "AUX")
    )
    if subject and (verbish or ed):
        return "VERB"
    if prev_low == "to" and low in _VERB_BASE_SET:
        return "VERB"
    if ed and prev in ("NOUN", "PROPER") and not _content_next(tags, i):
        return "VERB"
    back = i - 1
    while back >= 0 and tags[back] == "ADV":
        back -= 1  # "our app now supports": the word before the adverb decides
    before = tags[back] if back >= 0 else "START"
    if verbish and low not in _VERB_BASE_SET and before in ("NOUN", "PROPER", "NUM"):
        return "VERB"  # "Version 3.4 adds", "Sales grew", "our bar opens Friday"
    plural_subject = before == "NOUN" and raw[back][0].lower().endswith("s")
    if verbish and low in _VERB_BASE_SET and plural_subject and nxt in ("PREP", "DET", "PRON"):
        return "VERB"  # "founders make with", "our cafes serve the"
    if verbish and low in _VERB_BASE_SET and prev == "CONJ" and i > 1:
        return "VERB"
    if word[:1].isupper() or (any(ch.isupper() for ch in word[1:]) and _has_letter(word)):
        return "PROPER"
    return "NOUN"


def _content_next(tags: list[str], i: int) -> bool:
    return i + 1 < len(tags) and tags[i + 1] in ("OPEN", "NOUN", "PROPER")


def kind_of(text: str) -> Kind:
    """A question, a statement (has a finite verb, or is a command or an announcement),
    or a topic: a noun phrase such as "5 tips for keeping sourdough alive"."""
    tokens = [t for t in tag(text) if t.tag != "PUNCT" or t.text in "?"]
    if not tokens:
        return "topic"
    stripped = text.rstrip(" \"'”’)")
    words = [t for t in tokens if t.tag != "PUNCT"]
    if stripped.endswith("?"):
        return "question"
    if words and words[0].tag == "WH" and len(words) > 1 and words[1].tag in ("AUX", "PRON"):
        return "question"
    if words and words[0].tag == "AUX" and len(words) > 1 and words[1].tag in ("PRON", "DET"):
        return "question"
    if words[0].tag == "VERB":
        return "statement"  # a command or an announcement: "Join us", "Launching today"
    for i, t in enumerate(words):
        if t.tag == "AUX":
            return "statement"
        infinitive = i > 0 and words[i - 1].low == "to"
        if t.tag == "VERB" and not infinitive and not t.low.endswith("ing"):
            return "statement"
    return "topic"


@dataclass(frozen=True)
class Chunk:
    """A noun phrase: its words (without leading articles) and which are proper names."""

    words: tuple[str, ...]
    proper: tuple[bool, ...]
    start: int
    end: int


def noun_chunks(text: str) -> list[Chunk]:
    """Runs of nouns, names and their modifiers; verbs, function words and punctuation
    break a run, and a word that only stands after a noun ("alive") is left out."""
    chunks: list[Chunk] = []
    run: list[Token] = []

    def flush() -> None:
        if run:
            chunks.append(
                Chunk(
                    tuple(t.text for t in run),
                    tuple(t.tag == "PROPER" for t in run),
                    run[0].start,
                    run[-1].end,
                )
            )
            run.clear()

    for token in tag(text):
        if token.tag in ("NOUN", "PROPER"):
            run.append(token)
        else:
            flush()
    flush()
    return chunks


_NON_LATIN = re.compile(
    r"[\u0400-\u04ff\u0590-\u06ff\u0900-\u0dff\u0e00-\u0e7f\u3040-\u9fff\uac00-\ud7af]"
)
_FOREIGN = _set(
    "le la les des du et à un une est nous notre vous pour avec dans sur el los las del y "
    "con para por nuevo nueva der die das und mit für ab ist wir unser unsere neue im em de "
    "en al zu von och het een "
    "da do dos com uma não sua seu il di che per una nel della è ou já"
)
_ENGLISH = _set(
    "the a an and of to in on for with our your we you is are this that at from by it "
    "new all now be will has have just how what"
)


def is_english(text: str) -> bool:
    """Whether `text` reads as English: the templates and word lists only suit English."""
    if _NON_LATIN.search(text):
        return False
    words = [w.lower() for w in re.findall(r"[^\W\d_]+", text)]
    foreign = sum(1 for w in words if w in _FOREIGN)
    english = sum(1 for w in words if w in _ENGLISH)
    return not (foreign >= 2 and foreign > english)

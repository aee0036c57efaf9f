"""Layout and fitting: a draft per platform from the material, rendered per platform
convention, then shortened part by part until the platform limit holds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from powerpost.generation.fitting import without_angle_brackets
from powerpost.generation.providers.base import EmojiUse
from powerpost.generation.providers.offline import compose
from powerpost.generation.providers.offline.keywords import _tag_words
from powerpost.generation.providers.offline.material import _Material
from powerpost.generation.providers.offline.media import _MediaFacts
from powerpost.generation.providers.offline.text import (
    _T,
    _cap,
    _contains_phrase,
    _join_list,
    _pick,
    _shorten_sentence,
    _trim_text,
)
from powerpost.generation.providers.offline.tones import _BASE_CTA, _BODY_FACTS, _POINT_FACTS, _Tone
from powerpost.generation.providers.offline.vocabulary import _THEME_EMOJI
from powerpost.kit.platforms import caption_length, caption_limit


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
    kicker: str | None = None  # a sentence of its own before the hook ("Big news!")


@dataclass(frozen=True)
class _Voice:
    platform: str
    material: _Material
    tone: _Tone
    emoji: EmojiUse
    tag_count: int
    tone_name: str = "neutral"

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
        seed = compose.seed_of(m.seed, voice.platform, "hook")
        tone_hooks = voice.tone.hooks.get(m.intent) or voice.tone.hooks["general"]
        hook = compose.topic_hook(m.topic, voice.tone_name, tone_hooks, seed)
        return hook, list(m.statements), bool(m.statements)
    if m.statements:
        return m.statements[0], list(m.statements[1:]), len(m.statements) > 1
    return _cap(m.focus or "here's the latest") + ".", [], False


def _opening(d: _Draft) -> str:
    return f"{d.kicker} {d.hook}" if d.kicker else d.hook


# where a kicker stands: its own first paragraph, before the statement on the same line,
# or nowhere (a YouTube description opens with the substance; the title is the hook)
_KICKER_PLACE = {
    "instagram": "alone",
    "linkedin": "alone",
    "tiktok": "inline",
    "facebook": "inline",
    "x": "inline",
}


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
    """The first `tag_count` keywords, each for words no earlier tag stands for: never
    #BlackFriday beside #BlackFridaySale, nor #Shoes beside #RunningShoes."""
    count = voice.tag_count
    chosen: dict[str, str] = {}  # lowercase tag -> tag
    words_taken: set[str] = set()
    for keyword in voice.material.keywords:
        if len(chosen) >= count:
            break
        words = _tag_words(keyword)
        if words & words_taken or keyword.tag.lower() in chosen:
            continue
        chosen[keyword.tag.lower()] = keyword.tag
        words_taken |= words
    return list(chosen.values())


def _closing(voice: _Voice) -> tuple[str | None, str | None]:
    m = voice.material
    by_intent = None
    if voice.platform in ("instagram", "tiktok", "facebook") and m.english:
        by_intent = compose.intent_cta(m.intent)
    cta = m.cta or by_intent or voice.tone.cta.get(voice.platform) or _BASE_CTA.get(voice.platform)
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
        elif draft.kicker:
            draft.kicker = None
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
    return voice.hook(_opening(d)) + ("\n" + tail if tail else "")


def _render_x(voice: _Voice, d: _Draft) -> str:
    parts = [voice.hook(_opening(d)), *d.body, d.media or "", voice.call(d.cta) or ""]
    parts.append(d.signoff or "")
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
    parts = [voice.hook(_opening(d))]
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
    seed = compose.seed_of(m.seed, platform, "compose")
    question = None
    if platform in ("facebook", "linkedin") and m.kind != "question":
        by_intent = compose.intent_question(m.intent, seed) if m.english else None
        # a focus from the user's own words reads right only as their whole topic phrase
        plain_topic = (
            m.focus == m.topic and m.topic is not None and compose.topic_shape(m.topic) == "noun"
        ) or not (m.topic or m.statements)
        if by_intent:
            question = by_intent
        elif m.focus and plain_topic:
            focus = compose.inline(m.focus)
            question = voice.pick(voice.tone.questions, "question").format(k=focus)
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
    place = _KICKER_PLACE.get(platform)
    # a headline ("Cozy bakery storefront at sunrise") takes a kicker only for a clear
    # intent; "Quick update!" before a description would read oddly
    kicked = m.kind == "statement" or (m.kind == "headline" and m.intent != "general")
    if place and kicked and m.english and not m.topic and m.statements:
        line = compose.kicker(m.intent, voice.tone_name, hook, seed)
        if line and place == "alone":
            draft.body.insert(0, draft.hook)
            draft.hook, draft.keep_first_body = line, True
        elif line:
            draft.kicker = line
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
            # YouTube reads #Shorts as a hint; the first three tags stay the topical ones,
            # and #ShortVideo gives way to it (one tag per word)
            tags = [t for t in tags if not t.lower().startswith("#short")]
            tags = [*tags[:3], "#Shorts", *tags[3:]][: voice.tag_count]
        draft.tags = tags
    else:
        draft.tags = _choose_tags(voice)
    if platform == "x":
        # keep room for words: the tags go before the message does
        while draft.tags and caption_length("x", " ".join([draft.cta or "", *draft.tags])) > 180:
            draft.tags.pop()
    return draft

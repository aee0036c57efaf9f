"""The provider itself: checks the request, gathers the material once, writes each platform."""

from __future__ import annotations

import re

from powerpost.generation.providers.base import (
    CaptionOutputs,
    CaptionRequest,
    ProviderError,
    WritingStyle,
)
from powerpost.generation.providers.offline.layout import _RENDERERS, _draft_for, _fit, _Voice
from powerpost.generation.providers.offline.material import _gather, _Material
from powerpost.generation.providers.offline.text import _has_words, _squash, _strip_emoji
from powerpost.generation.providers.offline.titles import _fallback_title, _youtube_title
from powerpost.generation.providers.offline.tones import (
    _PLATFORM_EMOJI,
    _PLATFORM_TAGS,
    _PLATFORM_TONE,
    _TONE_SYNONYMS,
    _TONES,
)
from powerpost.kit.platforms import PLATFORMS


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
    tone_name = _resolve_tone(style, platform)
    tone = _TONES[tone_name]
    default_tags, max_tags = _PLATFORM_TAGS[platform]
    voice = _Voice(
        platform=platform,
        material=material,
        tone=tone,
        tone_name=tone_name,
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

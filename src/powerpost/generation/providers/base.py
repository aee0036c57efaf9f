"""The one interface every caption provider implements, and the shapes it speaks.

Providers never touch the database, credits or storage: the generation task gathers the
inputs (prompt, fetched sources, facts about the media), calls `write_captions`, and
decides what a failure costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

# re-exported: callers and the image and video providers import it from here
from powerpost.kit.providers import ProviderError as ProviderError

ResearchMode = Literal["regular", "deep"]
EmojiUse = Literal["none", "light", "heavy"]

# outputs keyed by platform: YouTube gets {"title", "description"}, every other platform a string
CaptionOutputs = dict[str, str | dict[str, str]]


@dataclass(frozen=True)
class SourceDoc:
    url: str
    title: str
    text: str


@dataclass(frozen=True)
class MediaInput:
    kind: Literal["image", "video"]
    path: Path
    mime_type: str
    file_name: str
    width: int
    height: int
    duration_seconds: float | None = None
    dominant_colors: tuple[str, ...] = ()  # "#rrggbb", most dominant first


@dataclass(frozen=True)
class WritingStyle:
    name: str
    tone: str
    emoji_use: EmojiUse = "light"
    hashtag_count: int = 3
    example_posts: tuple[str, ...] = ()


@dataclass(frozen=True)
class CaptionRequest:
    platforms: tuple[str, ...]  # distinct platforms from §4, in request order
    research_mode: ResearchMode
    prompt: str | None = None
    cta_text: str | None = None
    sources: tuple[SourceDoc, ...] = ()
    media: tuple[MediaInput, ...] = ()
    style: WritingStyle | None = None
    # the post types asked for, for a provider that tailors to them (a Short's title)
    post_types: tuple[str, ...] = ()


class CaptionProvider(Protocol):
    name: str

    async def write_captions(self, request: CaptionRequest) -> CaptionOutputs: ...

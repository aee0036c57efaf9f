"""The one interface every video provider implements, and the shapes it speaks.

A provider writes its MP4 into the `workdir` it is given and reports what the file really
is (probed, not what was asked for): the video task moves the file into storage and shows
those facts in §6.9. Failures raise `ProviderError`; the task refunds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from powerpost.kit.providers import ProviderError

__all__ = [
    "ProviderError",
    "RenderedVideo",
    "VideoProvider",
    "VideoRequest",
    "VideoSize",
    "rendered_video_from_probe",
]

VideoSize = Literal["landscape", "portrait"]


@dataclass(frozen=True)
class VideoRequest:
    prompt: str
    size: VideoSize
    duration: int  # seconds
    model: str
    has_audio: bool
    enhance_prompt: bool
    source_image: Path | None = None


@dataclass(frozen=True)
class RenderedVideo:
    path: Path
    width: int
    height: int
    duration_seconds: float
    has_audio: bool


class VideoProvider(Protocol):
    name: str

    async def generate(self, request: VideoRequest, workdir: Path) -> RenderedVideo: ...


def rendered_video_from_probe(path: Path, info: dict[str, Any]) -> RenderedVideo:
    """Turn ffprobe's JSON for `path` into the facts a `RenderedVideo` reports."""
    streams: list[dict[str, Any]] = info.get("streams") or []
    video = next((s for s in streams if s.get("codec_type") == "video"), None)
    if video is None:
        raise ProviderError("the rendered file has no video stream")
    has_audio = any(s.get("codec_type") == "audio" for s in streams)
    duration = _as_float(video.get("duration")) or _as_float(
        (info.get("format") or {}).get("duration")
    )
    if duration is None or duration <= 0:
        raise ProviderError("the rendered video has no usable duration")
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    if width <= 0 or height <= 0:
        raise ProviderError("the rendered video has no usable dimensions")
    return RenderedVideo(
        path=path,
        width=width,
        height=height,
        duration_seconds=round(duration, 3),
        has_audio=has_audio,
    )


def _as_float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None

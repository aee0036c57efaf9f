"""Offline video provider: a still brought to life by ffmpeg, no network, no model.

The still is the request's source image (scaled and cropped to fill) or a title card from
the shared card renderer (`kit.cards`). ffmpeg moves a virtual camera over it (a slow
push-in or a sideways pan, chosen by digest), encodes H.264/yuv420p with +faststart and, when audio is
asked for, lays a soft sine-wave chord under it as AAC.

It renders at 1280x720 / 720x1280 rather than the full 1080p sizes so a 10 s clip stays a
few seconds of CPU on a small host; the result reports the probed dimensions, so callers
always see what the file really is. Duration is exact: the frame count is fixed and the
audio is cut with `-t`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from pathlib import Path

from PIL import Image, ImageOps

from powerpost.kit.cards import CardText, render_card
from powerpost.kit.ffmpeg import ToolFailed, ToolMissing, ffmpeg_exe, input_url, probe, run_tool
from powerpost.videos.providers.base import (
    ProviderError,
    RenderedVideo,
    VideoRequest,
    VideoSize,
    rendered_video_from_probe,
)

log = logging.getLogger("powerpost.videos")

OUTPUT_PIXELS: dict[VideoSize, tuple[int, int]] = {
    "landscape": (1280, 720),
    "portrait": (720, 1280),
}
# Soft major triads (Hz) for the audio bed; one is picked per request by digest.
CHORDS: tuple[tuple[float, float, float], ...] = (
    (261.63, 329.63, 392.00),
    (220.00, 277.18, 329.63),
    (196.00, 246.94, 293.66),
    (174.61, 220.00, 261.63),
)
_PUSH_IN_ZOOM = 0.10
_PAN_ZOOM = 1.08
# the still is rendered at twice the output size: zoompan rounds its crop to whole pixels,
# and the extra resolution hides that as sub-pixel motion instead of visible judder
_OVERSAMPLE = 2
# the push-in and the pan crop up to 9% of the frame: keep the title inside what remains
_SAFE_MARGIN = 0.22


class OfflineVideoProvider:
    name = "offline"

    def __init__(
        self,
        *,
        fps: int = 25,
        pixels: dict[VideoSize, tuple[int, int]] | None = None,
        preset: str = "veryfast",
    ) -> None:
        self.fps = fps
        self.pixels = pixels or OUTPUT_PIXELS
        self.preset = preset

    async def generate(self, request: VideoRequest, workdir: Path) -> RenderedVideo:
        # rendering and probing block on Pillow and child processes: keep them off the loop
        return await asyncio.to_thread(self._render, request, workdir)

    def _render(self, request: VideoRequest, workdir: Path) -> RenderedVideo:
        if request.duration <= 0:
            raise ProviderError("video duration must be positive")
        workdir.mkdir(parents=True, exist_ok=True)
        tag = _digest(request).hex()[:12]
        still = workdir / f"offline-{tag}-still.png"
        output = workdir / f"offline-{tag}.mp4"
        width, height = self.pixels[request.size]
        try:
            _write_still(request, still, (width * _OVERSAMPLE, height * _OVERSAMPLE))
            # encoding is bounded by CPU: allow generously more than real time
            run_tool(
                self.ffmpeg_args(request, still, output), timeout=60.0 + 15.0 * request.duration
            )
            info = probe(output)
        except ToolMissing as exc:
            # the install hint and ffmpeg's output are for the operator's log, not the client
            log.error("offline video: %s", exc)
            raise ProviderError("ffmpeg is not available on the server") from exc
        except ToolFailed as exc:
            output.unlink(missing_ok=True)
            log.error("offline video: ffmpeg failed: %s", exc)
            raise ProviderError("ffmpeg could not render the video") from exc
        finally:
            still.unlink(missing_ok=True)
        return rendered_video_from_probe(output, info)

    def ffmpeg_args(self, request: VideoRequest, still: Path, output: Path) -> list[str]:
        width, height = self.pixels[request.size]
        frames = request.duration * self.fps
        seed = _digest(request)
        last = max(frames - 1, 1)
        if seed[0] % 2 == 0:
            zoom = f"1+{_PUSH_IN_ZOOM}*on/{last}"
            x = "(iw-iw/zoom)/2"
        else:
            zoom = f"{_PAN_ZOOM}"
            travel = f"on/{last}" if seed[1] % 2 == 0 else f"(1-on/{last})"
            x = f"(iw-iw/zoom)*{travel}"
        video_chain = (
            f"[0:v]zoompan=z='{zoom}':x='{x}':y='(ih-ih/zoom)/2'"
            f":d={frames}:s={width}x{height}:fps={self.fps},setsar=1,format=yuv420p[v]"
        )
        args = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
        args += ["-i", input_url(still)]
        graph = [video_chain]
        if request.has_audio:
            duration = request.duration
            for frequency in CHORDS[seed[2] % len(CHORDS)]:
                args += [
                    "-f",
                    "lavfi",
                    "-i",
                    f"sine=frequency={frequency}:sample_rate=48000:duration={duration}",
                ]
            fade_out = max(duration - 1.0, 0.0)
            graph.append(
                "[1:a][2:a][3:a]amix=inputs=3,volume=0.5,lowpass=f=1800,"
                # amix can end a few AAC frames early: pad with silence, -t cuts it exact
                f"afade=t=in:st=0:d=0.6,afade=t=out:st={fade_out}:d=1,apad[a]"
            )
        args += ["-filter_complex", ";".join(graph), "-map", "[v]"]
        args += ["-c:v", "libx264", "-preset", self.preset, "-crf", "22", "-pix_fmt", "yuv420p"]
        # zoompan emits exactly `frames` frames; -frames:v would also stop the muxer before
        # the last AAC packets and leave the audio ~50 ms short
        args += ["-r", str(self.fps)]
        if request.has_audio:
            args += ["-map", "[a]", "-c:a", "aac", "-b:a", "128k", "-ar", "48000"]
        else:
            args += ["-an"]
        args += ["-t", str(request.duration), "-movflags", "+faststart", "-f", "mp4"]
        args.append(str(output))
        return args


def _digest(request: VideoRequest) -> bytes:
    digest = hashlib.sha256()
    parts = (request.prompt, request.size, str(request.duration), request.model)
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    digest.update(b"A" if request.has_audio else b"-")
    digest.update(b"E" if request.enhance_prompt else b"-")
    if request.source_image is not None:
        digest.update(str(request.source_image).encode("utf-8"))
    return digest.digest()


def _write_still(request: VideoRequest, target: Path, pixels: tuple[int, int]) -> None:
    if request.source_image is None:
        card_request = CardText(
            prompt=request.prompt,
            size=request.size,
            model=request.model,
            enhance_prompt=request.enhance_prompt,
        )
        card = render_card(card_request, pixels=pixels, margin=_SAFE_MARGIN)
        card.image.save(target, format="PNG")
        return
    try:
        with Image.open(request.source_image) as opened:
            source = ImageOps.exif_transpose(opened).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ProviderError("the source image could not be read") from exc
    ImageOps.fit(source, pixels, Image.Resampling.LANCZOS).save(target, format="PNG")

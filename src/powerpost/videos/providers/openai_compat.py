"""Video provider for any server that speaks the OpenAI Videos API (Sora-style jobs).

`POST {base}/videos` starts a job (JSON, or multipart with an `input_reference` image when
the request has a source image) and answers `{id, status}`; `GET {base}/videos/{id}` is
polled until `completed` or `failed`; `GET {base}/videos/{id}/content` streams the MP4 into
the workdir, where ffprobe reports what it really is.

The API renders only 4, 8 or 12 seconds (`seconds` is the string "4", "8" or "12"), while
the PowerPost models promise 4|8 (veo) and 5|10 (kling, runway). A job therefore asks for the
shortest allowed length that covers the request and the downloaded clip is cut to the exact
requested duration: re-encoded (H.264 + AAC) so the cut lands on the frame, not on the
nearest keyframe. A clip that already has the requested length is kept as delivered.

The API has no audio switch (Sora always scores its clips), so a clip that arrives with
sound for a request without `has_audio` has its audio track removed (a stream copy when no
cut is needed, dropped in the same pass otherwise); a clip that arrives silent is reported
silent. A clip shorter than asked is reported as it is: the video job refuses it.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from PIL import Image, ImageOps

from powerpost.kit.ffmpeg import ToolFailed, ToolMissing, ffmpeg_exe, input_url, probe, run_tool
from powerpost.kit.openai_http import OpenAICompatProvider, Sleep
from powerpost.kit.providers import ENHANCE_SUFFIX, vendor_text
from powerpost.videos.providers.base import (
    ProviderError,
    RenderedVideo,
    VideoRequest,
    VideoSize,
    rendered_video_from_probe,
)

log = logging.getLogger("powerpost.videos")

OPENAI_VIDEO_SIZES: dict[VideoSize, tuple[int, int]] = {
    "landscape": (1280, 720),
    "portrait": (720, 1280),
}
# the only `seconds` values the Videos API accepts (sora-2 and sora-2-pro alike)
UPSTREAM_SECONDS: tuple[int, ...] = (4, 8, 12)
# a clip within this of the requested length is kept as delivered: re-encoding to shave off
# a frame's worth would only cost quality
_TRIM_SLACK = 0.05
_FAILED_STATUSES = frozenset({"failed", "cancelled", "canceled", "expired"})
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_-]")
_CHUNK = 1 << 20


class OpenAIVideoProvider(OpenAICompatProvider):
    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        api_key: str,
        model_map: Mapping[str, str],
        timeout: float,
        max_retries: int,
        *,
        poll_interval: float = 5.0,
        deadline: float = 900.0,
        max_download_bytes: int = 1 << 30,
        backoff_base: float = 0.5,
        max_retry_after: float = 60.0,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            client,
            base_url,
            api_key,
            model_map,
            timeout,
            max_retries,
            backoff_base=backoff_base,
            max_retry_after=max_retry_after,
            sleep=sleep,
        )
        self._poll_interval = poll_interval
        self._deadline = deadline
        self._max_download_bytes = max_download_bytes
        self._sleep = sleep
        self._clock = clock

    async def generate(self, request: VideoRequest, workdir: Path) -> RenderedVideo:
        upstream = self._upstream(request.model)
        upstream_seconds(request.duration)  # refuse an impossible length before any call
        started = self._clock()
        job = await self._create(request, upstream)
        job_id = job.get("id")
        if not isinstance(job_id, str) or not job_id:
            raise ProviderError("the provider did not return a video job id")
        await self._wait(job_id, job, started)
        path = await self._download(job_id, workdir)
        return await asyncio.to_thread(_finish, path, request)

    async def _create(self, request: VideoRequest, upstream: str) -> dict[str, Any]:
        width, height = OPENAI_VIDEO_SIZES[request.size]
        fields = {
            "model": upstream,
            "prompt": _prompt(request),
            "seconds": str(upstream_seconds(request.duration)),
            "size": f"{width}x{height}",
        }
        url = f"{self._base_url}/videos"
        if request.source_image is not None:
            reference = await asyncio.to_thread(
                _reference_jpeg, request.source_image, (width, height)
            )
            files = {"input_reference": ("reference.jpg", reference, "image/jpeg")}

            def build() -> httpx.Request:
                return self._client.build_request(
                    "POST",
                    url,
                    data=fields,
                    files=files,
                    headers=self._headers(),
                    timeout=self._timeout,
                )

        else:

            def build() -> httpx.Request:
                return self._client.build_request(
                    "POST", url, json=fields, headers=self._headers(), timeout=self._timeout
                )

        response = await self._send(build, what="the video generation request")
        return _json_object(response)

    async def _wait(self, job_id: str, job: dict[str, Any], started: float) -> None:
        url = f"{self._base_url}/videos/{quote(job_id, safe='')}"
        while True:
            status = str(job.get("status") or "")
            if status == "completed":
                return
            if status in _FAILED_STATUSES:
                error = job.get("error")
                message = error.get("message") if isinstance(error, dict) else None
                reason = vendor_text(message) if isinstance(message, str) else ""
                raise ProviderError(f"video generation {status}: {reason or 'no reason given'}")
            remaining = self._deadline - (self._clock() - started)
            if remaining <= 0:
                raise ProviderError(
                    f"video generation did not finish within {self._deadline:g} s "
                    f"(last status: {status or 'unknown'})",
                    retryable=True,
                )
            # the last wait is cut short so one final poll lands on the deadline
            await self._sleep(min(self._poll_interval, remaining))
            response = await self._send(
                lambda: self._client.build_request(
                    "GET", url, headers=self._headers(), timeout=self._timeout
                ),
                what="polling the video job",
            )
            job = _json_object(response)

    async def _download(self, job_id: str, workdir: Path) -> Path:
        url = f"{self._base_url}/videos/{quote(job_id, safe='')}/content"
        target = workdir / f"openai-{_SAFE_NAME.sub('_', job_id)[:80]}.mp4"
        await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
        response = await self._send(
            lambda: self._client.build_request(
                "GET", url, headers=self._headers(), timeout=self._timeout
            ),
            what="downloading the video",
            stream=True,
        )
        received = 0
        try:
            handle = await asyncio.to_thread(target.open, "wb")
            try:
                async for chunk in response.aiter_bytes(_CHUNK):
                    received += len(chunk)
                    if received > self._max_download_bytes:
                        raise ProviderError("the provider's video is larger than allowed")
                    await asyncio.to_thread(handle.write, chunk)
            finally:
                await asyncio.to_thread(handle.close)
        except httpx.HTTPError as exc:
            await asyncio.to_thread(target.unlink, missing_ok=True)
            raise ProviderError("the video download was interrupted", retryable=True) from exc
        except ProviderError:
            await asyncio.to_thread(target.unlink, missing_ok=True)
            raise
        finally:
            await response.aclose()
        if received == 0:
            await asyncio.to_thread(target.unlink, missing_ok=True)
            raise ProviderError("the provider returned an empty video")
        return target


def upstream_seconds(duration: int) -> int:
    """The shortest length the API renders that covers `duration` (cut down afterwards)."""
    for seconds in UPSTREAM_SECONDS:
        if seconds >= duration:
            return seconds
    raise ProviderError(
        f"the OpenAI Videos API renders at most {UPSTREAM_SECONDS[-1]} s; "
        f"{duration} s was requested"
    )


def _prompt(request: VideoRequest) -> str:
    prompt = request.prompt.strip()
    return f"{prompt}\n\n{ENHANCE_SUFFIX}" if request.enhance_prompt else prompt


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise ProviderError("the provider answered with a body that is not JSON") from exc
    if not isinstance(body, dict):
        raise ProviderError("the provider answered with JSON that is not an object")
    return body


def _reference_jpeg(path: Path, pixels: tuple[int, int]) -> bytes:
    # the API wants the reference at exactly the requested video size
    try:
        with Image.open(path) as opened:
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ProviderError("the source image could not be read") from exc
    buffer = io.BytesIO()
    ImageOps.fit(image, pixels, Image.Resampling.LANCZOS).save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def _finish(path: Path, request: VideoRequest) -> RenderedVideo:
    try:
        delivered = rendered_video_from_probe(path, probe(path))
        too_long = delivered.duration_seconds - request.duration > _TRIM_SLACK
        unwanted_audio = delivered.has_audio and not request.has_audio
        if not too_long and not unwanted_audio:
            return delivered
        if too_long:
            target = path.with_name(f"{path.stem}-{request.duration}s.mp4")
            args = _cut_args(path, target, request.duration, keep_audio=request.has_audio)
            # a re-encode is CPU bound: allow generously more than real time
            timeout = 60.0 + 15.0 * request.duration
        else:
            target = path.with_name(path.stem + "-silent.mp4")
            args = _strip_audio_args(path, target)
            timeout = 120.0
        try:
            run_tool(args, timeout=timeout)
        except ToolFailed:
            target.unlink(missing_ok=True)
            raise
        path.unlink(missing_ok=True)
        path = target
        return rendered_video_from_probe(target, probe(target))
    except ToolMissing as exc:
        # the install hint is for the operator's log, not the client
        log.error("openai video: %s", exc)
        raise ProviderError("ffmpeg is not available on the server") from exc
    except ToolFailed as exc:
        path.unlink(missing_ok=True)
        raise ProviderError("the provider's video could not be read") from exc
    except ProviderError:
        path.unlink(missing_ok=True)
        raise


def _cut_args(source: Path, target: Path, duration: int, *, keep_audio: bool) -> list[str]:
    args = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
    args += ["-i", input_url(source), "-map", "0:v:0"]
    args += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p"]
    if keep_audio:
        # `?`: a silent clip stays silent instead of failing the cut
        args += ["-map", "0:a:0?", "-c:a", "aac", "-b:a", "192k"]
    else:
        args += ["-an"]
    args += ["-t", str(duration), "-movflags", "+faststart", "-f", "mp4", str(target)]
    return args


def _strip_audio_args(source: Path, target: Path) -> list[str]:
    args = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
    args += ["-i", input_url(source), "-map", "0:v:0", "-c", "copy", "-an"]
    args += ["-movflags", "+faststart", "-f", "mp4", str(target)]
    return args

"""The `video.generate` job: render with the configured provider, store the MP4, settle.

Safe to run twice: the file is stored and the generation completed in one fenced
transaction, so a retry either finds the generation finished or starts from scratch in a
fresh scratch directory.

Before anything is stored the file is probed here, whatever the provider claims: a clip
whose length is off by more than `DURATION_TOLERANCE`, or whose audio does not match
`has_audio`, fails the job and is refunded rather than sold as what was asked for (§6.9
shows `duration` and `has_audio` as requested, so they must be true of the file).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from contextlib import AsyncExitStack
from pathlib import Path

from powerpost.jobs import JobContext, JobError, PermanentJobError, register
from powerpost.kit.errors import AppError
from powerpost.kit.ffmpeg import ToolFailed, ToolMissing, probe
from powerpost.kit.providers import client_message, provider_failure
from powerpost.media.service import add_staged, generated_media, open_local
from powerpost.media.storage import Storage, shared_storage
from powerpost.models import Media, VideoGeneration
from powerpost.videos import repository, service
from powerpost.videos.providers import registry
from powerpost.videos.providers.base import (
    ProviderError,
    RenderedVideo,
    VideoRequest,
    VideoSize,
    rendered_video_from_probe,
)

# seconds; a little over two frames at 24 fps, far under any length the models differ by
DURATION_TOLERANCE = 0.1
# how failures are worded for the client (`kit.providers.client_message`)
SUBJECT = "the video"


@register(service.JOB_KIND)
class GenerateVideo:
    # The OpenAI-compatible provider waits up to 15 minutes for the vendor's render.
    timeout = 1800.0

    async def run(self, ctx: JobContext) -> None:
        generation_id = ctx.subject_id or ""
        async with ctx.db.read() as session:
            generation = await repository.get(session, generation_id)
            source: Media | None = None
            if generation is not None and generation.source_media_id is not None:
                source = await repository.live_media(session, generation.source_media_id)
                if source is None:
                    raise PermanentJobError(
                        "the source image was deleted before the job ran", code=service.ERROR_CODE
                    )
        if generation is None or generation.status in service.FINISHED:
            async with ctx.transaction() as session:
                await ctx.finish(session)
            return

        storage = shared_storage(ctx.state, ctx.settings)
        workdir = storage.tmp_dir / f"video-{generation.id}-{ctx.attempt}"
        try:
            rendered = await self._render(ctx, storage, generation, source, workdir)
            mismatch = await asyncio.to_thread(
                delivery_mismatch, rendered.path, generation.duration, generation.has_audio
            )
            if mismatch is not None:
                # final: a retry would pay the vendor again for a render no likelier to fit
                raise PermanentJobError(mismatch, code=service.ERROR_CODE)
            try:
                async with (
                    generated_media(
                        ctx.db,
                        storage,
                        account_id=generation.account_id,
                        workspace_id=generation.workspace_id,
                        mode=generation.mode,
                        path=rendered.path,
                        declared="video",
                        file_name=f"video-{generation.id[:8]}.mp4",
                    ) as media,
                    ctx.transaction() as session,
                ):
                    await add_staged(session, media)
                    await service.succeed(session, ctx.settings, generation.id, media)
                    await ctx.finish(session)
            except AppError as exc:
                # Refused by inspection, too large or over the storage quota: retrying
                # the same render cannot help.
                raise PermanentJobError(exc.message, code=service.ERROR_CODE) from exc
        finally:
            await asyncio.to_thread(shutil.rmtree, workdir, True)

    async def _render(
        self,
        ctx: JobContext,
        storage: Storage,
        generation: VideoGeneration,
        source: Media | None,
        workdir: Path,
    ) -> RenderedVideo:
        async with AsyncExitStack() as stack:
            source_path: Path | None = None
            if source is not None:
                source_path = await stack.enter_async_context(open_local(storage, source))
            size: VideoSize = "portrait" if generation.size == "portrait" else "landscape"
            request = VideoRequest(
                prompt=generation.prompt,
                size=size,
                duration=generation.duration,
                model=generation.model,
                has_audio=generation.has_audio,
                enhance_prompt=generation.enhance_prompt,
                source_image=source_path,
            )
            try:
                provider = registry.provider_for(ctx.settings, ctx.http, generation.mode)
                return await provider.generate(request, workdir)
            except ProviderError as exc:
                raise provider_failure(exc, code=service.ERROR_CODE) from exc

    async def on_failure(self, ctx: JobContext, error: JobError) -> None:
        async with ctx.transaction() as session:
            message = client_message(error, code=service.ERROR_CODE, subject=SUBJECT)
            await service.fail(session, ctx.settings, ctx.subject_id or "", message)
            await ctx.finish(session)


def delivery_mismatch(path: Path, duration: int, has_audio: bool) -> str | None:
    """Why the file at `path` is not the `duration`-second clip asked for, or None.

    Both the container's length (what §6.9 reports) and the picture's own length are
    measured: a short picture padded out by a longer soundtrack is still a short video.
    """
    try:
        info = probe(path)
        video = rendered_video_from_probe(path, info)
    except ToolMissing:
        # the install hint in the exception is for the operator, not the client
        return "the video could not be checked: ffprobe is not available on the server"
    except ToolFailed:
        return "the provider's file could not be read as a video"
    except ProviderError as exc:
        return str(exc)
    lengths = [video.duration_seconds]
    container = (info.get("format") or {}).get("duration")
    # no readable container length: the picture's own length stands alone
    if isinstance(container, str | int | float):
        with contextlib.suppress(ValueError):
            lengths.append(float(container))
    worst = max(lengths, key=lambda length: abs(length - duration))
    if abs(worst - duration) > DURATION_TOLERANCE:
        return f"the provider delivered a {worst:.2f} s video for a {duration} s request"
    if has_audio and not video.has_audio:
        return "audio was requested but the provider's video has no audio track"
    if not has_audio and video.has_audio:
        return "a silent video was requested but the provider's video has an audio track"
    return None

"""The `image.generate` job: render with the configured provider, store, settle.

Safe to run twice. Each good picture is stored (media row, quota, files) together with its
outcome row in one fenced transaction, so a retry after a crash skips the positions that
already have a picture; the conclusion (status, settlement, webhook event) commits with
the job's completion and happens once.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path
from typing import cast

from powerpost.images import repository, service
from powerpost.images.providers import registry
from powerpost.images.providers.base import (
    ImageRequest,
    ImageResult,
    ImageSize,
    ProviderError,
    ReferenceImage,
)
from powerpost.jobs import JobContext, JobError, PermanentJobError, register
from powerpost.kit.clock import utcnow
from powerpost.kit.errors import AppError, NotFound
from powerpost.kit.ids import new_id
from powerpost.kit.providers import client_message, provider_failure
from powerpost.media.service import (
    add_staged,
    generated_media,
    get_workspace_media,
    open_local,
)
from powerpost.media.storage import Storage, shared_storage
from powerpost.models import ImageGeneration, ImageGenerationImage, Media

_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
# how failures are worded for the client (`kit.providers.client_message`)
SUBJECT = "the images"


@register(service.JOB_KIND)
class GenerateImages:
    # Four pictures from a slow vendor, with its retries, fit well inside this.
    timeout = 600.0

    async def run(self, ctx: JobContext) -> None:
        generation_id = ctx.subject_id or ""
        async with ctx.db.read() as session:
            generation = await repository.get(session, generation_id)
            outcomes = await repository.outcomes(session, generation_id)
            styles: list[Media] = []
            if generation is not None and generation.status not in service.FINISHED:
                try:
                    styles = await get_workspace_media(
                        session,
                        generation.workspace_id,
                        generation.mode,
                        list(generation.style_media_ids),
                    )
                except NotFound:
                    raise PermanentJobError(
                        "a style image was deleted before the job ran", code=service.ERROR_CODE
                    ) from None
        if generation is None or generation.status in service.FINISHED:
            async with ctx.transaction() as session:
                await ctx.finish(session)
            return

        stored = {o.position for o in outcomes if o.media_id is not None}
        missing = [p for p in range(generation.quantity) if p not in stored]
        failures: dict[int, str] = {}
        if missing:
            storage = shared_storage(ctx.state, ctx.settings)
            results = await self._render(ctx, storage, generation, styles)
            by_position = {r.index: r for r in results}
            for position in missing:
                result = by_position.get(position)
                reason = await self._store(ctx, storage, generation, position, result)
                if reason is not None:
                    failures[position] = reason

        async with ctx.transaction() as session:
            await service.conclude(session, ctx.settings, generation_id, failures)
            await ctx.finish(session)

    async def _render(
        self,
        ctx: JobContext,
        storage: Storage,
        generation: ImageGeneration,
        styles: list[Media],
    ) -> list[ImageResult]:
        async with AsyncExitStack() as stack:
            references: list[ReferenceImage] = []
            for media in styles:
                path: Path = await stack.enter_async_context(open_local(storage, media))
                references.append(ReferenceImage(path=path, mime_type=media.mime_type))
            request = ImageRequest(
                prompt="" if generation.prompt_from_caption else generation.prompt,
                # validated against the same Literal when the job was started
                size=cast(ImageSize, generation.size),
                model=generation.model,
                quantity=generation.quantity,
                enhance_prompt=generation.enhance_prompt,
                references=tuple(references),
                caption=generation.caption,
            )
            try:
                provider = registry.provider_for(ctx.settings, ctx.http, generation.mode)
                return await provider.generate(request)
            except ProviderError as exc:
                raise provider_failure(exc, code=service.ERROR_CODE) from exc

    async def _store(
        self,
        ctx: JobContext,
        storage: Storage,
        generation: ImageGeneration,
        position: int,
        result: ImageResult | None,
    ) -> str | None:
        """Store one picture with its outcome row; the reason it failed, or None."""
        if result is None:
            return "the provider returned no picture for this position"
        if result.image is None:
            return result.error or "the provider could not produce this picture"
        extension = _EXTENSIONS.get(result.image.mime_type, "png")
        try:
            async with (
                generated_media(
                    ctx.db,
                    storage,
                    account_id=generation.account_id,
                    workspace_id=generation.workspace_id,
                    mode=generation.mode,
                    data=result.image.data,
                    declared="image",
                    file_name=f"image-{generation.id[:8]}-{position + 1}.{extension}",
                ) as media,
                ctx.transaction() as session,
            ):
                await add_staged(session, media)
                session.add(
                    ImageGenerationImage(
                        id=new_id(),
                        image_generation_id=generation.id,
                        position=position,
                        media_id=media.id,
                        error=None,
                        created_at=utcnow(),
                    )
                )
        except AppError as exc:
            # The picture itself was refused (not an image, too large, quota full):
            # it fails alone and is refunded with the others that failed.
            ctx.log.warning("image %s #%s not stored: %s", generation.id, position, exc.message)
            return exc.message
        return None

    async def on_failure(self, ctx: JobContext, error: JobError) -> None:
        async with ctx.transaction() as session:
            generation = await repository.get(session, ctx.subject_id or "")
            if generation is not None:
                message = client_message(error, code=service.ERROR_CODE, subject=SUBJECT)
                failures = dict.fromkeys(range(generation.quantity), message)
                await service.conclude(session, ctx.settings, generation.id, failures)
            await ctx.finish(session)

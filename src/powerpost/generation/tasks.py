"""The `caption.generate` job: gather the material, call the provider, settle.

Safe to run twice: a generation that already finished is left alone, and the conclusion
(status, settlement or refund, webhook event) commits with the job's completion in one
fenced transaction, guarded so that it happens once.

Source URLs are fetched with the SSRF-safe fetcher (every hop re-checked, every address
checked at connect time). A source that cannot be used is not charged: the settlement
captures the price less one source credit for each. `deep` research reads more of each
page and more pages than `regular`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from powerpost.generation import repository, service, styles
from powerpost.generation.fitting import UnfitCaption, fit_outputs
from powerpost.generation.providers import registry
from powerpost.generation.providers.base import (
    CaptionOutputs,
    CaptionRequest,
    MediaInput,
    ProviderError,
    SourceDoc,
)
from powerpost.jobs import JobContext, JobError, PermanentJobError, register
from powerpost.kit.errors import NotFound
from powerpost.kit.netguard import Resolver
from powerpost.kit.providers import client_message, provider_failure
from powerpost.kit.safe_fetch import FetchedPage, FetchFailed, build_fetch_client, fetch_page
from powerpost.media.service import get_workspace_media, open_local
from powerpost.media.storage import ObjectNotFound, Storage, shared_storage
from powerpost.models import Generation, Media

# ctx.state key: for tests or unusual networks, the DNS resolver the source fetcher uses.
RESOLVER_STATE = "generation.source_resolver"
# how failures are worded for the client (`kit.providers.client_message`)
SUBJECT = "the captions"


@dataclass(frozen=True)
class ResearchProfile:
    max_sources: int
    chars_per_source: int
    fetch_timeout: float
    max_bytes: int


RESEARCH: dict[str, ResearchProfile] = {
    "regular": ResearchProfile(
        max_sources=5, chars_per_source=4_000, fetch_timeout=10.0, max_bytes=2_000_000
    ),
    "deep": ResearchProfile(
        max_sources=10, chars_per_source=20_000, fetch_timeout=15.0, max_bytes=5_000_000
    ),
}


# --- sources ----------------------------------------------------------------------------------


async def _fetch(
    client: httpx.AsyncClient, url: str, ctx: JobContext, profile: ResearchProfile
) -> FetchedPage | FetchFailed:
    try:
        return await fetch_page(
            client,
            url,
            service.source_policy(ctx.settings),
            max_bytes=profile.max_bytes,
            timeout=profile.fetch_timeout,
            max_chars=profile.chars_per_source,
        )
    except FetchFailed as exc:
        return exc
    except Exception as exc:
        ctx.log.warning("source %s could not be read", url, exc_info=True)
        return FetchFailed(url, f"the page could not be read ({type(exc).__name__})")


async def gather_sources(
    ctx: JobContext, urls: Sequence[str], profile: ResearchProfile
) -> tuple[list[SourceDoc], list[dict[str, str]]]:
    """(usable pages in request order, [{url, reason}] for every URL not used)."""
    if not urls:
        return [], []
    resolver: Resolver | None = ctx.state.get(RESOLVER_STATE)
    async with build_fetch_client(service.source_policy(ctx.settings), resolver) as client:
        results = await asyncio.gather(*(_fetch(client, url, ctx, profile) for url in urls))
    docs: list[SourceDoc] = []
    unused: list[dict[str, str]] = []
    for url, result in zip(urls, results, strict=True):
        if isinstance(result, FetchFailed):
            unused.append({"url": url, "reason": result.reason})
        elif len(docs) >= profile.max_sources:
            unused.append(
                {
                    "url": url,
                    "reason": f"regular research uses at most {profile.max_sources} sources; "
                    "deep research uses them all",
                }
            )
        else:
            docs.append(SourceDoc(url=url, title=result.title, text=result.text))
    return docs, unused


# --- media ------------------------------------------------------------------------------------


async def _media_input(stack: AsyncExitStack, storage: Storage, media: Media) -> MediaInput:
    try:
        path: Path = await stack.enter_async_context(open_local(storage, media))
    except ObjectNotFound:
        raise PermanentJobError(
            f"The file of media '{media.id}' is missing from storage", code=service.ERROR_CODE
        ) from None
    return MediaInput(
        kind="video" if media.kind == "video" else "image",
        path=path,
        mime_type=media.mime_type,
        file_name=media.file_name,
        width=media.width,
        height=media.height,
        duration_seconds=media.duration_seconds,
        dominant_colors=tuple(media.dominant_colors or ()),
    )


# --- outputs ----------------------------------------------------------------------------------


def check_outputs(outputs: CaptionOutputs, platforms: Sequence[str]) -> dict[str, Any]:
    """The provider's captions for exactly the requested platforms, fitted to each
    platform's rules (hashtag caps, YouTube's refused characters) and within its limits."""
    try:
        return dict(fit_outputs(outputs, platforms))
    except UnfitCaption as exc:
        raise _bad_output(str(exc)) from None


def _bad_output(problem: str) -> PermanentJobError:
    return PermanentJobError(
        f"The caption provider returned unusable captions: {problem}", code=service.ERROR_CODE
    )


# --- the job ----------------------------------------------------------------------------------


@register(service.JOB_KIND)
class GenerateCaptions:
    # Ten slow sources, a video's frames and transcript, and a slow model with its own
    # retries fit well inside this.
    timeout = 900.0

    async def run(self, ctx: JobContext) -> None:
        generation_id = ctx.subject_id or ""
        media: list[Media] = []
        async with ctx.db.read() as session:
            generation = await repository.get_generation(session, generation_id)
            if generation is not None and generation.status not in service.FINISHED:
                try:
                    media = await get_workspace_media(
                        session,
                        generation.workspace_id,
                        generation.mode,
                        list(generation.media_ids or []),
                    )
                except NotFound:
                    raise PermanentJobError(
                        "The media was deleted before the captions were written",
                        code=service.ERROR_CODE,
                    ) from None
        if generation is None or generation.status in service.FINISHED:
            async with ctx.transaction() as session:
                await ctx.finish(session)
            return

        profile = RESEARCH.get(generation.research_mode, RESEARCH["regular"])
        sources, unused = await gather_sources(ctx, list(generation.source_urls or []), profile)
        outputs = await self._write(ctx, generation, media, sources)
        async with ctx.transaction() as session:
            await service.complete(
                session,
                generation_id,
                outputs,
                source_failures=unused,
                per_source_url=_int(ctx.payload.get("per_source_url")),
            )
            await ctx.finish(session)

    async def _write(
        self,
        ctx: JobContext,
        generation: Generation,
        media: Sequence[Media],
        sources: Sequence[SourceDoc],
    ) -> dict[str, Any]:
        if not (generation.prompt or media or sources):
            raise PermanentJobError(
                "None of the source URLs could be used and there is no prompt or media "
                "to write about",
                code=service.ERROR_CODE,
            )
        storage = shared_storage(ctx.state, ctx.settings)
        async with AsyncExitStack() as stack:
            inputs = [await _media_input(stack, storage, m) for m in media]
            request = CaptionRequest(
                platforms=tuple(generation.platforms),
                research_mode="deep" if generation.research_mode == "deep" else "regular",
                prompt=generation.prompt,
                cta_text=generation.cta_text,
                sources=tuple(sources),
                media=tuple(inputs),
                style=styles.from_snapshot(ctx.payload.get("style")),
                post_types=tuple(generation.post_types or ()),
            )
            try:
                provider = registry.provider_for(ctx.settings, ctx.http, generation.mode)
                outputs = await provider.write_captions(request)
            except ProviderError as exc:
                raise provider_failure(exc, code=service.ERROR_CODE) from exc
        return check_outputs(outputs, request.platforms)

    async def on_failure(self, ctx: JobContext, error: JobError) -> None:
        async with ctx.transaction() as session:
            message = client_message(error, code=service.ERROR_CODE, subject=SUBJECT, sentence=True)
            await service.fail(session, ctx.subject_id or "", message)
            await ctx.finish(session)


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0

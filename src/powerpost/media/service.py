"""The media library: accept files (uploads and generated), account for quota, serve, delete.

The quota is counted in the account row (`storage_used_bytes`) and only ever changed by
guarded single statements, so concurrent uploads cannot overshoot it and a deletion gives
bytes back exactly once. Every path that fails after the reservation returns it and removes
whatever it already wrote: a failed upload leaves no object, no row and no quota used.
"""

from __future__ import annotations

import asyncio
import logging
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.kit.clock import utcnow
from powerpost.kit.db import Database
from powerpost.kit.errors import (
    InternalError,
    NotFound,
    PayloadTooLarge,
    StorageQuotaExceeded,
    ValidationError,
)
from powerpost.kit.ffmpeg import ToolFailed, ToolMissing
from powerpost.kit.ids import new_id, parse_uuid
from powerpost.media import repository
from powerpost.media.inspect import MediaFacts, MediaKind, MediaRejected, inspect_file
from powerpost.media.inspect import make_thumbnail as _make_thumbnail
from powerpost.media.signing import Variant
from powerpost.media.storage import Storage
from powerpost.models import Media

__all__ = [
    "MAX_BYTES",
    "MediaFile",
    "add_staged",
    "create_upload",
    "delete_media",
    "discard_staged",
    "facts_of",
    "file_for",
    "generated_media",
    "get_workspace_media",
    "list_media",
    "open_local",
    "quota_usage",
    "sanitize_file_name",
    "too_large",
]

log = logging.getLogger("powerpost.media")

MB = 1024 * 1024
# Read at call time (tests lower them with monkeypatch.setitem).
MAX_BYTES: dict[MediaKind, int] = {"image": 10 * MB, "video": 500 * MB}
THUMBNAIL_SIDE = 480
MAX_FILE_NAME = 255


def too_large(kind: MediaKind) -> PayloadTooLarge:
    limit = MAX_BYTES[kind]
    size = f"{limit / MB:g} MB" if limit >= MB else f"{limit:,} bytes"
    return PayloadTooLarge(f"The {kind} is larger than the {size} limit for {kind} uploads")


def sanitize_file_name(raw: str | None) -> str:
    """A display name from a client: no directories, no control or bidi characters."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    # Category C covers controls, format characters (U+202E reordering tricks among
    # them), surrogates and unassigned code points.
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C")).strip()
    if len(name) > MAX_FILE_NAME:
        stem, dot, ext = name.rpartition(".")
        if dot and stem and 0 < len(ext) <= 16:
            name = stem[: MAX_FILE_NAME - len(ext) - 1].rstrip() + "." + ext
        else:
            name = name[:MAX_FILE_NAME].rstrip()
    return name or "upload"


# --- accepting files ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Prepared:
    facts: MediaFacts
    size: int
    thumbnail: Path
    thumbnail_size: tuple[int, int]


@asynccontextmanager
async def _prepared(
    storage: Storage, source: Path, declared: MediaKind
) -> AsyncIterator[_Prepared]:
    """Judge the bytes and render the thumbnail into scratch space (removed afterwards)."""
    size = (await asyncio.to_thread(source.stat)).st_size
    if size > MAX_BYTES[declared]:
        raise too_large(declared)
    try:
        facts = await asyncio.to_thread(inspect_file, source, declared)
    except MediaRejected as exc:
        raise ValidationError(str(exc)) from None
    except ToolMissing as exc:
        log.error("media inspection impossible: %s", exc)
        raise InternalError("Video processing is not available on this server") from None
    thumbnail = await asyncio.to_thread(storage.new_temp_path, ".jpg")
    try:
        try:
            thumbnail_size = await asyncio.to_thread(
                _make_thumbnail, source, facts, thumbnail, max_side=THUMBNAIL_SIDE
            )
        except ToolFailed:
            raise ValidationError("The video could not be decoded.") from None
        except ToolMissing as exc:
            log.error("thumbnail impossible: %s", exc)
            raise InternalError("Video processing is not available on this server") from None
        yield _Prepared(facts, size, thumbnail, thumbnail_size)
    finally:
        await asyncio.to_thread(thumbnail.unlink, True)


def _new_media(
    prep: _Prepared,
    *,
    account_id: str,
    workspace_id: str,
    mode: str,
    file_name: str,
    origin: str,
) -> Media:
    media_id = new_id()
    folder = f"{account_id}/{workspace_id}/{media_id}"
    facts = prep.facts
    return Media(
        id=media_id,
        account_id=account_id,
        workspace_id=workspace_id,
        mode=mode,
        kind=facts.kind,
        mime_type=facts.mime_type,
        file_name=sanitize_file_name(file_name),
        file_size=prep.size,
        width=facts.width,
        height=facts.height,
        duration_seconds=facts.duration_seconds,
        has_audio=facts.has_audio,
        dominant_colors=list(facts.dominant_colors),
        storage_key=f"{folder}/original.{facts.extension}",
        thumbnail_key=f"{folder}/thumbnail.jpg",
        thumbnail_width=prep.thumbnail_size[0],
        thumbnail_height=prep.thumbnail_size[1],
        origin=origin,
        created_at=utcnow(),
        deleted_at=None,
    )


async def _write_objects(storage: Storage, media: Media, source: Path, prep: _Prepared) -> None:
    await storage.put_file(media.storage_key, source, media.mime_type)
    if media.thumbnail_key is not None:
        await storage.put_file(media.thumbnail_key, prep.thumbnail, "image/jpeg")


async def _delete_objects(storage: Storage, keys: Iterable[str | None]) -> None:
    for key in keys:
        if key is None:
            continue
        try:
            await storage.delete(key)
        except Exception as exc:
            # The row is already gone or never existed; an orphaned object only costs disk.
            log.warning("could not delete media object %s: %s", key, type(exc).__name__)


async def _finish(work: Awaitable[None]) -> None:
    """Run clean-up to the end even if the request that started it is being cancelled."""
    await asyncio.shield(asyncio.ensure_future(work))


async def _stage(
    db: Database,
    storage: Storage,
    source: Path,
    *,
    account_id: str,
    workspace_id: str,
    mode: str,
    declared: MediaKind,
    file_name: str,
    origin: str,
) -> Media:
    """Inspect ``source``, reserve its quota and store its objects, each in its own short
    step, and return the media whose row is not written yet (see `add_staged`).

    The reservation row makes the quota and the objects findable if the process dies
    before the media row commits: the sweep gives them back (media/sweep.py).
    """
    async with _prepared(storage, source, declared) as prep:
        media = _new_media(
            prep,
            account_id=account_id,
            workspace_id=workspace_id,
            mode=mode,
            file_name=file_name,
            origin=origin,
        )
        async with db.write() as session:
            reserved = await repository.reserve_quota(session, account_id, prep.size)
            if reserved:
                repository.add_reservation(session, media.id, account_id, prep.size, utcnow())
        if not reserved:
            raise StorageQuotaExceeded(
                "This upload would exceed the account's storage quota; delete media to free space"
                if origin == "upload"
                else "The generated file would exceed the account's storage quota"
            )
        try:
            await _write_objects(storage, media, source, prep)
        except BaseException:
            await _finish(discard_staged(db, storage, media))
            raise
    return media


async def add_staged(session: AsyncSession, media: Media) -> None:
    """Write the row of staged media in the caller's transaction; its reservation becomes
    the row's share of the quota when that transaction commits."""
    if await repository.drop_reservation(session, media.id) is None:
        # The sweep judged this upload abandoned and gave its quota back.
        raise InternalError("Storing the file took too long; please try again")
    session.add(media)
    await session.flush()


async def discard_staged(db: Database, storage: Storage, media: Media) -> None:
    """Undo `_stage` unless the media row was committed: release the reservation (once)
    and remove the objects. Safe to call after success, where it changes nothing."""
    async with db.write() as session:
        dropped = await repository.drop_reservation(session, media.id)
        if dropped is not None:
            await repository.release_quota(session, *dropped)
        # Failing after the row was committed (a cancelled request) must not take the
        # files of a stored upload with it.
        stored = await repository.exists(session, media.id)
    if not stored:
        await _delete_objects(storage, (media.storage_key, media.thumbnail_key))


async def create_upload(
    db: Database,
    storage: Storage,
    *,
    account_id: str,
    workspace_id: str,
    mode: str,
    source: Path,
    declared: MediaKind,
    file_name: str,
) -> Media:
    """Accept a spooled upload: inspect, reserve quota, store, insert (origin=upload).

    Uses its own short transactions rather than the request's: on SQLite a write
    transaction held across ffprobe and a 500 MB copy would stall every other writer.
    """
    media = await _stage(
        db,
        storage,
        source,
        account_id=account_id,
        workspace_id=workspace_id,
        mode=mode,
        declared=declared,
        file_name=file_name,
        origin="upload",
    )
    try:
        async with db.write() as session:
            await add_staged(session, media)
    except BaseException:
        await _finish(discard_staged(db, storage, media))
        raise
    return media


@asynccontextmanager
async def generated_media(
    db: Database,
    storage: Storage,
    *,
    account_id: str,
    workspace_id: str,
    mode: str,
    data: bytes | None = None,
    path: Path | None = None,
    declared: MediaKind,
    file_name: str,
) -> AsyncIterator[Media]:
    """Stage a generated file (bytes, or a local file left in place) with the same
    inspection, size limit, quota and thumbnail as an upload, origin=generated.

    The slow work (probing, thumbnails, copying to storage) happens before the block and
    outside any transaction: a job's fenced transaction, which holds SQLite's write lock
    and PostgreSQL's row locks, then only has to `add_staged` the row. Whatever the block
    does not commit (it raised, lost its lease, or never added the row) is undone.
    """
    if (data is None) == (path is None):
        raise ValueError("generated_media needs exactly one of data and path")
    spooled: Path | None = None
    if path is None:
        spooled = await asyncio.to_thread(storage.new_temp_path)
        path = spooled
    try:
        if data is not None:
            await asyncio.to_thread(path.write_bytes, data)
        media = await _stage(
            db,
            storage,
            path,
            account_id=account_id,
            workspace_id=workspace_id,
            mode=mode,
            declared=declared,
            file_name=file_name,
            origin="generated",
        )
    finally:
        if spooled is not None:
            await asyncio.to_thread(spooled.unlink, True)
    try:
        yield media
    finally:
        await _finish(discard_staged(db, storage, media))


# --- reading --------------------------------------------------------------------------------


async def get_workspace_media(
    session: AsyncSession, workspace_id: str, mode: str, media_ids: list[str]
) -> list[Media]:
    """The live media of ``workspace_id`` in ``mode`` in the order asked for.

    Raises `NotFound` naming the first id that is unknown, deleted, of another workspace or
    of the other mode (all look the same from outside: no existence oracle across tenants,
    and a test key cannot tell which live media exist).
    """
    wanted = {canonical for raw in media_ids if (canonical := parse_uuid(raw)) is not None}
    found = {
        m.id: m for m in await repository.live_in_workspace(session, workspace_id, mode, wanted)
    }
    result: list[Media] = []
    for raw in media_ids:
        media = found.get(parse_uuid(raw) or "")
        if media is None:
            raise NotFound(f"Media '{raw[:64]}' not found")
        result.append(media)
    return result


@asynccontextmanager
async def open_local(storage: Storage, media: Media) -> AsyncIterator[Path]:
    """A local path holding the original, to process (read-only): the stored file itself
    for local storage, a temporary download for S3 (removed when the block ends)."""
    async with storage.local_file(media.storage_key) as path:
        yield path


def facts_of(media: Media) -> MediaFacts:
    """The inspection facts of a stored row, for `inspect.extract_key_frames` and the like."""
    extension = media.storage_key.rsplit(".", 1)[-1]
    return MediaFacts(
        kind="video" if media.kind == "video" else "image",
        mime_type=media.mime_type,
        extension=extension,
        width=media.width,
        height=media.height,
        duration_seconds=media.duration_seconds,
        has_audio=media.has_audio,
        video_codec=None,
        audio_codec=None,
        dominant_colors=tuple(media.dominant_colors or ()),
    )


async def list_media(
    session: AsyncSession,
    workspace_id: str,
    mode: str | None,
    *,
    limit: int = 60,
    offset: int = 0,
) -> tuple[list[Media], int]:
    """A page of live media in `mode` (None: either, for the person who owns both), newest
    first, and the total count."""
    rows = await repository.list_in_workspace(
        session, workspace_id, mode, limit=limit, offset=offset
    )
    return list(rows), await repository.count_in_workspace(session, workspace_id, mode)


async def quota_usage(session: AsyncSession, account_id: str) -> tuple[int, int]:
    """(bytes used, bytes allowed) of the account's media storage."""
    found = await repository.quota(session, account_id)
    if found is None:
        raise NotFound("Account not found")
    return found


@dataclass(frozen=True)
class MediaFile:
    key: str
    size: int
    content_type: str
    file_name: str


async def file_for(db: Database, storage: Storage, media_id: str, variant: Variant) -> MediaFile:
    """What a signed URL serves; `NotFound` for deleted media or a missing object.

    Opens its own short read: a long video stream must not pin a pooled connection.
    """
    canonical = parse_uuid(media_id)
    media = None
    if canonical is not None:
        async with db.read() as session:
            media = await repository.live_by_id(session, canonical)
    if media is None:
        raise NotFound("Media not found")
    if variant == "thumbnail":
        if media.thumbnail_key is None:
            raise NotFound("This media has no thumbnail")
        key, content_type = media.thumbnail_key, "image/jpeg"
        file_name = f"{Path(media.file_name).stem or 'thumbnail'}-thumbnail.jpg"
    else:
        key, content_type, file_name = media.storage_key, media.mime_type, media.file_name
    size = await storage.size(key)
    if size is None:
        log.warning("media %s has no stored %s object", media.id, variant)
        raise NotFound("Media not found")
    return MediaFile(key=key, size=size, content_type=content_type, file_name=file_name)


# --- deleting -------------------------------------------------------------------------------


async def delete_media(
    session: AsyncSession,
    storage: Storage,
    account_id: str,
    workspace_id: str,
    mode: str | None,
    media_id: str,
) -> None:
    """Soft-delete the row, give the quota back and remove the objects, exactly once.

    The guarded UPDATE hands the row to one caller only (the others wait on its lock and
    then see it deleted → `NotFound`). The objects are removed before the caller commits;
    should that commit fail the row would survive without its files, which is the lesser
    evil next to files that outlive their row and keep counting against nobody.
    """
    canonical = parse_uuid(media_id)
    deleted = None
    if canonical is not None:
        deleted = await repository.mark_deleted(
            session, account_id, workspace_id, mode, canonical, utcnow()
        )
    if deleted is None:
        raise NotFound("Media not found")
    await repository.release_quota(session, deleted.account_id, deleted.file_size)
    await _finish(_delete_objects(storage, (deleted.storage_key, deleted.thumbnail_key)))

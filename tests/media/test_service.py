"""The media service API other features call: lookup, generated media, local access, delete."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from tests.fixtures.factories import Factory, Tenant
from tests.media.support import (
    PE_BYTES,
    api_client,
    assert_nothing_left,
    files_under,
    image_bytes,
    media_rows,
    set_quota,
    storage_used,
)

from powerpost.kit.errors import NotFound, StorageQuotaExceeded, ValidationError
from powerpost.media import service
from powerpost.media.inspect import extract_key_frames
from powerpost.media.service import (
    add_staged,
    delete_media,
    facts_of,
    generated_media,
    get_workspace_media,
    open_local,
    sanitize_file_name,
)
from powerpost.models import Account, Media, MediaReservation
from powerpost.workspaces import service as workspaces


async def _upload(client: httpx.AsyncClient, factory: Factory) -> tuple[str, str, str, int]:
    """(account id, workspace id, media id, size) of one uploaded PNG."""
    api = await api_client(client, factory)
    content = image_bytes()
    response = await api.upload(content, "image", "a.png")
    assert response.status_code == 200, response.text
    return api.tenant.account_id, api.tenant.workspace_id, response.json()["media_id"], len(content)


# --- get_workspace_media --------------------------------------------------------------------


async def test_get_workspace_media_returns_rows_in_the_order_asked(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    api = await api_client(client, factory)
    ids = []
    for color in ("red", "blue"):
        response = await api.upload(image_bytes("PNG", color=color), "image", f"{color}.png")
        ids.append(response.json()["media_id"])
    async with app.state.db.read() as session:
        found = await get_workspace_media(
            session, api.tenant.workspace_id, "live", [ids[1], ids[0]]
        )
        assert [m.id for m in found] == [ids[1], ids[0]]
        upper = await get_workspace_media(
            session, api.tenant.workspace_id, "live", [ids[0].upper()]
        )
        assert [m.id for m in upper] == [ids[0]]
        assert await get_workspace_media(session, api.tenant.workspace_id, "live", []) == []


async def test_media_of_another_workspace_is_not_found(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    account_id, _, media_id, _ = await _upload(client, factory)
    # a second workspace of the same account, and a workspace of another account
    other_account = await factory.account()
    async with app.state.db.write() as session:
        workspace_b = (await workspaces.create_workspace(session, account_id, "B")).id
    for workspace in (workspace_b, other_account.workspace_id):
        async with app.state.db.read() as session:
            with pytest.raises(NotFound, match=media_id):
                await get_workspace_media(session, workspace, "live", [media_id])


async def test_unknown_malformed_and_deleted_ids_are_not_found(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    account_id, workspace_id, media_id, _ = await _upload(client, factory)
    async with app.state.db.read() as session:
        with pytest.raises(NotFound, match="'not-a-uuid'"):
            await get_workspace_media(session, workspace_id, "live", [media_id, "not-a-uuid"])
        with pytest.raises(NotFound, match="00000000-0000-4000-8000-000000000000"):
            await get_workspace_media(
                session, workspace_id, "live", ["00000000-0000-4000-8000-000000000000", media_id]
            )
    async with app.state.db.write() as session:
        await delete_media(session, app.state.storage, account_id, workspace_id, None, media_id)
    async with app.state.db.read() as session:
        with pytest.raises(NotFound):
            await get_workspace_media(session, workspace_id, "live", [media_id])


# --- generated media ------------------------------------------------------------------------


async def _store_generated(app: FastAPI, tenant: Tenant, **source: object) -> Media:
    """Stage a generated file and add its row in a transaction of the caller's own."""
    async with (
        generated_media(
            app.state.db,
            app.state.storage,
            account_id=tenant.account_id,
            workspace_id=tenant.workspace_id,
            mode="live",
            **source,  # type: ignore[arg-type]
        ) as media,
        app.state.db.write() as session,
    ):
        await add_staged(session, media)
    return media


async def test_generated_media_from_bytes(app: FastAPI, factory: Factory) -> None:
    tenant = await factory.account()
    content = image_bytes("WEBP", (200, 100))
    media = await _store_generated(
        app, tenant, data=content, declared="image", file_name="sunset.webp"
    )
    assert media.origin == "generated"
    assert (media.kind, media.mime_type, media.width, media.height) == (
        "image",
        "image/webp",
        200,
        100,
    )
    assert await storage_used(app, tenant.account_id) == len(content)
    assert await media_rows(app, tenant.account_id) == 1
    async with open_local(app.state.storage, media) as path:
        assert path.read_bytes() == content
    assert await app.state.storage.exists(media.thumbnail_key)
    assert files_under(app.state.settings.data_dir / "tmp") == []
    assert await reservations(app) == 0


async def test_generated_media_from_a_path_leaves_the_path(
    app: FastAPI, factory: Factory, videos: dict[str, Path]
) -> None:
    tenant = await factory.account()
    source = videos["silent"]
    media = await _store_generated(
        app, tenant, path=source, declared="video", file_name="generated.mp4"
    )
    assert source.exists()
    assert media.kind == "video"
    async with open_local(app.state.storage, media) as local:
        frames = await asyncio.to_thread(extract_key_frames, local, facts_of(media), 2)
    assert len(frames) == 2
    assert all(frame.startswith(b"\xff\xd8\xff") for frame in frames)
    assert media.has_audio is False
    assert media.duration_seconds == pytest.approx(2.0, abs=0.15)
    assert await storage_used(app, tenant.account_id) == source.stat().st_size


async def test_the_slow_work_happens_before_the_callers_transaction(
    app: FastAPI, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Probing and copying to storage must not run while a job holds its transaction
    (on SQLite that is the write lock of the whole database)."""
    tenant = await factory.account()
    in_transaction: list[bool] = []
    writing = {"open": False}
    real_write = service._write_objects

    async def watched_write(*args: object) -> None:
        in_transaction.append(writing["open"])
        await real_write(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "_write_objects", watched_write)
    async with generated_media(
        app.state.db,
        app.state.storage,
        account_id=tenant.account_id,
        workspace_id=tenant.workspace_id,
        mode="live",
        data=image_bytes(),
        declared="image",
        file_name="a.png",
    ) as media:
        async with app.state.db.write() as session:
            writing["open"] = True
            await add_staged(session, media)
        writing["open"] = False
    assert in_transaction == [False]
    assert await media_rows(app, tenant.account_id) == 1


async def test_generated_media_not_added_or_failed_leaves_nothing(
    app: FastAPI, factory: Factory
) -> None:
    tenant = await factory.account()
    storage = app.state.storage
    good = image_bytes("PNG", (40, 40))
    kept = await _store_generated(app, tenant, data=good, declared="image", file_name="k.png")
    with pytest.raises(ValidationError, match="not a JPEG, PNG or WebP"):
        await _store_generated(app, tenant, data=PE_BYTES, declared="image", file_name="e.png")
    await set_quota(app, tenant.account_id, len(good) + 10)
    with pytest.raises(StorageQuotaExceeded):
        await _store_generated(
            app,
            tenant,
            data=image_bytes("PNG", (60, 60), "blue"),
            declared="image",
            file_name="too-much.png",
        )
    await set_quota(app, tenant.account_id, 10**9)

    # The caller's transaction fails after the row was added: it is rolled back, and the
    # staged objects and quota go with it.
    async def lose_the_lease_after_adding() -> None:
        async with (
            generated_media(
                app.state.db,
                storage,
                account_id=tenant.account_id,
                workspace_id=tenant.workspace_id,
                mode="live",
                data=image_bytes("PNG", (30, 30), "green"),
                declared="image",
                file_name="rolled-back.png",
            ) as media,
            app.state.db.write() as session,
        ):
            await add_staged(session, media)
            raise RuntimeError("the job lost its lease")

    with pytest.raises(RuntimeError, match="the job lost its lease"):
        await lose_the_lease_after_adding()
    # The block that never adds the row at all: undone the same way.
    async with generated_media(
        app.state.db,
        storage,
        account_id=tenant.account_id,
        workspace_id=tenant.workspace_id,
        mode="live",
        data=image_bytes("PNG", (20, 20), "yellow"),
        declared="image",
        file_name="never-added.png",
    ):
        pass
    with pytest.raises(ValueError, match="exactly one"):
        async with generated_media(
            app.state.db,
            storage,
            account_id=tenant.account_id,
            workspace_id=tenant.workspace_id,
            mode="live",
            declared="image",
            file_name="nothing.png",
        ):
            pass
    assert await media_rows(app, tenant.account_id) == 1
    assert await storage_used(app, tenant.account_id) == len(good)
    assert await reservations(app) == 0
    stored = files_under(app.state.settings.data_dir / "media")
    assert {p.name for p in stored} == {"original.png", "thumbnail.jpg"}
    assert all(kept.id in str(p) for p in stored)
    assert files_under(app.state.settings.data_dir / "tmp") == []


async def reservations(app: FastAPI) -> int:
    async with app.state.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(MediaReservation)) or 0)


async def set_quota_in(session: AsyncSession, account_id: str, quota: int) -> None:
    await session.execute(
        update(Account).where(Account.id == account_id).values(storage_quota_bytes=quota)
    )


# --- delete ---------------------------------------------------------------------------------


async def test_delete_frees_quota_exactly_once_under_concurrent_deletes(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    account_id, workspace_id, media_id, size = await _upload(client, factory)
    assert await storage_used(app, account_id) == size
    # A second file keeps usage above zero: a double release would show.
    async with (
        generated_media(
            app.state.db,
            app.state.storage,
            account_id=account_id,
            workspace_id=workspace_id,
            mode="live",
            data=image_bytes("JPEG", (50, 50)),
            declared="image",
            file_name="extra.jpg",
        ) as extra,
        app.state.db.write() as session,
    ):
        await add_staged(session, extra)
    total = await storage_used(app, account_id)
    assert total == size + extra.file_size

    async def delete_once() -> bool:
        try:
            async with app.state.db.write() as session:
                await delete_media(
                    session, app.state.storage, account_id, workspace_id, None, media_id
                )
        except NotFound:
            return False
        return True

    outcomes = await asyncio.gather(*(delete_once() for _ in range(6)))
    assert sorted(outcomes) == [False] * 5 + [True]
    assert await storage_used(app, account_id) == extra.file_size
    async with app.state.db.read() as session:
        row = await session.scalar(select(Media).where(Media.id == media_id))
    assert row is not None
    assert row.deleted_at is not None
    remaining = files_under(app.state.settings.data_dir / "media")
    assert remaining
    assert all(extra.id in str(p) for p in remaining)


async def test_delete_checks_the_workspace(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    account_id, workspace_id, media_id, size = await _upload(client, factory)
    other = await factory.account()
    async with app.state.db.write() as session:
        with pytest.raises(NotFound):
            await delete_media(
                session, app.state.storage, other.account_id, other.workspace_id, None, media_id
            )
        with pytest.raises(NotFound):
            await delete_media(session, app.state.storage, account_id, workspace_id, None, "junk")
    assert await storage_used(app, account_id) == size
    assert await media_rows(app, account_id) == 1


async def test_delete_of_the_last_file_leaves_an_empty_library(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    account_id, workspace_id, media_id, _ = await _upload(client, factory)
    async with app.state.db.write() as session:
        await delete_media(session, app.state.storage, account_id, workspace_id, None, media_id)
    assert files_under(app.state.settings.data_dir / "media") == []
    assert await storage_used(app, account_id) == 0


async def test_failed_upload_state_helper_sees_a_clean_account(
    app: FastAPI, factory: Factory
) -> None:
    tenant = await factory.account()
    await set_quota(app, tenant.account_id, 1)
    await assert_nothing_left(app, tenant.account_id)


# --- names and limits -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, "upload"),
        ("", "upload"),
        ("   ", "upload"),
        ("photo.jpg", "photo.jpg"),
        ("C:\\Users\\me\\Desktop\\photo.jpg", "photo.jpg"),
        ("../../etc/passwd", "passwd"),
        ("bad\x00name\r\n.png", "badname.png"),
        ("e\u0301te\u0301.png", "\u00e9t\u00e9.png"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("a" * 300, "a" * 255),
        ("b" * 300 + ".jpeg", "b" * 250 + ".jpeg"),
    ],
)
def test_sanitize_file_name(raw: str | None, expected: str) -> None:
    assert sanitize_file_name(raw) == expected


def test_too_large_messages() -> None:
    assert service.too_large("image").message == (
        "The image is larger than the 10 MB limit for image uploads"
    )
    assert service.too_large("video").status_code == 413

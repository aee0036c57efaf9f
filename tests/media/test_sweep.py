"""The media sweep: quota of abandoned uploads, orphaned files and stale scratch entries."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from tests.fixtures.factories import Factory, Tenant
from tests.fixtures.processes import cli_json
from tests.media.support import api_client, files_under, image_bytes, storage_used

from powerpost.config import ConfigError, load_settings
from powerpost.kit.clock import utcnow
from powerpost.media import repository
from powerpost.media import service as media_service
from powerpost.media.storage import Storage
from powerpost.media.sweep import PeriodicSweep, media_id_of, sweep
from powerpost.models import MediaReservation

DAY = 24 * 3600


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def _media_root(app: FastAPI) -> Path:
    root: Path = app.state.settings.data_dir / "media"
    return root


async def _crashed_upload(app: FastAPI, tenant: Tenant, size: int, *, age: timedelta) -> str:
    """What a process killed between storing the files and inserting the row leaves."""
    media_id = str(uuid.uuid4())
    storage: Storage = app.state.storage
    async with app.state.db.write() as session:
        assert await repository.reserve_quota(session, tenant.account_id, size)
        repository.add_reservation(session, media_id, tenant.account_id, size, utcnow() - age)
    folder = f"{tenant.account_id}/{tenant.workspace_id}/{media_id}"
    await storage.put_bytes(f"{folder}/original.png", b"x" * size, "image/png")
    await storage.put_bytes(f"{folder}/thumbnail.jpg", b"t", "image/jpeg")
    for path in (_media_root(app) / folder).iterdir():
        _age(path, age.total_seconds())
    return media_id


async def _reservations(app: FastAPI) -> int:
    async with app.state.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(MediaReservation)) or 0)


async def test_a_finished_upload_leaves_no_reservation(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    api = await api_client(client, factory)
    content = image_bytes()
    assert (await api.upload(content, "image", "a.png")).status_code == 200
    assert await _reservations(app) == 0
    assert await storage_used(app, api.tenant.account_id) == len(content)


async def test_an_abandoned_upload_gives_its_quota_and_files_back(
    app: FastAPI, factory: Factory
) -> None:
    tenant = await factory.account()
    old = await _crashed_upload(app, tenant, 1000, age=timedelta(hours=7))
    young = await _crashed_upload(app, tenant, 300, age=timedelta(minutes=5))
    assert await storage_used(app, tenant.account_id) == 1300

    report = await sweep(app.state.db, app.state.storage, grace=timedelta(hours=6))

    assert (report.reservations_released, report.quota_bytes_released) == (1, 1000)
    assert report.orphans_deleted == 2  # the original and the thumbnail of the old one
    assert await storage_used(app, tenant.account_id) == 300
    left = {
        media_id_of(p.relative_to(_media_root(app)).as_posix())
        for p in files_under(_media_root(app))
    }
    assert left == {young}  # an upload still in its grace period keeps quota and files
    assert old not in left
    assert await _reservations(app) == 1


async def test_orphans_go_and_owned_or_unknown_files_stay(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    api = await api_client(client, factory)
    kept = (await api.upload(image_bytes(), "image", "kept.png")).json()["media_id"]
    gone = (await api.upload(image_bytes(color="blue"), "image", "gone.png")).json()["media_id"]
    root = _media_root(app)
    folder = root / api.tenant.account_id / api.tenant.workspace_id
    # A file of a soft-deleted row whose removal failed, a row-less file, a crashed
    # partial write and something that is not ours at all.
    async with app.state.db.write() as session:
        await media_service.delete_media(
            session, app.state.storage, api.tenant.account_id, api.tenant.workspace_id, None, gone
        )
    (folder / gone).mkdir()
    (folder / gone / "original.png").write_bytes(b"left behind")
    stray = folder / str(uuid.uuid4())
    stray.mkdir()
    (stray / "original.png").write_bytes(b"no row at all")
    (stray / ".original.png.abc123.part").write_bytes(b"half")
    (root / "README.txt").write_text("operator notes")
    for path in files_under(root):
        _age(path, 2 * DAY)

    dry = await sweep(app.state.db, app.state.storage, dry_run=True)
    assert (dry.orphans_deleted, dry.dry_run) == (3, True)
    assert len(files_under(root)) == 6  # nothing removed by a dry run

    report = await sweep(app.state.db, app.state.storage)
    assert report.orphans_deleted == 3
    assert report.orphan_bytes == len(b"left behind") + len(b"no row at all") + len(b"half")
    remaining = sorted(p.relative_to(root).as_posix() for p in files_under(root))
    assert remaining == sorted(
        [
            "README.txt",
            f"{api.tenant.account_id}/{api.tenant.workspace_id}/{kept}/original.png",
            f"{api.tenant.account_id}/{api.tenant.workspace_id}/{kept}/thumbnail.jpg",
        ]
    )
    assert not stray.exists()  # empty folders go with their last file


async def test_concurrent_sweeps_release_an_abandoned_upload_once(
    app: FastAPI, factory: Factory
) -> None:
    tenant = await factory.account()
    for _ in range(5):
        await _crashed_upload(app, tenant, 100, age=timedelta(days=1))
    assert await storage_used(app, tenant.account_id) == 500
    reports = await asyncio.gather(*(sweep(app.state.db, app.state.storage) for _ in range(4)))
    assert sum(r.reservations_released for r in reports) == 5
    assert sum(r.quota_bytes_released for r in reports) == 500
    assert await storage_used(app, tenant.account_id) == 0
    assert files_under(_media_root(app)) == []


async def test_an_upload_judged_abandoned_while_storing_fails_cleanly(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = await api_client(client, factory)
    real_write = media_service._write_objects

    async def slow_write(storage: Storage, media: object, *args: object) -> None:
        await real_write(storage, media, *args)  # type: ignore[arg-type]
        # The sweep runs now, as if this upload had been stuck for longer than the grace.
        await sweep(
            app.state.db, app.state.storage, grace=timedelta(0), now=utcnow() + timedelta(hours=1)
        )

    monkeypatch.setattr(media_service, "_write_objects", slow_write)
    response = await api.upload(image_bytes(), "image", "slow.png")
    assert response.status_code == 500
    assert response.json()["error"]["message"] == (
        "Storing the file took too long; please try again"
    )
    assert await storage_used(app, api.tenant.account_id) == 0  # released once, not twice
    assert await _reservations(app) == 0
    assert files_under(_media_root(app)) == []


def _fill_scratch(tmp: Path) -> None:
    """A spooled upload and a video work folder from a day ago, and a file in use now."""
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "pp-spooled-upload").write_bytes(b"spool")
    (tmp / "video-x-1").mkdir()
    (tmp / "video-x-1" / "frame.png").write_bytes(b"f")
    (tmp / "pp-in-progress").write_bytes(b"busy")
    _age(tmp / "pp-spooled-upload", DAY)
    _age(tmp / "video-x-1", DAY)


async def test_stale_scratch_entries_are_removed(app: FastAPI) -> None:
    tmp = app.state.storage.tmp_dir
    _fill_scratch(tmp)

    report = await sweep(app.state.db, app.state.storage)

    assert report.temp_entries_deleted == 2
    assert [p.name for p in files_under(tmp)] == ["pp-in-progress"]
    assert not (tmp / "video-x-1").exists()


def test_media_id_of_only_reads_our_key_shape() -> None:
    a, w, m = (str(uuid.uuid4()) for _ in range(3))
    assert media_id_of(f"{a}/{w}/{m}/original.png") == m
    assert media_id_of(f"{a}/{w}/{m}/.original.png.1.part") == m
    assert media_id_of(f"{a}/{w}/original.png") is None
    assert media_id_of(f"{a}/{w}/{m}/x/original.png") is None
    assert media_id_of(f"notes/{w}/{m}/original.png") is None
    assert media_id_of("README.txt") is None


def test_the_cli_sweeps_and_reports_json(env: dict[str, str], tmp_path: Path) -> None:
    orphan = tmp_path / "data" / "media" / str(uuid.uuid4()) / str(uuid.uuid4()) / str(uuid.uuid4())
    orphan.mkdir(parents=True)
    (orphan / "original.jpg").write_bytes(b"123456")
    _age(orphan / "original.jpg", DAY)
    dry = cli_json(env, "media", "sweep", "--dry-run", "--json")
    assert (dry["orphans_deleted"], dry["orphan_bytes"], dry["dry_run"]) == (1, 6, True)
    assert (orphan / "original.jpg").exists()
    young = cli_json(env, "media", "sweep", "--older-than-hours", "48", "--json")
    assert young["orphans_deleted"] == 0
    done = cli_json(env, "media", "sweep", "--json")
    assert (done["orphans_deleted"], done["objects_seen"]) == (1, 1)
    assert not (orphan / "original.jpg").exists()


def test_sweep_settings_are_read_and_checked(env: dict[str, str]) -> None:
    defaults = load_settings(env)
    assert (defaults.media_sweep_interval, defaults.media_sweep_grace_hours) == (3600.0, 6)
    tuned = load_settings(
        env | {"POWERPOST_MEDIA_SWEEP_INTERVAL": "0", "POWERPOST_MEDIA_SWEEP_GRACE_HOURS": "24"}
    )
    assert (tuned.media_sweep_interval, tuned.media_sweep_grace_hours) == (0.0, 24)
    for name, value in (
        ("POWERPOST_MEDIA_SWEEP_INTERVAL", "-1"),
        ("POWERPOST_MEDIA_SWEEP_INTERVAL", "hourly"),
        ("POWERPOST_MEDIA_SWEEP_GRACE_HOURS", "0"),
    ):
        with pytest.raises(ConfigError, match=name):
            load_settings(env | {name: value})


async def test_the_periodic_sweep_runs_and_stops(app: FastAPI, factory: Factory) -> None:
    tenant = await factory.account()
    await _crashed_upload(app, tenant, 100, age=timedelta(days=1))
    periodic = PeriodicSweep(app.state.db, app.state.storage, interval=0.05, grace_hours=6)
    periodic.start()
    try:
        for _ in range(200):
            if await storage_used(app, tenant.account_id) == 0:
                break
            await asyncio.sleep(0.02)
    finally:
        await periodic.stop()
    assert await storage_used(app, tenant.account_id) == 0
    assert await _reservations(app) == 0

"""Key lifecycle: the 10-key limit under concurrency, roll with grace, revoke, expiry,
pepper rotation, debounced last-used."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, select, update
from tests.fixtures.factories import Factory, headers

from powerpost.api_keys import service as keys
from powerpost.api_keys.service import KeyRefused
from powerpost.config import Settings
from powerpost.kit.clock import utcnow
from powerpost.kit.security import KeyHasher
from powerpost.models import ApiKey

CREDITS = "/api/v1/account/credits"


async def _create(app: FastAPI, account_id: str, name: str) -> str | None:
    try:
        async with app.state.db.write() as session:
            issued = await keys.create_key(
                session, app.state.hasher, account_id=account_id, name=name, created_by="test"
            )
        return issued.secret
    except KeyRefused:
        return None


async def _active_count(app: FastAPI, account_id: str) -> int:
    async with app.state.db.read() as session:
        rows = await keys.list_keys(session, account_id)
    now = utcnow()
    return sum(1 for k in rows if keys.status_of(k, now) == "active")


async def _working_count(app: FastAPI, account_id: str) -> int:
    """Keys that still authenticate: active ones and rolled ones inside their grace."""
    async with app.state.db.read() as session:
        rows = await keys.list_keys(session, account_id)
    now = utcnow()
    return sum(1 for k in rows if keys.status_of(k, now) in ("active", "rolling"))


async def _roll(app: FastAPI, account_id: str, key_id: str, grace_hours: float) -> str | None:
    try:
        async with app.state.db.write() as session:
            issued = await keys.roll_key(
                session,
                app.state.hasher,
                account_id=account_id,
                key_id=key_id,
                grace_hours=grace_hours,
                created_by="test",
            )
        return issued.secret
    except KeyRefused:
        return None


async def test_thirty_concurrent_creates_from_zero_give_exactly_ten(
    app: FastAPI, factory: Factory
) -> None:
    tenant = await factory.account()
    results = await asyncio.gather(*(_create(app, tenant.account_id, f"k{i}") for i in range(30)))
    assert sum(r is not None for r in results) == 10
    assert await _active_count(app, tenant.account_id) == 10


async def test_limit_message_and_revoke_frees_a_slot(app: FastAPI, factory: Factory) -> None:
    tenant = await factory.account()
    ids = [(await factory.key(tenant, name=f"k{i}"))[0] for i in range(10)]
    with pytest.raises(KeyRefused, match="10 active API keys"):
        await factory.key(tenant, name="eleventh")
    async with app.state.db.write() as session:
        await keys.revoke_key(session, account_id=tenant.account_id, key_id=ids[0])
    await factory.key(tenant, name="eleventh")
    # expired keys do not count either
    async with app.state.db.write() as session:
        await session.execute(
            update(ApiKey)
            .where(ApiKey.id == ids[1])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    await factory.key(tenant, name="twelfth")
    assert await _active_count(app, tenant.account_id) == 10


async def test_key_types_and_scopes(factory: Factory) -> None:
    tenant = await factory.account()
    for bad_type in ("admin", "", "READ_WRITE"):
        with pytest.raises(KeyRefused):
            await factory.key(tenant, bad_type)
    with pytest.raises(KeyRefused, match="Unknown scope"):
        await factory.key(tenant, scopes=["posts:destroy"])
    # an empty list is refused, not read as "no list" (which would mean Full Access)
    with pytest.raises(KeyRefused, match="at least one scope"):
        await factory.key(tenant, scopes=[])
    with pytest.raises(KeyRefused, match="1 to 64"):
        await factory.key(tenant, name="x" * 65)
    with pytest.raises(KeyRefused, match="1 to 64"):
        await factory.key(tenant, name="   ")
    key_id, _ = await factory.key(tenant, scopes=["account:read", "posts:read"])
    async with factory.db.read() as session:
        row = await session.get(ApiKey, key_id)
    assert row is not None
    assert row.type == "custom"
    assert row.scopes == "account:read posts:read"


async def test_revoke_is_immediate_idempotent_and_irreversible(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.account()
    key_id, secret = await factory.key(tenant)
    assert (await client.get(CREDITS, headers=headers(secret))).status_code == 200
    async with app.state.db.write() as session:
        first = await keys.revoke_key(
            session, account_id=tenant.account_id, key_id=key_id, reason="leaked"
        )
    revoked_at = first.revoked_at
    assert (await client.get(CREDITS, headers=headers(secret))).status_code == 401
    async with app.state.db.write() as session:
        again = await keys.revoke_key(session, account_id=tenant.account_id, key_id=key_id)
    assert again.revoked_at == revoked_at
    assert again.revoked_reason == "leaked"
    # another account cannot revoke (or see) it
    other = await factory.account()
    with pytest.raises(KeyRefused):
        async with app.state.db.write() as session:
            await keys.revoke_key(session, account_id=other.account_id, key_id=key_id)


async def test_roll_keeps_old_key_for_the_grace_period(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.account()
    old_id, old = await factory.key(tenant, "read_draft", name="ci")
    async with app.state.db.write() as session:
        rolled = await keys.roll_key(
            session,
            app.state.hasher,
            account_id=tenant.account_id,
            key_id=old_id,
            grace_hours=2,
            created_by="test",
        )
    assert rolled.record.name == "ci"
    assert rolled.record.type == "read_draft"
    assert (await client.get(CREDITS, headers=headers(old))).status_code == 200
    assert (await client.get(CREDITS, headers=headers(rolled.secret))).status_code == 200
    async with app.state.db.read() as session:
        old_row = await session.get(ApiKey, old_id)
    assert old_row is not None
    assert old_row.expires_at is not None
    assert timedelta(hours=1, minutes=59) < old_row.expires_at - utcnow() <= timedelta(hours=2)
    # both keys work during the grace period, so both count toward the limit
    assert await _working_count(app, tenant.account_id) == 2
    with pytest.raises(KeyRefused, match="rolled already"):
        async with app.state.db.write() as session:
            await keys.roll_key(
                session,
                app.state.hasher,
                account_id=tenant.account_id,
                key_id=old_id,
                grace_hours=1,
                created_by="t",
            )
    # grace over: the old key stops working
    async with app.state.db.write() as session:
        await session.execute(
            update(ApiKey)
            .where(ApiKey.id == old_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert (await client.get(CREDITS, headers=headers(old))).status_code == 401
    assert (await client.get(CREDITS, headers=headers(rolled.secret))).status_code == 200


async def test_roll_with_zero_grace_revokes_now(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.account()
    old_id, old = await factory.key(tenant)
    async with app.state.db.write() as session:
        rolled = await keys.roll_key(
            session,
            app.state.hasher,
            account_id=tenant.account_id,
            key_id=old_id,
            grace_hours=0,
            created_by="t",
        )
    assert (await client.get(CREDITS, headers=headers(old))).status_code == 401
    assert (await client.get(CREDITS, headers=headers(rolled.secret))).status_code == 200
    with pytest.raises(KeyRefused, match="Grace"):
        async with app.state.db.write() as session:
            await keys.roll_key(
                session,
                app.state.hasher,
                account_id=tenant.account_id,
                key_id=rolled.record.id,
                grace_hours=25,
                created_by="t",
            )


async def test_pepper_rotation_keeps_old_keys_working_and_rewrites_them(
    settings: Settings, factory: Factory, app: FastAPI
) -> None:
    tenant = await factory.account()
    key_id, secret = await factory.key(tenant)
    from dataclasses import replace

    from powerpost.app import create_app

    rotated = replace(settings, key_peppers={**settings.key_peppers, 2: b"\x33" * 32})
    new_app = create_app(rotated)
    async with new_app.router.lifespan_context(new_app):
        transport = httpx.ASGITransport(app=new_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            assert (await c.get(CREDITS, headers=headers(secret))).status_code == 200
        async with new_app.state.db.read() as session:
            row = await session.get(ApiKey, key_id)
        assert row is not None
        assert row.pepper_version == 2
        assert row.digest == KeyHasher(rotated.key_peppers).digest(secret)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            assert (await c.get(CREDITS, headers=headers(secret))).status_code == 200


async def test_hundred_uses_in_a_minute_write_last_used_at_most_once(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.account()
    key_id, secret = await factory.key(tenant)
    writes: list[str] = []

    def record(_c: object, _cur: object, statement: str, *_a: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE API_KEYS"):
            writes.append(statement)

    engine = app.state.db.write_engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        for i in range(100):
            assert (await client.get(CREDITS, headers=headers(secret))).status_code == 200
            if i % 25 == 0:
                await app.state.usage.flush()
        await app.state.usage.flush()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(writes) == 1
    async with app.state.db.read() as session:
        row = (await session.execute(select(ApiKey).where(ApiKey.id == key_id))).scalar_one()
    assert row.last_used_at is not None
    assert row.last_used_ip == "203.0.113.7"
    assert utcnow() - row.last_used_at < timedelta(seconds=30)


async def test_failed_attempts_do_not_touch_last_used(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.account()
    key_id, secret = await factory.key(tenant)
    async with app.state.db.write() as session:
        await keys.revoke_key(session, account_id=tenant.account_id, key_id=key_id)
    await client.get(CREDITS, headers=headers(secret))
    await app.state.usage.flush()
    async with app.state.db.read() as session:
        row = await session.get(ApiKey, key_id)
    assert row is not None
    assert row.last_used_at is None


async def test_last_used_never_moves_backwards(app: FastAPI, factory: Factory) -> None:
    from powerpost.api_keys import repository

    tenant = await factory.account()
    key_id, _ = await factory.key(tenant)
    now = utcnow()
    async with app.state.db.write() as session:
        assert await repository.touch_last_used(session, key_id, now, "1.1.1.1")
        assert not await repository.touch_last_used(
            session, key_id, now - timedelta(minutes=5), "2.2.2.2"
        )
        assert not await repository.touch_last_used(
            session, key_id, now + timedelta(seconds=30), "3.3.3.3"
        )
        assert await repository.touch_last_used(
            session, key_id, now + timedelta(seconds=61), "4.4.4.4"
        )
    async with app.state.db.read() as session:
        row = await session.get(ApiKey, key_id)
    assert row is not None
    assert row.last_used_ip == "4.4.4.4"


async def _authenticating(client: httpx.AsyncClient, secrets: list[str]) -> int:
    ok = 0
    for secret in secrets:
        status = (await client.get(CREDITS, headers=headers(secret))).status_code
        assert status in (200, 401)
        ok += status == 200
    return ok


async def test_rolling_cannot_multiply_keys_past_ten(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    """The hostile review's case: three rounds of rolling every key (each roll with a grace
    period, all in parallel, with creates racing them) turned 10 keys into 40 working keys.
    Every key that still authenticates counts, so it stays at 10."""
    tenant = await factory.account()
    made = [await factory.key(tenant, name=f"k{i}") for i in range(10)]
    secrets = [secret for _, secret in made]
    for round_ in range(3):
        async with app.state.db.read() as session:
            rows = await keys.list_keys(session, tenant.account_id)
        rollable = [k.id for k in rows if keys.status_of(k, utcnow()) == "active"]
        results = await asyncio.gather(
            *(_roll(app, tenant.account_id, key_id, 2) for key_id in rollable),
            *(_create(app, tenant.account_id, f"r{round_}-{i}") for i in range(5)),
        )
        secrets += [r for r in results if r is not None]
    assert await _working_count(app, tenant.account_id) == 10
    assert await _authenticating(client, secrets) == 10


async def test_parallel_rolls_and_creates_never_leave_more_than_ten_working_keys(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.account()
    made = [await factory.key(tenant, name=f"k{i}") for i in range(6)]
    # each of the 6 keys rolled twice at once (one of each pair is refused: rolled
    # already) and 12 creates, all racing for the 4 free slots
    results = await asyncio.gather(
        *(_roll(app, tenant.account_id, key_id, 1) for key_id, _ in made * 2),
        *(_create(app, tenant.account_id, f"c{i}") for i in range(12)),
    )
    issued = [r for r in results if r is not None]
    assert len(issued) == 4
    assert await _working_count(app, tenant.account_id) == 10
    assert await _authenticating(client, [s for _, s in made] + issued) == 10


async def test_at_the_limit_roll_needs_no_grace_or_a_revoke(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.account()
    made = [await factory.key(tenant, name=f"k{i}") for i in range(10)]
    (first_id, first), (second_id, _) = made[0], made[1]
    with pytest.raises(keys.KeyLimitReached, match="no grace period"):
        async with app.state.db.write() as session:
            await keys.roll_key(
                session,
                app.state.hasher,
                account_id=tenant.account_id,
                key_id=first_id,
                grace_hours=24,
                created_by="t",
            )
    # the refused roll changed nothing: the old key still works and can be rolled later
    assert (await client.get(CREDITS, headers=headers(first))).status_code == 200
    # no grace: the old key is revoked in the same transaction, so the new one takes its slot
    rolled = await _roll(app, tenant.account_id, first_id, 0)
    assert rolled is not None
    assert (await client.get(CREDITS, headers=headers(first))).status_code == 401
    assert await _working_count(app, tenant.account_id) == 10
    # or revoke one: then a roll with a grace period fits, and fills the account again
    async with app.state.db.write() as session:
        await keys.revoke_key(session, account_id=tenant.account_id, key_id=second_id)
    assert await _roll(app, tenant.account_id, made[2][0], 2) is not None
    assert await _working_count(app, tenant.account_id) == 10
    with pytest.raises(KeyRefused, match="10 active API keys"):
        await factory.key(tenant, name="eleventh")

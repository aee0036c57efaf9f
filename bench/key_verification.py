"""Key verification in-process, with 100,000 keys stored.

Prints the median and p99 microseconds of `KeyAuthorizer.authenticate` (shape + checksum +
HMAC + the one indexed lookup + the validity checks) for stored keys, next to the baseline
of the same call for a key that fails its checksum (no database work), measured in the
same run. Target: median ≤ 50 µs.

    .venv/bin/python bench/key_verification.py [--keys 100000] [--samples 3000]
    POWERPOST_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1/test .venv/bin/python bench/key_verification.py
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import tempfile
import time
from pathlib import Path

from rich.progress import Progress
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import create_async_engine

from powerpost.api_keys.scopes import PRESETS, serialize
from powerpost.auth.authorizer import KeyAuthorizer
from powerpost.config import RateLimits
from powerpost.kit.clock import utcnow
from powerpost.kit.db import Database
from powerpost.kit.ids import new_id
from powerpost.kit.migrate import upgrade
from powerpost.kit.ratelimit import RateLimiter
from powerpost.kit.security import KeyHasher, display_parts, generate_key
from powerpost.models import Account, ApiKey

BATCH = 5000


async def seed(url: str, hasher: KeyHasher, count: int) -> list[str]:
    """Insert `count` keys spread over accounts of 10; return a sample of their secrets."""
    engine = create_async_engine(url)
    now = utcnow()
    secrets: list[str] = []
    scopes = serialize(PRESETS["read_write"])
    with Progress() as progress:
        task = progress.add_task(f"storing {count:,} keys", total=count)
        async with engine.begin() as conn:
            for start in range(0, count, BATCH):
                accounts, keys = [], []
                for i in range(start, min(start + BATCH, count)):
                    if i % 10 == 0:
                        account_id = new_id()
                        accounts.append(
                            {
                                "id": account_id,
                                "email": f"bench{i}@example.com",
                                "password_hash": None,
                                "password_changed_at": None,
                                "balance": 50,
                                "storage_used_bytes": 0,
                                "storage_quota_bytes": 1,
                                "created_at": now,
                                "disabled_at": None,
                            }
                        )
                    secret = generate_key("live")
                    if i % 50 == 0:
                        secrets.append(secret)
                    display = display_parts(secret)
                    keys.append(
                        {
                            "id": new_id(),
                            "account_id": account_id,
                            "name": "bench",
                            "type": "read_write",
                            "scopes": scopes,
                            "mode": "live",
                            "digest": hasher.digest(secret),
                            "pepper_version": hasher.current_version,
                            "display_prefix": display.prefix,
                            "display_suffix": display.suffix,
                            "created_at": now,
                            "created_by": "bench",
                            "expires_at": None,
                            "revoked_at": None,
                            "revoked_reason": None,
                            "superseded_by": None,
                            "last_used_at": None,
                            "last_used_ip": None,
                        }
                    )
                await conn.execute(insert(Account), accounts)
                await conn.execute(insert(ApiKey), keys)
                progress.advance(task, len(keys))
        if url.startswith("postgresql"):
            async with engine.connect() as conn:
                await conn.execute(text("ANALYZE api_keys"))
    await engine.dispose()
    return secrets


async def measure(authorizer: KeyAuthorizer, keys: list[str], samples: int) -> list[float]:
    timings = []
    for i in range(samples):
        key = keys[i % len(keys)]
        started = time.perf_counter_ns()
        with contextlib.suppress(Exception):  # the baseline's bad keys fail by design
            await authorizer.authenticate(key)
        timings.append((time.perf_counter_ns() - started) / 1000)
    return timings


def summary(label: str, timings: list[float]) -> float:
    ordered = sorted(timings)
    median = statistics.median(ordered)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    print(f"{label:<42} median {median:8.1f} µs   p99 {p99:8.1f} µs")
    return median


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=3000)
    args = parser.parse_args()
    hasher = KeyHasher({1: os.urandom(32)})
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("POWERPOST_BENCH_DATABASE_URL")
        if url:
            # a database of its own next to the one named, so nothing else is touched
            admin = url.replace("postgresql://", "postgresql+asyncpg://")
            engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
            async with engine.connect() as conn:
                await conn.execute(text("DROP DATABASE IF EXISTS powerpost_bench WITH (FORCE)"))
                await conn.execute(text("CREATE DATABASE powerpost_bench"))
            await engine.dispose()
            url = admin.rsplit("/", 1)[0] + "/powerpost_bench"
        else:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await asyncio.to_thread(upgrade, url)
        stored = await seed(url, hasher, args.keys)
        db = Database(url)
        authorizer = KeyAuthorizer(db, hasher, RateLimiter(RateLimits()))
        await measure(authorizer, stored, 200)  # warm the pool and caches
        good = await measure(authorizer, stored, args.samples)
        bad = [k[:-1] + ("0" if k[-1] != "0" else "1") for k in stored]
        baseline = await measure(authorizer, bad, args.samples)
        await db.dispose()
    print(f"database: {url.split(':')[0]}, keys stored: {args.keys:,}, samples: {args.samples:,}")
    good_median = summary("verify a stored key (full path)", good)
    base_median = summary("baseline: checksum rejection (no DB)", baseline)
    print(
        f"ratio full/baseline: {good_median / base_median:.1f}x   target: median ≤ 50 µs -> "
        f"{'met' if good_median <= 50 else 'NOT met'}"
    )


if __name__ == "__main__":
    asyncio.run(main())

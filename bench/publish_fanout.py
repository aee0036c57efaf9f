"""Publishing fan-out and post listing on the embedded default (one `powerpost serve`
process, SQLite, the in-process job engine, test mode's simulated platforms).

1. Fan-out: `--publishes` posts of 12 items (one of every post type) and as many of 1 item
   (an X post, the baseline measured in the same run), published one at a time with a test
   key, alternating so that machine noise hits both alike. Each is timed from sending
   `POST /posts/{id}/publish` until every item settled: as stamped by the server when the
   round concluded (`publish_rounds.finished_at`, same clock), and as first seen by a
   client polling `GET /posts/{id}` every `--poll-ms` (default 50; clients are told to poll
   every 3 s, and a tighter poll loads the one process it measures). Target: 12-item
   settled p50 ≤ 200 ms. The simulated platforms answer after their realistic default
   pause, uniform in 40-120 ms per call (`--latency-ms LOW-HIGH` changes it).
2. Listing: `--posts` posts (default 1,000,000, one item each) are written straight into
   the database file in one transaction (executemany), then `GET /posts?limit=20` page 1
   and a page behind a cursor 90 % deep are timed alternately. Target: deep / page 1 ≤ 1.2.

    .venv/bin/python bench/publish_fanout.py [--publishes 100] [--posts 1000000]
        [--latency-ms 40-120] [--poll-ms 50] [--skip-fanout] [--skip-listing] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from powerpost.kit.ffmpeg import ffmpeg_exe
from powerpost.kit.pagination import encode_cursor
from powerpost.kit.platforms import RULES

POWERPOST = [sys.executable, "-m", "powerpost"]
EMAIL = "bench@example.com"
SETTLED = ("published", "partial", "failed")


def cli(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [*POWERPOST, *args, "--json"], env=env, check=True, capture_output=True, text=True
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def headers(base: str, key: str) -> dict[str, str]:
    """The key and its account's first workspace."""
    found = httpx.get(f"{base}/api/v1/workspaces", headers={"x-api-key": key}).json()
    return {"x-api-key": key, "X-Workspace-Id": found["data"][0]["id"]}


def start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [*POWERPOST, "serve", "--port", str(port)], env=env, stderr=subprocess.DEVNULL
    )
    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.terminate()
    raise SystemExit("the server did not start")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    server.wait(timeout=30)


def png() -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (1080, 1080), (200, 120, 40)).save(out, "PNG")
    return out.getvalue()


def mp4(path: Path) -> bytes:
    args = [ffmpeg_exe(), "-nostdin", "-v", "error", "-y", "-f", "lavfi"]
    args += ["-i", "testsrc2=size=320x568:rate=25:duration=4", "-c:v", "libx264"]
    args += ["-preset", "ultrafast", "-pix_fmt", "yuv420p", "-an", "-f", "mp4", str(path)]
    subprocess.run(args, check=True, timeout=60)
    return path.read_bytes()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def upload(http: httpx.AsyncClient, content: bytes, kind: str, name: str) -> str:
    response = await http.post(
        "/api/v1/media/upload",
        files={"file": (name, content, "application/octet-stream")},
        data={"type": kind},
    )
    if response.status_code != 200:
        raise SystemExit(f"upload failed: {response.text}")
    media_id: str = response.json()["media_id"]
    return media_id


async def create_post(http: httpx.AsyncClient, items: list[dict[str, Any]]) -> str:
    response = await http.post("/api/v1/posts", json={"items": items})
    if response.status_code != 200:
        raise SystemExit(f"creating a post failed: {response.text}")
    post_id: str = response.json()["post_id"]
    return post_id


def settled_at(db_file: Path, post_id: str) -> float:
    """When the post's round concluded (every item settled), by the server's clock."""
    con = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    try:
        (finished,) = con.execute(
            "SELECT finished_at FROM publish_rounds WHERE post_id = ?", (post_id,)
        ).fetchone()
    finally:
        con.close()
    return datetime.strptime(finished, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC).timestamp()


async def publish_and_wait(
    http: httpx.AsyncClient, post_id: str, poll: float, db_file: Path
) -> tuple[float, float]:
    """Seconds from sending the publish request to every item settled: as stamped by the
    server when the round concluded, and as first seen by a client polling GET."""
    wall, started = time.time(), time.perf_counter()
    response = await http.post(f"/api/v1/posts/{post_id}/publish")
    if response.status_code != 200:
        raise SystemExit(f"publish failed: {response.text}")
    while True:
        body = (await http.get(f"/api/v1/posts/{post_id}")).json()
        if body["status"] in SETTLED:
            seen = time.perf_counter() - started
            if body["status"] != "published":
                raise SystemExit(f"post {post_id} ended {body['status']}: {body}")
            return settled_at(db_file, post_id) - wall, seen
        await asyncio.sleep(poll)


async def fanout(base: str, key: str, publishes: int, poll: float, work: Path) -> None:
    db_file = work / "powerpost.db"
    async with httpx.AsyncClient(base_url=base, headers=headers(base, key), timeout=60) as http:
        photo = await upload(http, png(), "image", "photo.png")
        video = await upload(http, mp4(work / "clip.mp4"), "video", "clip.mp4")
        twelve: list[dict[str, Any]] = []
        for post_type, rules in RULES.items():
            item: dict[str, Any] = {"post_type": post_type, "content": f"Bench {post_type}"}
            if rules.media_min:
                item["media_ids"] = [photo if "image" in rules.media_kinds else video]
            if rules.needs_title:
                item["title"] = "Bench title"
            twelve.append(item)
        assert len(twelve) == 12
        one = [{"post_type": "x-post", "content": "Bench x-post"}]
        # warm-up: first requests compile queries and open connections
        for items in (one, twelve):
            await publish_and_wait(http, await create_post(http, items), poll, db_file)
        settled: dict[int, list[float]] = {1: [], 12: []}
        seen: dict[int, list[float]] = {1: [], 12: []}
        for _ in range(publishes):
            for items in (twelve, one):
                post_id = await create_post(http, items)
                at, by_poll = await publish_and_wait(http, post_id, poll, db_file)
                settled[len(items)].append(at * 1000)
                seen[len(items)].append(by_poll * 1000)
    print(
        f"fan-out: {publishes} posts of each size, published one at a time, alternating; "
        f"GET polled every {poll * 1000:.0f} ms"
    )
    for size in (12, 1):
        for label, values in (("settled", settled[size]), ("seen by GET", seen[size])):
            print(
                f"  {size:2d}-item publish → {label:11s} p50 {statistics.median(values):6.1f} ms"
                f"   p99 {percentile(values, 99):6.1f} ms"
                f"   (min {min(values):.1f}, max {max(values):.1f})"
            )
    p50 = statistics.median(settled[12])
    print(f"  target 12-item p50 ≤ 200 ms -> {'met' if p50 <= 200 else 'NOT met'}")


def _rows(
    count: int, account_id: str, workspace_id: str, start: datetime
) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    rng = random.Random(7)
    for n in range(count):
        # a post every ~30 s, oldest first, a few sharing a microsecond-exact time
        moment = (start + timedelta(seconds=30 * n + rng.random())).strftime("%Y-%m-%d %H:%M:%S.%f")
        post_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        item_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        yield (
            (
                post_id,
                account_id,
                workspace_id,
                "test",
                None,
                None,
                "draft",
                None,
                0,
                None,
                0,
                moment,
                moment,
                None,
            ),
            (
                item_id,
                post_id,
                0,
                "x-post",
                "x",
                f"Seeded post {n}",
                None,
                "[]",
                "draft",
                0,
                None,
                None,
                None,
                None,
                None,
                moment,
            ),
        )


def seed(db_file: Path, count: int) -> None:
    """`count` draft posts of one X item each in the bench workspace's test mode, written
    in one transaction with executemany (batches keep memory flat)."""
    started = time.perf_counter()
    con = sqlite3.connect(db_file)
    con.execute("PRAGMA synchronous=OFF")
    account_id, workspace_id = con.execute(
        "SELECT a.id, w.id FROM accounts a JOIN workspaces w ON w.account_id = a.id"
        " WHERE a.email = ? AND w.deleted_at IS NULL ORDER BY w.created_at LIMIT 1",
        (EMAIL,),
    ).fetchone()
    start = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=30 * count + 3600)
    post_sql = (
        "INSERT INTO posts (id, account_id, workspace_id, mode, created_by_key_id,"
        " generation_id, status, scheduled_at, publish_round, test_scenario, credits_used,"
        " created_at, updated_at, published_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
    )
    item_sql = (
        "INSERT INTO post_items (id, post_id, position, post_type, platform, content, title,"
        " media_ids, status, publish_round, platform_post_id, platform_url, error_code,"
        " error_message, posted_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
    )
    rows = _rows(count, account_id, workspace_id, start)
    with con:
        while True:
            batch = [row for _, row in zip(range(50_000), rows, strict=False)]
            if not batch:
                break
            con.executemany(post_sql, [p for p, _ in batch])
            con.executemany(item_sql, [i for _, i in batch])
    con.execute("ANALYZE")
    con.close()
    print(f"seeded {count:,} posts in {time.perf_counter() - started:.1f} s")


def deep_cursor(db_file: Path, count: int) -> str:
    con = sqlite3.connect(db_file)
    created, post_id = con.execute(
        "SELECT created_at, id FROM posts WHERE mode = 'test'"
        " ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET ?",
        (int(count * 0.9),),
    ).fetchone()
    con.close()
    moment = datetime.strptime(created, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
    return encode_cursor(moment, post_id)


async def listing(base: str, key: str, cursor: str, rounds: int) -> None:
    page1: list[float] = []
    deep: list[float] = []
    async with httpx.AsyncClient(base_url=base, headers=headers(base, key), timeout=60) as http:

        async def timed(params: dict[str, str]) -> float:
            started = time.perf_counter()
            response = await http.get("/api/v1/posts", params=params)
            elapsed = time.perf_counter() - started
            body = response.json()
            if response.status_code != 200 or len(body["data"]) != 20:
                raise SystemExit(f"listing failed: {response.status_code} {response.text[:300]}")
            return elapsed

        for _ in range(10):  # warm-up
            await timed({"limit": "20"})
            await timed({"limit": "20", "cursor": cursor})
        for _ in range(rounds):
            page1.append(await timed({"limit": "20"}))
            deep.append(await timed({"limit": "20", "cursor": cursor}))
    a, b = statistics.median(page1) * 1000, statistics.median(deep) * 1000
    print(f"listing: GET /posts?limit=20, {rounds} rounds alternating")
    print(f"  page 1            p50 {a:6.2f} ms   p99 {percentile(page1, 99) * 1000:6.2f} ms")
    print(f"  cursor 90 % deep  p50 {b:6.2f} ms   p99 {percentile(deep, 99) * 1000:6.2f} ms")
    print(
        f"  ratio deep/page 1: {b / a:.2f}   target ≤ 1.2 -> {'met' if b / a <= 1.2 else 'NOT met'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--publishes", type=int, default=100, help="posts of each size")
    parser.add_argument("--posts", type=int, default=1_000_000, help="posts stored for listing")
    parser.add_argument("--rounds", type=int, default=200, help="listing requests of each kind")
    parser.add_argument("--latency-ms", default="40-120", help="sandbox pause range per call")
    parser.add_argument("--poll-ms", type=float, default=50.0)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--skip-fanout", action="store_true")
    parser.add_argument("--skip-listing", action="store_true")
    parser.add_argument("--keep", type=Path, help="use (and keep) this empty data directory")
    args = parser.parse_args()
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=False)
    with (
        contextlib.nullcontext(str(args.keep)) if args.keep else tempfile.TemporaryDirectory()
    ) as data:
        env = {
            **os.environ,
            "POWERPOST_DATA_DIR": data,
            "POWERPOST_LOG_LEVEL": "warning",
            "POWERPOST_SANDBOX_LATENCY_MS": args.latency_ms,
            "POWERPOST_RATE_LIMIT_READ": "100000000/minute",
            "POWERPOST_RATE_LIMIT_WRITE": "100000000/minute",
            "POWERPOST_RATE_LIMIT_GENERATE": "100000000/minute",
        }
        cli(env, "accounts", "create", "--email", EMAIL)
        key = cli(env, "keys", "create", "--email", EMAIL, "--name", "bench", "--test")["key"]
        base = f"http://127.0.0.1:{args.port}"
        print(
            f"one `powerpost serve` process, SQLite, embedded job engine, test key; "
            f"sandbox latency {args.latency_ms} ms"
        )
        if not args.skip_fanout:
            server = start_server(env, args.port)
            try:
                asyncio.run(fanout(base, key, args.publishes, args.poll_ms / 1000, Path(data)))
            finally:
                stop_server(server)
        if not args.skip_listing:
            db_file = Path(data) / "powerpost.db"
            seed(db_file, args.posts)
            cursor = deep_cursor(db_file, args.posts)
            server = start_server(env, args.port)
            try:
                asyncio.run(listing(base, key, cursor, args.rounds))
            finally:
                stop_server(server)


if __name__ == "__main__":
    main()

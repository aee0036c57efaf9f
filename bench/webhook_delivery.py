"""Webhook delivery on the embedded default: events per second and the p99 delay from an
outcome's commit to its receipt.

Runs the app in-process as `powerpost serve` does (SQLite in a fresh data dir, the job
engine embedded, 8 job slots), with one endpoint pointing at a local receiver that checks
every signature with `standardwebhooks`. Each event is committed in its own transaction, as
a feature's outcome is; the clock starts when that commit returns and stops when the
receiver has the request.

    .venv/bin/python bench/webhook_delivery.py [--events 1000] [--writers 4]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the local receiver lives with the tests

from standardwebhooks.webhooks import Webhook  # noqa: E402
from tests.webhooks.receiver import Receiver  # noqa: E402

from powerpost.accounts import service as accounts  # noqa: E402
from powerpost.app import create_app  # noqa: E402
from powerpost.config import load_settings  # noqa: E402
from powerpost.kit.migrate import upgrade  # noqa: E402
from powerpost.webhooks import service  # noqa: E402
from powerpost.webhooks.events import record_event  # noqa: E402
from powerpost.webhooks.schemas import EndpointCreate  # noqa: E402


async def bench(events: int, writers: int) -> None:
    with tempfile.TemporaryDirectory() as data:
        settings = load_settings(
            {
                **os.environ,
                "POWERPOST_DATA_DIR": data,
                "POWERPOST_ALLOW_HTTP_URLS": "true",
                "POWERPOST_ALLOW_LOOPBACK_URLS": "true",
            }
        )
        upgrade(settings.database_url)
        app = create_app(settings)
        receiver = Receiver()
        await receiver.start()
        async with app.router.lifespan_context(app):
            db = app.state.db
            async with db.write() as session:
                created = await accounts.create_account(
                    session,
                    email="bench@example.com",
                    password=None,
                    signup_credits=0,
                    storage_quota_bytes=10**9,
                )
            scope = service.Scope(created.account.id, created.workspace.id)
            async with db.write() as session:
                _, secret = await service.create_endpoint(
                    session, scope, EndpointCreate(url=receiver.base + "/hook"), settings
                )
            committed: dict[str, float] = {}
            queue = list(range(events))

            async def writer() -> None:
                while queue:
                    n = queue.pop()
                    async with db.write() as session:
                        event_id = await record_event(
                            session,
                            workspace_id=scope.workspace_id,
                            event="generation.completed",
                            data={"generation_id": str(n), "status": "completed", "outputs": {}},
                        )
                    committed[event_id] = time.time()

            started = time.time()
            await asyncio.gather(*(writer() for _ in range(writers)))
            wrote = time.time() - started
            got = await receiver.wait_for("/hook", events, within=600)
            finished = max(r.at for r in got)
        await receiver.stop()
    hook = Webhook(secret)
    for request in got:
        hook.verify(request.body, request.headers)
    ids = [r.headers["webhook-id"] for r in got]
    assert len(set(ids)) == events, "an event arrived twice or not at all"
    delays = sorted((r.at - committed[r.headers["webhook-id"]]) * 1000 for r in got)
    p99 = delays[int(len(delays) * 0.99) - 1]
    print(f"events                 {events} ({writers} concurrent writers)")
    print(f"commits                {events / wrote:8.0f} /s")
    print(f"delivered              {events / (finished - started):8.0f} events/s")
    print(f"commit → receipt  p50  {statistics.median(delays):8.1f} ms")
    print(f"commit → receipt  p99  {p99:8.1f} ms")
    print(f"commit → receipt  max  {delays[-1]:8.1f} ms")
    print("every signature verified with standardwebhooks; no duplicates")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--writers", type=int, default=4)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(bench(args.events, args.writers))


if __name__ == "__main__":
    main()

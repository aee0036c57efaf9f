"""The taskiq broker that carries job ids: in memory (embedded) or a Redis stream (scaled).

Only the job id travels; the row holds everything else. The broker's own retries, delays
and redelivery are not relied on: messages are acknowledged on receipt, and a message that
is lost (a crash, a trimmed stream) is replaced by the dispatcher's next kick.
"""

from __future__ import annotations

from typing import Any

from taskiq import AsyncBroker, InMemoryBroker

from powerpost.config import Settings

TASK_NAME = "powerpost.jobs.run"
QUEUE_NAME = "powerpost:jobs"
CONSUMER_GROUP = "powerpost-workers"
# Acked entries stay in a stream until trimmed; kicks are cheap to lose, memory is not.
STREAM_MAXLEN = 100_000
# A receiver waits this long in each XREADGROUP for new kicks, and a read on its socket
# may take this long: the block must end well inside the timeout. (With redis-py's 5 s
# default timeout and a 5 s block, every idle wait ended in a TimeoutError that killed the
# receiver, and idle workers spent most of their time reconnecting.)
XREAD_BLOCK_MS = 2000
SOCKET_TIMEOUT_SECONDS = 5.0


def make_broker(settings: Settings) -> AsyncBroker:
    if settings.redis_url:
        from taskiq_redis import RedisStreamBroker

        broker: AsyncBroker = RedisStreamBroker(
            settings.redis_url,
            queue_name=QUEUE_NAME,
            consumer_group_name=CONSUMER_GROUP,
            maxlen=STREAM_MAXLEN,
            approximate=True,
            xread_block=XREAD_BLOCK_MS,
            socket_timeout=SOCKET_TIMEOUT_SECONDS,
            socket_connect_timeout=5,
            # A kick the receiver never acknowledged is reclaimed by another worker after
            # this long; the dispatcher usually gets there first.
            idle_timeout=120_000,
            unacknowledged_lock_timeout=30,
        )
        return broker
    # Its receiver runs every kick as a task of its own; the engine's slots bound the jobs.
    jobs = settings.jobs
    return InMemoryBroker(
        max_stored_results=1,
        propagate_exceptions=False,
        max_async_tasks=jobs.concurrency + jobs.network_concurrency,
    )


def is_in_memory(broker: AsyncBroker) -> bool:
    return isinstance(broker, InMemoryBroker)


# A consumer this long without reading is a worker that died without saying goodbye
# (SIGKILL, a lost machine); a clean stop removes its own.
DEAD_CONSUMER_IDLE_MS = 3_600_000


async def prune_dead_consumers(
    broker: AsyncBroker, min_idle_ms: int = DEAD_CONSUMER_IDLE_MS
) -> list[str]:
    """Remove the stream group's consumers idle for ``min_idle_ms`` that hold no
    unacknowledged kicks; returns their names. Harmless to a live worker mistaken for a
    dead one: Redis recreates a consumer on its next read, and there is nothing pending
    to lose (kicks are acknowledged on receipt)."""
    pool: Any = getattr(broker, "connection_pool", None)
    queue: str | None = getattr(broker, "queue_name", None)
    if pool is None or queue is None:
        return []
    from redis.asyncio import Redis

    removed: list[str] = []
    async with Redis(connection_pool=pool) as redis:
        for consumer in await redis.xinfo_consumers(queue, CONSUMER_GROUP):
            name = consumer["name"]
            name = name.decode() if isinstance(name, bytes) else str(name)
            if int(consumer["idle"]) >= min_idle_ms and int(consumer["pending"]) == 0:
                await redis.xgroup_delconsumer(queue, CONSUMER_GROUP, name)
                removed.append(name)
    return removed

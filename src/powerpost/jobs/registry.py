"""Handlers by job kind, and finding the modules that register them."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Protocol, TypeVar, runtime_checkable

if TYPE_CHECKING:
    from powerpost.jobs.context import JobContext
    from powerpost.jobs.errors import JobError


@runtime_checkable
class JobHandler(Protocol):
    """What runs a kind of job.

    `run` may be called more than once for one job (a retry, or a worker that died after
    the handler's writes committed but before the job was marked done), so it must be safe
    to repeat: check the subject's state first, use `ctx.transaction()` for writes that must
    only happen while this worker still owns the job, and `ctx.finish(session)` to mark the
    job done in the same transaction as its final writes.

    `on_failure` runs once the job will not be tried again (attempts spent or a
    PermanentJobError): refund, mark the subject failed, record the webhook event, ideally
    all in one `ctx.transaction()` ending with `ctx.finish(session)`.

    An optional `timeout` attribute (seconds) bounds one attempt; running over counts as a
    retryable failure with code JOB_TIMEOUT. An optional `network_bound = True` says the
    handler spends its time waiting on a remote service, not working here: its jobs take
    the engine's network slots (`POWERPOST_JOB_NETWORK_CONCURRENCY`) instead of the
    general ones (`POWERPOST_JOB_CONCURRENCY`).

    An optional `async def prepare(ctx, session)` runs inside the claim's own transaction
    (under a savepoint), for an attempt's first writes, e.g. publishing's intent: they
    commit with the claim, one write transaction less. It may leave what `run` needs in
    `ctx.prepared`. If it raises, its writes are undone, the claim still commits and `run`
    starts with `ctx.prepared` None, so `run` must be able to do the same work itself.
    """

    async def run(self, ctx: JobContext) -> None: ...

    async def on_failure(self, ctx: JobContext, error: JobError) -> None: ...


_handlers: dict[str, JobHandler] = {}
H = TypeVar("H", bound="type[JobHandler] | JobHandler")


def register(kind: str) -> Callable[[H], H]:
    """Class (instantiated with no arguments) or instance decorator: `@register("x.y")`.

    Registering the same class again is a no-op (a module imported twice); a different
    handler for a taken kind is a programming error."""
    if not kind or len(kind) > 64:
        raise ValueError("a job kind is 1-64 characters")

    def decorate(target: H) -> H:
        handler: JobHandler = target() if isinstance(target, type) else target
        existing = _handlers.get(kind)
        if existing is not None and type(existing) is not type(handler):
            raise ValueError(f"job kind {kind!r} already has a handler ({existing!r})")
        _handlers[kind] = handler
        return target

    return decorate


def get_handler(kind: str) -> JobHandler | None:
    return _handlers.get(kind)


def is_network_bound(kind: str | None) -> bool:
    handler = _handlers.get(kind or "")
    return bool(getattr(handler, "network_bound", False))


def registered_kinds() -> frozenset[str]:
    return frozenset(_handlers)


def unregister(kind: str) -> None:
    """For tests that register throwaway handlers."""
    _handlers.pop(kind, None)


def feature_task_modules() -> list[str]:
    """Every `powerpost.<feature>.tasks` module that exists: the house layout puts a
    feature's job handlers there, so a worker needs no list to keep in sync."""
    import powerpost

    found = []
    for info in pkgutil.iter_modules(powerpost.__path__):
        if not info.ispkg:
            continue
        name = f"powerpost.{info.name}.tasks"
        if importlib.util.find_spec(name) is not None:
            found.append(name)
    return sorted(found)


def load_handler_modules(extra: Iterable[str] = ()) -> list[str]:
    """Import the feature task modules and `extra` (POWERPOST_JOB_MODULES); returns them."""
    names = [*feature_task_modules(), *extra]
    for name in names:
        importlib.import_module(name)
    return names

"""Deny-by-default routing for /api/v1.

Every API route declares the one scope it needs through a `Requirement` dependency (see
`auth.capabilities`). `ApiRoute` refuses to register a route without one, and runs the whole
authorisation pipeline *before* FastAPI reads the body, so the contract's check order holds:
401 key → 400 workspace header → 403 workspace → 403 scope → 400 body → 404 → business rules.
(FastAPI parses JSON before it runs dependencies, so a dependency alone would answer a bad
body with 400 before an unauthenticated caller got 401.)

A creating POST opts into the `Idempotency-Key` header with `dependencies=[Idempotent]`;
`ApiRoute` then hands the authorised request to the app's idempotency guard
(`powerpost.idempotency`), which claims the key before the body is parsed or any work done.
A dry run of such a route (one that takes `kit.dry_run.DryRunFlag`, asked with
`?dry_run=true`) creates nothing, so there is nothing to run at most once: the guard only
checks the header's form, and neither claims nor stores the key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any, Protocol

from fastapi import Depends, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from powerpost.kit import dry_run


@dataclass(frozen=True)
class Requirement:
    """What a route needs: one scope, and whether it acts inside a workspace."""

    scope: str
    workspace: bool

    async def __call__(self, request: Request) -> Any:
        # The pipeline already ran in ApiRoute and left its result on the request.
        return request.state.auth


class Authorizer(Protocol):
    async def __call__(self, request: Request, requirement: Requirement) -> None: ...


Proceed = Callable[[Request], Awaitable[Response]]
# Where FastAPI keeps the exit stack of `scope="function"` dependencies (fastapi.routing).
_FUNCTION_STACK = "fastapi_function_astack"


class IdempotencyGuard(Protocol):
    """Runs `proceed` at most once per Idempotency-Key (app.state.idempotency)."""

    async def __call__(self, request: Request, proceed: Proceed) -> Response: ...

    async def dry_run(self, request: Request, proceed: Proceed) -> Response:
        """Run a dry run: the key's form is checked, the key itself left untouched."""
        ...


class IdempotentMarker:
    """The marker `Idempotent` stands for; it does nothing when FastAPI calls it."""

    async def __call__(self) -> None:
        return None


IDEMPOTENT_MARKER = IdempotentMarker()
# On a creating POST: `@router.post(..., dependencies=[Idempotent])`.
Idempotent = Depends(IDEMPOTENT_MARKER)


def find_requirement(dependant: Dependant) -> Requirement | None:
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, Requirement):
            return dependency.call
        found = find_requirement(dependency)
        if found is not None:
            return found
    return None


def declares_idempotency(dependant: Dependant) -> bool:
    return any(
        isinstance(dependency.call, IdempotentMarker) or declares_idempotency(dependency)
        for dependency in dependant.dependencies
    )


class ApiRoute(APIRoute):
    requirement: Requirement
    idempotent: bool

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        # Called from APIRoute.__init__, once the dependant is built.
        requirement = find_requirement(self.dependant)
        if requirement is None:
            raise RuntimeError(f"API route {self.path} declares no scope; every route must")
        self.requirement = requirement
        idempotent = self.idempotent = declares_idempotency(self.dependant)
        if idempotent and self.methods != {"POST"}:
            raise RuntimeError(f"Idempotency-Key is for creating POSTs, not {self.path}")
        # Only a route that takes the flag does less on a dry run; elsewhere the parameter
        # is ignored and the request does real work, so it keeps its key.
        dry_runnable = any(param.alias == dry_run.PARAM for param in self.dependant.query_params)
        handler = super().get_route_handler()

        async def proceed(request: Request) -> Response:
            if not request.headers.get("content-type", "").startswith("multipart/"):
                # Read JSON bodies here so a size-cap breach surfaces as our 413; FastAPI's
                # own body reader would turn it into a generic 400. Multipart uploads are
                # streamed by their route instead.
                await request.body()
            # FastAPI closes function-scoped dependencies (the write session: its commit)
            # only when this whole handler returns. Close them when the route returns
            # instead, so the idempotency guard stores an answer only after the work it
            # describes has committed (and on SQLite does not wait on the route's own
            # write lock).
            outer = request.scope.get(_FUNCTION_STACK)
            try:
                async with AsyncExitStack() as function_stack:
                    request.scope[_FUNCTION_STACK] = function_stack
                    return await handler(request)
            finally:
                request.scope[_FUNCTION_STACK] = outer

        async def authorized_handler(request: Request) -> Response:
            authorize: Callable[[Request, Requirement], Awaitable[None]] = (
                request.app.state.authorizer
            )
            await authorize(request, requirement)
            if idempotent:
                guard: IdempotencyGuard = request.app.state.idempotency
                if dry_runnable and dry_run.requested(request):
                    return await guard.dry_run(request, proceed)
                return await guard(request, proceed)
            return await proceed(request)

        return authorized_handler


def iter_api_routes(
    routes: Iterable[BaseRoute], prefix: str = ""
) -> Iterator[tuple[str, APIRoute]]:
    """(full path, route) for every FastAPI route, looking inside included routers.

    FastAPI keeps included routers as nested groups rather than flattening their routes.
    """
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:
            context = route.include_context  # type: ignore[attr-defined]
            yield from iter_api_routes(original.routes, prefix + context.prefix)
        elif isinstance(route, APIRoute):
            yield prefix + route.path, route

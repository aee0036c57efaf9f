"""Deny-by-default routing for /api/v1.

Every API route declares the one scope it needs through a `Requirement` dependency (see
`auth.capabilities`). `ApiRoute` refuses to register a route without one, and runs the whole
authorisation pipeline *before* FastAPI reads the body, so the contract's check order holds:
401 key → 400 workspace header → 403 workspace → 403 scope → 400 body → 404 → business rules.
(FastAPI parses JSON before it runs dependencies, so a dependency alone would answer a bad
body with 400 before an unauthenticated caller got 401.)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute


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


def find_requirement(dependant: Dependant) -> Requirement | None:
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, Requirement):
            return dependency.call
        found = find_requirement(dependency)
        if found is not None:
            return found
    return None


class ApiRoute(APIRoute):
    requirement: Requirement

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        # Called from APIRoute.__init__, once the dependant is built.
        requirement = find_requirement(self.dependant)
        if requirement is None:
            raise RuntimeError(f"API route {self.path} declares no scope; every route must")
        self.requirement = requirement
        handler = super().get_route_handler()

        async def authorized_handler(request: Request) -> Response:
            authorize: Callable[[Request, Requirement], Awaitable[None]] = (
                request.app.state.authorizer
            )
            await authorize(request, requirement)
            if not request.headers.get("content-type", "").startswith("multipart/"):
                # Read JSON bodies here so a size-cap breach surfaces as our 413; FastAPI's
                # own body reader would turn it into a generic 400. Multipart uploads are
                # streamed by their route instead.
                await request.body()
            return await handler(request)

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

"""Deny by default: every /api/v1 route declares exactly one known scope."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI

from powerpost.api_keys.scopes import PRESETS, SCOPES
from powerpost.auth.capabilities import AccountRead
from powerpost.kit.routing import ApiRoute, iter_api_routes


def test_every_api_route_declares_a_known_scope(app: FastAPI) -> None:
    api_routes = [(p, r) for p, r in iter_api_routes(app.routes) if p.startswith("/api/v1")]
    assert {p for p, _ in api_routes} >= {"/api/v1/account/credits", "/api/v1/workspaces"}
    for path, route in api_routes:
        assert isinstance(route, ApiRoute), f"{path} is not an ApiRoute"
        assert route.requirement.scope in SCOPES, path
    # and nothing else in the app answers under /api/v1 except the OpenAPI document
    others = [r for r in app.routes if getattr(r, "path", "").startswith("/api/v1")]
    assert [getattr(r, "path", "") for r in others] == ["/api/v1/openapi.json"]


def test_a_route_without_a_scope_cannot_be_registered() -> None:
    router = APIRouter(route_class=ApiRoute)
    with pytest.raises(RuntimeError, match="declares no scope"):

        @router.get("/naked")
        async def naked() -> dict[str, str]:
            return {}


def test_a_route_with_a_scope_registers() -> None:
    router = APIRouter(route_class=ApiRoute)

    @router.get("/dressed")
    async def dressed(auth: AccountRead) -> dict[str, str]:
        return {}

    route = router.routes[0]
    assert isinstance(route, ApiRoute)
    assert route.requirement.scope == "account:read"
    assert route.requirement.workspace is False


def test_presets_match_the_contract() -> None:
    assert PRESETS["read_write"] == frozenset(SCOPES)
    assert PRESETS["read_draft"] == frozenset(SCOPES) - {"posts:publish"}
    assert PRESETS["read_only"] == {s for s in SCOPES if s.endswith(":read")}
    # the fourteen of §2 and the webhook extension's two (§14)
    assert len(SCOPES) == 16
    assert {"webhooks:read", "webhooks:write"} <= PRESETS["read_draft"]
    assert "webhooks:read" in PRESETS["read_only"]
    assert "webhooks:write" not in PRESETS["read_only"]

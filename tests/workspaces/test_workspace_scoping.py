"""powerpost-api.md §3: the X-Workspace-Id rules and the check order."""

from __future__ import annotations

import uuid

import httpx
import pytest
from tests.fixtures.factories import Factory, headers

from powerpost.kit.clock import utcnow
from powerpost.kit.routing import iter_api_routes
from powerpost.workspaces import repository

PROBE = "/api/v1/_probe/known"
BODY = {"prompt": "hello world"}


async def test_workspace_header_rules(probe_client: httpx.AsyncClient, factory: Factory) -> None:
    alice = await factory.account()
    bob = await factory.account()
    _, key = await factory.key(alice)
    deleted = await factory.workspace(alice, "to delete")
    async with factory.db.write() as session:
        await repository.soft_delete(session, deleted, utcnow())

    ok = await probe_client.post(PROBE, json=BODY, headers=headers(key, alice.workspace_id))
    assert ok.status_code == 200
    assert ok.json()["workspace_id"] == alice.workspace_id

    missing = await probe_client.post(PROBE, json=BODY, headers=headers(key))
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "VALIDATION_ERROR"

    for malformed in ("not-a-uuid", "", alice.workspace_id + "x", "' OR 1=1 --"):
        response = await probe_client.post(
            PROBE, json=BODY, headers={"x-api-key": key, "X-Workspace-Id": malformed}
        )
        assert response.status_code == 400, malformed

    repeated = await probe_client.post(
        PROBE,
        json=BODY,
        headers=[
            ("x-api-key", key),
            ("X-Workspace-Id", alice.workspace_id),
            ("X-Workspace-Id", alice.workspace_id),
        ],
    )
    assert repeated.status_code == 400

    forbidden_bodies = set()
    for workspace_id in (bob.workspace_id, str(uuid.uuid4()), deleted):
        response = await probe_client.post(PROBE, json=BODY, headers=headers(key, workspace_id))
        assert response.status_code == 403
        forbidden_bodies.add(response.content)
    assert len(forbidden_bodies) == 1  # byte-identical: no existence oracle
    assert (
        forbidden_bodies.pop()
        == b'{"error":{"message":"You do not have access to this workspace","code":"FORBIDDEN"}}'
    )

    # uppercase form of one's own workspace id is the same workspace
    upper = await probe_client.post(
        PROBE, json=BODY, headers=headers(key, alice.workspace_id.upper())
    )
    assert upper.status_code == 200


async def test_check_order(probe_client: httpx.AsyncClient, factory: Factory) -> None:
    alice = await factory.account()
    bob = await factory.account()
    _, full = await factory.key(alice)
    _, reader = await factory.key(alice, "read_only")
    bad_json = b"{not json"

    async def post(
        hdrs: dict[str, str], content: bytes = bad_json, path: str = "/api/v1/_probe/unknown"
    ) -> int:
        response = await probe_client.post(
            path, content=content, headers={**hdrs, "content-type": "application/json"}
        )
        return response.status_code

    # 401 beats everything, even a bad body and a foreign workspace
    assert await post({"X-Workspace-Id": bob.workspace_id}) == 401
    # 400 workspace header before 403 and before the body
    assert await post({"x-api-key": full}) == 400
    # 403 workspace beats a scope problem and a bad body
    assert await post(headers(reader, bob.workspace_id)) == 403
    # 403 scope beats a bad body
    response = await probe_client.post(
        "/api/v1/_probe/unknown",
        content=bad_json,
        headers={**headers(reader, alice.workspace_id), "content-type": "application/json"},
    )
    assert response.status_code == 403
    assert response.json()["error"] == {
        "message": "This API key lacks the 'content:generate' scope",
        "code": "INSUFFICIENT_SCOPE",
        "required_scope": "content:generate",
    }
    # 400 body before 404 object
    assert await post(headers(full, alice.workspace_id)) == 400
    # with a good body, the unknown object is 404
    assert await post(headers(full, alice.workspace_id), b'{"prompt": "hello"}') == 404


async def test_stray_workspace_header_is_ignored_on_account_routes(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    alice = await factory.account()
    bob = await factory.account()
    _, key = await factory.key(alice)
    for value in (bob.workspace_id, "garbage"):
        response = await client.get(
            "/api/v1/account/credits", headers={"x-api-key": key, "X-Workspace-Id": value}
        )
        assert response.status_code == 200


async def test_list_workspaces_shows_only_own(client: httpx.AsyncClient, factory: Factory) -> None:
    alice = await factory.account()
    bob = await factory.account()
    second = await factory.workspace(alice, "Client B")
    deleted = await factory.workspace(alice, "Gone")
    async with factory.db.write() as session:
        await repository.soft_delete(session, deleted, utcnow())
    _, key = await factory.key(alice, "read_only")
    response = await client.get("/api/v1/workspaces", headers=headers(key))
    assert response.status_code == 200
    data = response.json()["data"]
    assert [w["id"] for w in data] == [alice.workspace_id, second]
    assert {w["name"] for w in data} == {"Default workspace", "Client B"}
    assert bob.workspace_id not in {w["id"] for w in data}
    assert all(w["created_at"].endswith("Z") for w in data)


@pytest.mark.parametrize("key_type", ["read_draft", "read_only"])
async def test_keys_without_publish_get_403_on_publish_like_routes(
    probe_client: httpx.AsyncClient, factory: Factory, key_type: str
) -> None:
    alice = await factory.account()
    _, key = await factory.key(alice, key_type)
    _, full = await factory.key(alice, "read_write", name="full")
    app = probe_client._transport.app  # type: ignore[attr-defined]
    publish_routes = [
        (path, r)
        for path, r in iter_api_routes(app.routes)
        if getattr(r, "requirement", None) and r.requirement.scope == "posts:publish"  # type: ignore[attr-defined]
    ]
    assert publish_routes  # the probe route at least; real ones once posts exist
    for route_path, route in publish_routes:
        for method in route.methods:
            path = route_path.replace("{item_id}", "known").replace("{post_id}", str(uuid.uuid4()))
            denied = await probe_client.request(
                method, path, headers=headers(key, alice.workspace_id)
            )
            assert denied.status_code == 403, path
            assert denied.json()["error"]["code"] == "INSUFFICIENT_SCOPE"
            assert denied.json()["error"]["required_scope"] == "posts:publish"
            allowed = await probe_client.request(
                method, path, headers=headers(full, alice.workspace_id)
            )
            assert allowed.status_code != 403


def _odd_spellings(canonical: str) -> list[str]:
    """Strings `uuid.UUID` reads as `canonical` that are not its 8-4-4-4-12 form."""
    hex32 = canonical.replace("-", "")
    return [
        "----" + hex32,
        hex32 + "----",
        "-".join(hex32[i : i + 4] for i in range(0, 32, 4))[:36],
        "{" + hex32 + "}",
        "{" + canonical[1:-1] + "}",
        "urn:uuid:" + hex32[:27],
        hex32,
    ]


async def test_only_the_canonical_uuid_form_is_a_workspace_id(
    probe_client: httpx.AsyncClient, factory: Factory
) -> None:
    """Issue 8, B6: `----` + 32 hex digits was accepted (uuid.UUID strips hyphens)."""
    from powerpost.kit.ids import parse_uuid

    alice = await factory.account()
    _, key = await factory.key(alice)
    for odd in _odd_spellings(alice.workspace_id):
        assert parse_uuid(odd) is None, odd
        response = await probe_client.post(
            PROBE, json=BODY, headers={"x-api-key": key, "X-Workspace-Id": odd}
        )
        assert response.status_code == 400, odd
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    upper = await probe_client.post(
        PROBE, json=BODY, headers=headers(key, alice.workspace_id.upper())
    )
    assert upper.status_code == 200
    assert upper.json()["workspace_id"] == alice.workspace_id


async def test_only_the_canonical_uuid_form_finds_an_object(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    alice = await factory.account()
    _, key = await factory.key(alice)
    h = headers(key, alice.workspace_id)
    created = await client.post(
        "/api/v1/content/generate",
        headers=h,
        json={"prompt": "Autumn menu launch", "post_types": ["x-post"], "research_mode": "regular"},
    )
    assert created.status_code == 200, created.text
    generation_id = created.json()["generation_id"]
    for spelling in (generation_id, generation_id.upper()):
        found = await client.get(f"/api/v1/content/generations/{spelling}", headers=h)
        assert found.status_code == 200, spelling
    for odd in _odd_spellings(generation_id):
        response = await client.get(f"/api/v1/content/generations/{odd}", headers=h)
        assert response.status_code == 404, odd

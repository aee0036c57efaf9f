"""Account A's key never reaches account B's objects, on any route that takes an id; and
one workspace's objects are not found from another workspace of the same account."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import httpx
from fastapi import FastAPI
from PIL import Image

from powerpost.credits import service as credits
from powerpost.kit.clock import iso_z, utcnow
from powerpost.kit.routing import iter_api_routes
from tests.fixtures.factories import Factory, Tenant, headers


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), "teal").save(buffer, "PNG")
    return buffer.getvalue()


async def _objects_of(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory, owner: Tenant, mode: str = "live"
) -> dict[str, str]:
    """One object of every kind the API exposes by id, owned by `owner`, made by a key of
    `mode`."""
    async with app.state.db.write() as session:
        await credits.grant(session, owner.account_id, 200, reason="tenancy test")
    _, key = await factory.key(owner, name=f"owner ({mode})", mode=mode)
    h = headers(key, owner.workspace_id)
    upload = await client.post(
        "/api/v1/media/upload",
        headers=h,
        files={"file": ("a.png", _png(), "image/png")},
        data={"type": "image"},
    )
    assert upload.status_code == 200, upload.text
    caption = await client.post(
        "/api/v1/content/generate",
        headers=h,
        json={"prompt": "Autumn menu launch", "post_types": ["x-post"], "research_mode": "regular"},
    )
    assert caption.status_code == 200, caption.text
    image = await client.post("/api/v1/images/generate", headers=h, json={"prompt": "autumn menu"})
    assert image.status_code == 200, image.text
    video = await client.post(
        "/api/v1/videos/generate", headers=h, json={"prompt": "autumn menu", "duration": 5}
    )
    assert video.status_code == 200, video.text
    entry = await client.post(
        "/api/v1/calendar/entries",
        headers=h,
        json={"title": "Plan", "scheduled_date": "2027-01-04"},
    )
    assert entry.status_code == 200, entry.text
    post = await client.post(
        "/api/v1/posts", headers=h, json={"items": [{"post_type": "x-post", "content": "Hi"}]}
    )
    assert post.status_code == 200, post.text
    return {
        "post": post.json()["post_id"],
        "media": upload.json()["media_id"],
        "generation": caption.json()["generation_id"],
        "image_generation": image.json()["image_generation_id"],
        "video_generation": video.json()["video_generation_id"],
        "calendar_entry": entry.json()["entry_id"],
    }


# A valid body for the routes that need one, so the answer is about the object, not the body.
_BODIES: dict[tuple[str, str], dict[str, object]] = {
    ("PATCH", "/api/v1/calendar/entries/{entry_id}"): {"title": "Renamed"},
    ("PATCH", "/api/v1/posts/{post_id}"): {"items": [{"post_type": "x-post", "content": "Hey"}]},
    ("POST", "/api/v1/posts/{post_id}/schedule"): {
        "scheduled_at": iso_z(utcnow() + timedelta(days=1))
    },
}


def _id_routes(app: FastAPI) -> list[tuple[str, str]]:
    # DELETE last: the same-workspace pass must still find the object on the other routes.
    return sorted(
        (
            (method, path)
            for path, route in iter_api_routes(app.routes)
            if path.startswith("/api/v1")
            and "{" in path
            # Webhook endpoints and their deliveries are kept apart by
            # tests/webhooks/test_api.py::test_workspaces_are_kept_apart, which has a local
            # receiver to deliver to; they belong to the workspace, not to a key's mode.
            and not path.startswith("/api/v1/webhooks")
            for method in route.methods
        ),
        key=lambda item: (item[0] == "DELETE", item),
    )


def _body(method: str, path: str) -> dict[str, object] | None:
    return _BODIES.get((method, path))


def _fill(path: str, objects: dict[str, str]) -> str:
    kind = {
        "/api/v1/content/generations/{generation_id}": "generation",
        "/api/v1/images/generations/{image_generation_id}": "image_generation",
        "/api/v1/videos/generations/{video_generation_id}": "video_generation",
        "/api/v1/calendar/entries/{entry_id}": "calendar_entry",
        "/api/v1/posts/{post_id}": "post",
        "/api/v1/posts/{post_id}/publish": "post",
        "/api/v1/posts/{post_id}/schedule": "post",
        "/api/v1/posts/{post_id}/cancel": "post",
        "/api/v1/posts/{post_id}/retry": "post",
    }
    template = re.sub(r"\{[^}]+\}", "{}", path)
    for known, name in kind.items():
        if re.sub(r"\{[^}]+\}", "{}", known) == template:
            return template.format(objects[name])
    raise AssertionError(f"no object for {path}: add its kind to this test")


async def test_no_route_reaches_another_accounts_objects(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    alice = await factory.account()
    bob = await factory.account()
    bobs = await _objects_of(client, app, factory, bob)
    _, alice_key = await factory.key(alice)
    routes = _id_routes(app)
    assert routes, "expected routes that take an object id"
    for method, path in routes:
        url = _fill(path, bobs)
        own_workspace = await client.request(
            method, url, headers=headers(alice_key, alice.workspace_id), json=_body(method, path)
        )
        assert own_workspace.status_code == 404, (method, url, own_workspace.text)
        their_workspace = await client.request(
            method, url, headers=headers(alice_key, bob.workspace_id), json=_body(method, path)
        )
        assert their_workspace.status_code == 403, (method, url)
        assert their_workspace.json()["error"]["code"] == "FORBIDDEN"
    # and media ids in request bodies are checked too
    for url, body in (
        (
            "/api/v1/content/generate",
            {"media_ids": [bobs["media"]], "post_types": ["x-post"], "research_mode": "regular"},
        ),
        ("/api/v1/images/generate", {"prompt": "x", "style_images": [bobs["media"]]}),
        ("/api/v1/videos/generate", {"prompt": "x", "duration": 5, "source_image": bobs["media"]}),
        ("/api/v1/images/generate", {"generation_id": bobs["generation"]}),
    ):
        response = await client.post(url, json=body, headers=headers(alice_key, alice.workspace_id))
        assert response.status_code == 404, (url, response.text)


async def test_objects_stay_in_their_workspace_within_one_account(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    owner = await factory.account()
    second = await factory.workspace(owner, "Client B")
    objects = await _objects_of(client, app, factory, owner)
    _, key = await factory.key(owner, name="same account")
    for method, path in _id_routes(app):
        url = _fill(path, objects)
        body = _body(method, path)
        response = await client.request(method, url, headers=headers(key, second), json=body)
        assert response.status_code == 404, (method, url)
        same = await client.request(
            method, url, headers=headers(key, owner.workspace_id), json=body
        )
        # Found in its own workspace: answered by the route itself (a state rule may say 409,
        # cancelling a post that is not scheduled; 422: publishing to an unconnected live
        # platform), never a 404.
        assert same.status_code in (200, 409, 422), (method, url, same.text)
    listed = await client.get("/api/v1/content/generations", headers=headers(key, second))
    assert listed.json()["data"] == []


async def test_objects_stay_in_their_mode_within_one_workspace(
    client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    """A test key reaches none of the live objects of its own workspace on any id route, a
    live key none of the test ones (404, as for an id that does not exist); lists show only
    the caller's mode; and ids in request bodies are held to the caller's mode too."""
    owner = await factory.account()
    made = {mode: await _objects_of(client, app, factory, owner, mode) for mode in ("live", "test")}
    _, live_key = await factory.key(owner, name="live reader")
    _, test_key = await factory.key(owner, name="test reader", mode="test")
    keys = {
        "live": headers(live_key, owner.workspace_id),
        "test": headers(test_key, owner.workspace_id),
    }
    for mode, other in (("live", "test"), ("test", "live")):
        h = keys[mode]
        for method, path in _id_routes(app):
            body = _body(method, path)
            foreign = await client.request(method, _fill(path, made[other]), headers=h, json=body)
            assert foreign.status_code == 404, (mode, method, path, foreign.text)
        for url, field, kind in (
            ("/api/v1/content/generations", "generation_id", "generation"),
            ("/api/v1/posts", "post_id", "post"),
        ):
            listed = await client.get(url, headers=h)
            assert listed.status_code == 200, listed.text
            ids = [item[field] for item in listed.json()["data"]]
            assert made[other][kind] not in ids
        for url, request in (
            (
                "/api/v1/content/generate",
                {"media_ids": [made[other]["media"]], "post_types": ["x-post"],
                 "research_mode": "regular"},
            ),
            ("/api/v1/images/generate", {"prompt": "x", "style_images": [made[other]["media"]]}),
            ("/api/v1/videos/generate",
             {"prompt": "x", "duration": 5, "source_image": made[other]["media"]}),
            ("/api/v1/images/generate", {"generation_id": made[other]["generation"]}),
            ("/api/v1/posts", {"generation_id": made[other]["generation"],
                               "items": [{"post_type": "x-post"}]}),
        ):  # fmt: skip
            response = await client.post(url, json=request, headers=h)
            assert response.status_code == 404, (mode, url, response.text)

"""The `openai` image provider wired end to end: settings → registry → job → storage, with
the vendor played by an httpx.MockTransport that checks every request."""

from __future__ import annotations

import base64
import email.parser
import email.policy
import io
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image
from tests.fixtures.factories import Factory
from tests.fixtures.paid import assert_postponed, make_due
from tests.images.support import (
    Api,
    api_for,
    decode_image,
    events,
    ledger,
    png_bytes,
    with_providers,
)

from powerpost.config import Settings, load_settings
from powerpost.images.providers import registry

NAME = "openai-on-mock"
BASE = "https://images.vendor.test/v1"
KEY = "sk-vendor-key"
UPSTREAM = {
    "flux2-flex": "flux-2-flex",
    "ideogram-3": "ideogram-v3",
    "gpt-image-1.5": "gpt-image-1",
    "nano-banana-2": "gemini-image",
}
Reply = Callable[[httpx.Request], httpx.Response]


def _png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def pictures(count: int | None = None) -> Reply:
    """Answer with as many PNGs of the requested size as asked (or `count`)."""

    def reply(request: httpx.Request) -> httpx.Response:
        if request.headers["content-type"].startswith("application/json"):
            fields = json.loads(request.content)
        else:
            fields = {
                name: value.decode()
                for name, filename, value in form_parts(request)
                if filename is None
            }
        width, height = (int(v) for v in str(fields["size"]).split("x"))
        n = int(fields["n"]) if count is None else count
        data = [{"b64_json": base64.b64encode(_png((width, height))).decode()} for _ in range(n)]
        return httpx.Response(200, json={"created": 1, "data": data})

    return reply


def form_parts(request: httpx.Request) -> list[tuple[str, str | None, bytes]]:
    header = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        header + request.content
    )
    parts = []
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        name = str(part.get_param("name", header="content-disposition"))
        parts.append((name, part.get_filename(), payload))
    return parts


class Vendor:
    """The fake vendor: checks the key, records requests, replays a script per path."""

    def __init__(self) -> None:
        self.script: dict[str, list[Reply]] = {}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == f"Bearer {KEY}"
        assert str(request.url).startswith(BASE + "/")
        self.requests.append(request)
        replies = self.script.get(request.url.path)
        assert replies, f"unexpected call {request.method} {request.url}"
        reply = replies.pop(0) if len(replies) > 1 else replies[0]
        return reply(request)


@pytest.fixture
async def vendor() -> AsyncIterator[Vendor]:
    fake = Vendor()
    http = httpx.AsyncClient(transport=httpx.MockTransport(fake))
    registry.register(
        NAME, lambda settings, _shared: registry.openai_provider(settings, http, backoff_base=0.0)
    )
    yield fake
    registry.unregister(NAME)
    await http.aclose()


@pytest.fixture
def settings(env: dict[str, str], vendor: Vendor) -> Settings:
    return with_providers(
        load_settings(env),
        images=NAME,
        openai_api_key=KEY,
        openai_base_url=BASE,
        openai_max_retries=1,
        image_model_map=UPSTREAM,
    )


@pytest.fixture
async def api(client: httpx.AsyncClient, app: FastAPI, factory: Factory) -> Api:
    return await api_for(client, app, factory)


async def generate(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post("/images/generate", body)
    assert response.status_code == 200, response.text
    return await api.finished(response.json()["status_url"])


async def test_text_mode_asks_for_the_nearest_size_and_stores_the_promised_one(
    api: Api, vendor: Vendor
) -> None:
    vendor.script["/v1/images/generations"] = [pictures()]
    done = await generate(
        api,
        {"prompt": "Lantern parade", "size": "portrait", "quantity": 2, "enhance_prompt": True},
    )
    assert done["status"] == "completed", done

    (request,) = vendor.requests
    sent = json.loads(request.content)
    assert sent["model"] == "flux-2-flex"  # the operator's model map
    assert sent["n"] == 2
    assert sent["size"] == "1024x1536"  # the vendor's nearest to 9:16
    assert sent["prompt"].startswith("Lantern parade\n\n")  # enhance adds direction
    # the vendor's 2:3 is cropped and resized to portrait's promised 9:16 pixels
    for image in done["images"]:
        assert (image["width"], image["height"]) == (1080, 1920)
        picture = await decode_image(api, image["url"])
        assert (picture.format, picture.size) == ("PNG", (1080, 1920))
    assert await api.balance() == 40


async def test_reference_mode_sends_the_style_images_to_edits(api: Api, vendor: Vendor) -> None:
    first, second = png_bytes((80, 60), (250, 0, 0)), png_bytes((60, 80), (0, 0, 250))
    ids = [
        await api.upload(first, "image", "one.png"),
        await api.upload(second, "image", "two.png"),
    ]
    vendor.script["/v1/images/edits"] = [pictures()]
    done = await generate(
        api, {"prompt": "In this style", "style_images": ids, "model": "gpt-image-1.5"}
    )
    assert done["status"] == "completed", done
    (request,) = vendor.requests
    parts = form_parts(request)
    fields = {name: value.decode() for name, filename, value in parts if filename is None}
    assert fields["model"] == "gpt-image-1"
    assert fields["prompt"] == "In this style"
    assert fields["size"] == "1024x1024"
    assert [value for name, _, value in parts if name == "image[]"] == [first, second]
    assert await api.balance() == 50 - 14


async def test_fewer_pictures_than_asked_refunds_the_missing_ones(api: Api, vendor: Vendor) -> None:
    vendor.script["/v1/images/generations"] = [pictures(count=2)]
    done = await generate(api, {"prompt": "Three please", "quantity": 3, "model": "ideogram-3"})
    assert done["status"] == "failed"
    assert len(done["images"]) == 2
    assert "fewer images" in done["error"]["message"]
    ref = f"image_generation:{done['image_generation_id']}"
    assert await ledger(api.app, api.account_id, ref) == [("hold", -18), ("release", 6)]
    assert await api.balance() == 50 - 12


async def test_vendor_refusal_fails_with_its_reason_and_refunds(api: Api, vendor: Vendor) -> None:
    refusal = httpx.Response(400, json={"error": {"message": "Your prompt was flagged"}})
    vendor.script["/v1/images/generations"] = [lambda request: refusal]
    done = await generate(api, {"prompt": "Something odd", "quantity": 2})
    assert done["status"] == "failed"
    assert done["error"]["code"] == "IMAGE_GENERATION_FAILED"
    assert "Your prompt was flagged" in done["error"]["message"]
    assert len(vendor.requests) == 1
    assert await api.balance() == 50


async def test_a_server_error_is_retried_by_the_provider(api: Api, vendor: Vendor) -> None:
    busy = httpx.Response(503, json={"error": {"message": "overloaded"}})
    vendor.script["/v1/images/generations"] = [lambda request: busy, pictures()]
    done = await generate(api, {"prompt": "Patience", "size": "landscape"})
    assert done["status"] == "completed", done
    assert len(vendor.requests) == 2
    (image,) = done["images"]
    assert (image["width"], image["height"]) == (1920, 1080)
    picture = await decode_image(api, image["url"])
    assert picture.size == (1920, 1080)


async def test_feed_is_stored_at_its_promised_4_to_5(api: Api, vendor: Vendor) -> None:
    vendor.script["/v1/images/generations"] = [pictures()]
    done = await generate(api, {"prompt": "Bakery window", "size": "feed", "quantity": 2})
    assert done["status"] == "completed", done
    assert json.loads(vendor.requests[0].content)["size"] == "1024x1536"
    for image in done["images"]:
        assert (image["width"], image["height"]) == (1080, 1350)
        picture = await decode_image(api, image["url"])
        assert (picture.format, picture.size) == ("PNG", (1080, 1350))


async def test_vendor_text_that_would_leak_is_not_echoed(api: Api, vendor: Vendor) -> None:
    rejected = httpx.Response(
        401, json={"error": {"message": f"Incorrect API key provided: {KEY}-abcdef123456"}}
    )
    vendor.script["/v1/images/generations"] = [lambda request: rejected]
    done = await generate(api, {"prompt": "Key check"})
    assert done["status"] == "failed"
    assert done["error"]["message"] == (
        "The images could not be generated: the image generation request rejected this "
        "server's credentials (401); the operator must check the API key"
    )
    html = httpx.Response(422, text="<pre>Traceback: /srv/vendor/app.py line 12</pre>")
    vendor.script["/v1/images/generations"] = [lambda request: html]
    done = await generate(api, {"prompt": "Trace"})
    assert done["error"]["message"] == (
        "The images could not be generated: the image generation request refused the "
        "request (422): Unprocessable Entity"
    )
    shown = str(await events(api.app, api.workspace_id, "image_generation."))
    assert "Incorrect API key" not in shown
    assert KEY not in shown
    assert "/srv/vendor" not in shown
    assert await api.balance() == 50


async def test_a_long_retry_after_from_the_vendor_is_waited_out(api: Api, vendor: Vendor) -> None:
    slow_down = httpx.Response(
        429, json={"error": {"message": "rate limited"}}, headers={"Retry-After": "900"}
    )
    vendor.script["/v1/images/generations"] = [lambda request: slow_down, pictures()]
    response = await api.post("/images/generate", {"prompt": "Later"})
    generation_id = response.json()["image_generation_id"]
    job = await assert_postponed(api.app, generation_id, at_least=890)
    assert len(vendor.requests) == 1  # not waited out inside the attempt, not retried early
    await make_due(api.app, job.id)
    done = await api.finished(response.json()["status_url"])
    assert done["status"] == "completed", done
    assert len(vendor.requests) == 2

"""The OpenAI-compatible image provider against scripted fakes on httpx.MockTransport."""

from __future__ import annotations

import base64
import email.parser
import email.policy
import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import ExifTags, Image

from powerpost.images.providers.base import (
    SIZE_PIXELS,
    ImageRequest,
    ImageSize,
    ProviderError,
    ReferenceImage,
)
from powerpost.images.providers.openai_compat import (
    ENHANCE_SUFFIX,
    OpenAIImageProvider,
    build_prompt,
    openai_size,
    retry_after_seconds,
)

BASE = "https://images.example.test/v1"
KEY = "sk-test-images"
MODEL_MAP = {"gpt-image-1.5": "gpt-image-1", "flux2-flex": "flux-2-flex"}
Handler = Callable[[httpx.Request], Awaitable[httpx.Response]]


def _png(size: tuple[int, int], colour: tuple[int, int, int] = (10, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _jpeg(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 60, 30)).save(buffer, format="JPEG")
    return buffer.getvalue()


def _b64(data: bytes) -> dict[str, str]:
    return {"b64_json": base64.b64encode(data).decode("ascii")}


def _request(**changes: Any) -> ImageRequest:
    fields: dict[str, Any] = {
        "prompt": "A lighthouse at dawn",
        "size": "square",
        "model": "gpt-image-1.5",
        "quantity": 1,
        "enhance_prompt": False,
    }
    fields.update(changes)
    return ImageRequest(**fields)


def _multipart(request: httpx.Request) -> list[tuple[str, str | None, str, bytes]]:
    """(field name, file name, content type, payload) for every part of a form body."""
    header = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        header + request.content
    )
    parts = []
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        parts.append(
            (
                str(part.get_param("name", header="content-disposition")),
                part.get_filename(),
                part.get_content_type(),
                payload,
            )
        )
    return parts


class Fake:
    """Records what the provider sent and replays a script of answers."""

    def __init__(self, *script: Handler) -> None:
        self.script = list(script)
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert self.script, f"unexpected extra call {request.method} {request.url}"
        return await self.script.pop(0)(request)


def answer(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Handler:
    async def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, bytes):
            return httpx.Response(status, content=body, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return handler


def raise_timeout() -> Handler:
    async def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("the upstream is slow", request=request)

    return handler


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
async def client() -> AsyncIterator[Callable[[Fake], httpx.AsyncClient]]:
    made: list[httpx.AsyncClient] = []

    def make(fake: Fake) -> httpx.AsyncClient:
        made.append(httpx.AsyncClient(transport=httpx.MockTransport(fake)))
        return made[-1]

    yield make
    for item in made:
        await item.aclose()


@pytest.fixture
def provider(
    client: Callable[[Fake], httpx.AsyncClient], sleeps: list[float]
) -> Callable[..., OpenAIImageProvider]:
    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    def make(fake: Fake, **options: Any) -> OpenAIImageProvider:
        settings: dict[str, Any] = {"timeout": 30.0, "max_retries": 2, "backoff_base": 0.25}
        settings.update(options)
        return OpenAIImageProvider(
            client(fake), BASE + "/", KEY, MODEL_MAP, sleep=fake_sleep, **settings
        )

    return make


async def test_text_mode_posts_generations_and_decodes_b64(
    provider: Callable[..., OpenAIImageProvider],
) -> None:
    pictures = [_png((1536, 1024)), _png((1536, 1024), (250, 250, 0))]
    fake = Fake(answer(200, {"created": 1, "data": [_b64(p) for p in pictures]}))

    results = await provider(fake).generate(_request(size="landscape", quantity=2))

    (sent,) = fake.requests
    assert sent.method == "POST"
    assert sent.url == f"{BASE}/images/generations"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.headers["content-type"] == "application/json"
    assert json.loads(sent.content) == {
        "model": "gpt-image-1",
        "prompt": "A lighthouse at dawn",
        "n": 2,
        "size": "1536x1024",
        "output_format": "png",  # GPT image models reject response_format
    }
    assert [r.index for r in results] == [0, 1]
    for result, colour in zip(results, [(10, 120, 200), (250, 250, 0)], strict=True):
        assert result.error is None
        assert result.image is not None
        # 3:2 from the API, delivered at the promised 16:9 pixels
        assert result.image.mime_type == "image/png"
        assert (result.image.width, result.image.height) == (1920, 1080)
        decoded = Image.open(io.BytesIO(result.image.data))
        assert (decoded.format, decoded.size) == ("PNG", (1920, 1080))
        assert decoded.convert("RGB").getpixel((960, 540)) == colour


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ("square", "1024x1024"),
        ("feed", "1024x1536"),
        ("portrait", "1024x1536"),
        ("landscape", "1536x1024"),
    ],
)
def test_each_size_asks_for_the_nearest_aspect(size: ImageSize, expected: str) -> None:
    assert openai_size(size) == expected


async def test_url_results_are_downloaded_without_our_key(
    provider: Callable[..., OpenAIImageProvider],
) -> None:
    blob = "https://blobs.example.test/generated/abc.jpg"
    fake = Fake(answer(200, {"data": [{"url": blob}]}), answer(200, _jpeg((1000, 800))))

    (result,) = await provider(fake).generate(_request(model="flux2-flex", size="feed"))

    generation, download = fake.requests
    body = json.loads(generation.content)
    assert body["model"] == "flux-2-flex"
    assert body["response_format"] == "b64_json"
    assert "output_format" not in body
    assert body["size"] == "1024x1536"
    assert download.method == "GET"
    assert str(download.url) == blob
    assert "authorization" not in download.headers
    assert result.image is not None
    # whatever came back is brought to the promised 4:5 pixels, in its own format
    assert (result.image.width, result.image.height) == (1080, 1350)
    assert result.image.mime_type == "image/jpeg"
    decoded = Image.open(io.BytesIO(result.image.data))
    assert (decoded.format, decoded.size) == ("JPEG", (1080, 1350))


async def test_reference_mode_posts_edits_as_multipart(
    provider: Callable[..., OpenAIImageProvider], tmp_path: Path
) -> None:
    first, second = tmp_path / "one.png", tmp_path / "two.jpg"
    first.write_bytes(_png((64, 64)))
    second.write_bytes(_jpeg((64, 48)))
    request = _request(
        quantity=1,
        size="portrait",
        references=(ReferenceImage(first, "image/png"), ReferenceImage(second, "image/jpeg")),
    )
    fake = Fake(answer(200, {"data": [_b64(_png((1024, 1536)))]}))

    (result,) = await provider(fake).generate(request)

    (sent,) = fake.requests
    assert sent.method == "POST"
    assert sent.url == f"{BASE}/images/edits"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.headers["content-type"].startswith("multipart/form-data; boundary=")
    parts = _multipart(sent)
    fields = {name: payload.decode() for name, filename, _, payload in parts if filename is None}
    assert fields == {
        "model": "gpt-image-1",
        "prompt": "A lighthouse at dawn",
        "n": "1",
        "size": "1024x1536",
        "output_format": "png",
    }
    images = [(ctype, payload) for name, _, ctype, payload in parts if name == "image[]"]
    assert images == [("image/png", first.read_bytes()), ("image/jpeg", second.read_bytes())]
    assert result.image is not None
    assert (result.image.width, result.image.height) == (1080, 1920)


async def test_server_error_then_success_is_retried_with_backoff(
    provider: Callable[..., OpenAIImageProvider], sleeps: list[float]
) -> None:
    fake = Fake(
        answer(500, {"error": {"message": "upstream hiccup"}}),
        answer(503, b"busy"),
        answer(200, {"data": [_b64(_png((1024, 1024)))]}),
    )

    (result,) = await provider(fake).generate(_request())

    assert len(fake.requests) == 3
    assert sleeps == [0.25, 0.5]  # exponential from backoff_base
    assert result.image is not None


async def test_rate_limit_honours_retry_after(
    provider: Callable[..., OpenAIImageProvider], sleeps: list[float]
) -> None:
    fake = Fake(
        answer(429, {"error": {"message": "slow down"}}, {"Retry-After": "7"}),
        answer(200, {"data": [_b64(_png((1024, 1024)))]}),
    )

    (result,) = await provider(fake).generate(_request())

    assert sleeps == [7.0]
    assert result.error is None


async def test_persistent_rate_limit_becomes_a_retryable_error(
    provider: Callable[..., OpenAIImageProvider], sleeps: list[float]
) -> None:
    fake = Fake(*[answer(429, {"error": {"message": "quota"}}, {"Retry-After": "2"})] * 3)

    with pytest.raises(ProviderError, match="quota") as caught:
        await provider(fake, max_retries=2).generate(_request())

    assert caught.value.retryable is True
    assert len(fake.requests) == 3
    assert sleeps == [2.0, 2.0]
    assert KEY not in str(caught.value)


async def test_long_retry_after_is_left_to_the_job_layer(
    provider: Callable[..., OpenAIImageProvider], sleeps: list[float]
) -> None:
    fake = Fake(answer(429, {"error": {"message": "come back later"}}, {"Retry-After": "3600"}))

    with pytest.raises(ProviderError, match="3600") as caught:
        await provider(fake).generate(_request())

    assert caught.value.retryable is True
    assert sleeps == []
    assert len(fake.requests) == 1


async def test_timeouts_are_retried_then_reported(
    provider: Callable[..., OpenAIImageProvider], sleeps: list[float]
) -> None:
    recovering = Fake(raise_timeout(), answer(200, {"data": [_b64(_png((1024, 1024)))]}))
    (result,) = await provider(recovering).generate(_request())
    assert result.image is not None

    stuck = Fake(raise_timeout(), raise_timeout(), raise_timeout())
    with pytest.raises(ProviderError, match="timed out") as caught:
        await provider(stuck, max_retries=2).generate(_request())
    assert caught.value.retryable is True
    assert len(stuck.requests) == 3


async def test_client_errors_are_final(
    provider: Callable[..., OpenAIImageProvider], sleeps: list[float]
) -> None:
    fake = Fake(
        answer(400, {"error": {"message": "Your prompt was rejected by the safety system"}})
    )

    with pytest.raises(ProviderError, match="safety system") as caught:
        await provider(fake).generate(_request())

    assert caught.value.retryable is False
    assert sleeps == []


async def test_fewer_images_than_asked_fail_only_the_missing_ones(
    provider: Callable[..., OpenAIImageProvider],
) -> None:
    fake = Fake(answer(200, {"data": [_b64(_png((1024, 1024))), _b64(_png((1024, 1024)))]}))

    results = await provider(fake).generate(_request(quantity=3))

    assert json.loads(fake.requests[0].content)["n"] == 3
    assert [r.index for r in results] == [0, 1, 2]
    assert results[0].image is not None
    assert results[1].image is not None
    assert results[2].image is None
    assert results[2].error == "the provider returned fewer images than requested"


async def test_an_undecodable_entry_fails_alone(
    provider: Callable[..., OpenAIImageProvider],
) -> None:
    fake = Fake(
        answer(
            200,
            {
                "data": [
                    {"b64_json": "%%% not base64 %%%"},
                    _b64(b"plain text, not a picture"),
                    _b64(_png((1024, 1024))),
                ]
            },
        )
    )

    results = await provider(fake).generate(_request(quantity=3))

    assert results[0].error is not None
    assert "base64" in results[0].error
    assert results[1].error == "the provider returned data that is not an image"
    assert results[2].image is not None


async def test_empty_answer_and_unknown_model_are_provider_errors(
    provider: Callable[..., OpenAIImageProvider],
) -> None:
    with pytest.raises(ProviderError, match="no images"):
        await provider(Fake(answer(200, {"data": []}))).generate(_request())

    fake = Fake()
    with pytest.raises(ProviderError, match="nano-banana-2"):
        await provider(fake).generate(_request(model="nano-banana-2"))
    assert fake.requests == []


def test_post_mode_and_enhance_shape_the_prompt() -> None:
    plain = build_prompt(_request())
    post = build_prompt(_request(prompt="warm tones", caption="We opened a bakery!"))
    enhanced = build_prompt(_request(enhance_prompt=True))

    assert plain == "A lighthouse at dawn"
    assert "We opened a bakery!" in post
    assert "warm tones" in post
    assert enhanced.startswith("A lighthouse at dawn")
    assert enhanced.endswith(ENHANCE_SUFFIX)


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)

    assert retry_after_seconds("12") == 12.0
    assert retry_after_seconds(later, now=now.timestamp()) == pytest.approx(30.0)
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


KEPT = (20, 60, 220)
CROPPED = (230, 20, 20)


def _framed(
    size: tuple[int, int], kept: tuple[int, int, int, int], image_format: str = "PNG"
) -> bytes:
    """A `size` picture that is KEPT blue inside the box `kept` and CROPPED red outside it."""
    image = Image.new("RGB", size, CROPPED)
    image.paste(Image.new("RGB", (kept[2] - kept[0], kept[3] - kept[1]), KEPT), kept[:2])
    buffer = io.BytesIO()
    image.save(buffer, format=image_format)
    return buffer.getvalue()


def _near(pixel: tuple[int, ...], colour: tuple[int, int, int], slack: int = 40) -> bool:
    return all(abs(a - b) <= slack for a, b in zip(pixel, colour, strict=False))


# (size, what the API returns, the box a centre crop to the promised aspect keeps)
CROPS: list[tuple[ImageSize, tuple[int, int], tuple[int, int, int, int]]] = [
    ("feed", (1024, 1536), (0, 128, 1024, 1408)),  # 4:5 of 2:3: 128 rows off each end
    ("portrait", (1024, 1536), (80, 0, 944, 1536)),  # 9:16 of 2:3: 80 columns off each side
    ("landscape", (1536, 1024), (0, 80, 1536, 944)),  # 16:9 of 3:2: 80 rows off each end
]


@pytest.mark.parametrize(("size", "returned", "kept"), CROPS)
async def test_pictures_are_centre_cropped_and_resized_to_the_promised_pixels(
    provider: Callable[..., OpenAIImageProvider],
    size: ImageSize,
    returned: tuple[int, int],
    kept: tuple[int, int, int, int],
) -> None:
    fake = Fake(answer(200, {"data": [_b64(_framed(returned, kept))]}))

    (result,) = await provider(fake).generate(_request(size=size, model="flux2-flex"))

    assert json.loads(fake.requests[0].content)["size"] == f"{returned[0]}x{returned[1]}"
    assert result.image is not None
    width, height = SIZE_PIXELS[size]
    assert (result.image.width, result.image.height) == (width, height)
    decoded = Image.open(io.BytesIO(result.image.data))
    assert (decoded.format, decoded.size) == ("PNG", (width, height))
    rgb = decoded.convert("RGB")
    # only the kept box is left: every edge and corner is its colour, none of the cut band
    for x, y in [(0, 0), (width - 1, 0), (0, height - 1), (width - 1, height - 1),
                 (width // 2, 0), (width // 2, height - 1), (0, height // 2),
                 (width - 1, height // 2), (width // 2, height // 2)]:  # fmt: skip
        pixel = rgb.getpixel((x, y))
        assert isinstance(pixel, tuple)
        assert _near(pixel, KEPT), (size, (x, y), pixel)


async def test_a_picture_of_the_promised_size_is_kept_byte_for_byte(
    provider: Callable[..., OpenAIImageProvider],
) -> None:
    exact = _png((1024, 1024))
    fake = Fake(answer(200, {"data": [_b64(exact)]}))

    (result,) = await provider(fake).generate(_request(size="square"))

    assert result.image is not None
    assert result.image.data == exact
    assert (result.image.width, result.image.height) == (1024, 1024)


@pytest.mark.parametrize(("image_format", "mime_type"), [("JPEG", "image/jpeg"),
                                                          ("WEBP", "image/webp")])  # fmt: skip
async def test_a_resized_picture_keeps_its_format(
    provider: Callable[..., OpenAIImageProvider], image_format: str, mime_type: str
) -> None:
    picture = _framed((1024, 1536), (80, 0, 944, 1536), image_format)
    fake = Fake(answer(200, {"data": [_b64(picture)]}))

    (result,) = await provider(fake).generate(_request(size="portrait", model="flux2-flex"))

    assert result.image is not None
    assert result.image.mime_type == mime_type
    decoded = Image.open(io.BytesIO(result.image.data))
    assert (decoded.format, decoded.size) == (image_format, (1080, 1920))


async def test_an_exif_rotated_picture_is_turned_upright_before_it_is_fitted(
    provider: Callable[..., OpenAIImageProvider],
) -> None:
    # stored sideways (left half kept colour) with orientation 6: shown turned 90° clockwise,
    # so upright the kept half is the top one
    stored = Image.new("RGB", (1024, 1024), CROPPED)
    stored.paste(Image.new("RGB", (512, 1024), KEPT), (0, 0))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    buffer = io.BytesIO()
    stored.save(buffer, format="JPEG", exif=exif)
    fake = Fake(answer(200, {"data": [_b64(buffer.getvalue())]}))

    (result,) = await provider(fake).generate(_request(size="square"))

    assert result.image is not None
    decoded = Image.open(io.BytesIO(result.image.data))
    assert decoded.size == (1024, 1024)
    assert decoded.getexif().get(ExifTags.Base.Orientation, 1) == 1
    top, bottom = decoded.getpixel((512, 200)), decoded.getpixel((512, 824))
    assert isinstance(top, tuple)
    assert isinstance(bottom, tuple)
    assert _near(top, KEPT)
    assert _near(bottom, CROPPED)

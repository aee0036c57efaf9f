"""Image provider for any server that speaks the OpenAI Images API.

Text and post mode call `POST {base}/images/generations` (JSON); reference mode calls
`POST {base}/images/edits` (multipart, one `image[]` part per reference). One call asks for
all pictures with `n`; a response holding fewer than asked maps the missing ones to failed
`ImageResult`s so only they are refunded. Pictures come back as `b64_json` or as a `url`
that is downloaded (without our API key: the URL points at the vendor's blob storage).

The API has three sizes (1024x1024, 1024x1536, 1536x1024), so each PowerPost size asks for
the nearest aspect and the result reports the dimensions decoded from the returned bytes.

`send_with_retries` is shared with the video provider: 429, 5xx, timeouts and connection
errors are retried with exponential backoff that honours `Retry-After`, then surface as a
retryable `ProviderError`; any other error status is final.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import email.utils
import io
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import httpx
from PIL import Image

from powerpost.images.providers.base import (
    SIZE_PIXELS,
    ImageRequest,
    ImageResult,
    ImageSize,
    ProviderError,
    RenderedImage,
)

Sleep = Callable[[float], Awaitable[None]]

OPENAI_IMAGE_SIZES: tuple[tuple[int, int], ...] = ((1024, 1024), (1024, 1536), (1536, 1024))
ENHANCE_SUFFIX = (
    "Make it polished and professional: one clear focal subject, balanced lighting, "
    "a cohesive colour palette and crisp detail."
)
_MAX_PROMPT_CHARS = 4000
_MAX_ERROR_CHARS = 300


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    # a Retry-After longer than this is not waited out here: the job layer retries later
    max_retry_after: float = 60.0
    sleep: Sleep = field(default=asyncio.sleep)

    def backoff(self, attempt: int) -> float:
        return float(min(self.backoff_cap, self.backoff_base * 2**attempt))


def _is_retryable_status(status: int) -> bool:
    return status in (408, 429) or status >= 500


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Parse a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else time.time()
    return max(0.0, when.timestamp() - current)


def error_message(response: httpx.Response) -> str:
    """The vendor's `error.message` if it sent one, else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])[:_MAX_ERROR_CHARS]
        if isinstance(error, str):
            return error[:_MAX_ERROR_CHARS]
    text = response.text.strip()
    return text[:_MAX_ERROR_CHARS] or response.reason_phrase


async def send_with_retries(
    client: httpx.AsyncClient,
    build: Callable[[], httpx.Request],
    *,
    policy: RetryPolicy,
    what: str,
    stream: bool = False,
) -> httpx.Response:
    """Send the request `build` makes, retrying transient failures.

    `build` is called for every attempt so multipart bodies are fresh. With `stream=True`
    the successful response is returned unread and the caller must close it.
    """
    attempt = 0
    while True:
        delay: float | None
        try:
            response = await client.send(build(), stream=stream)
        except httpx.TimeoutException as exc:
            problem, delay = f"{what} timed out", None
            cause: BaseException = exc
        except httpx.TransportError as exc:
            problem, delay = f"{what} could not reach the provider ({type(exc).__name__})", None
            cause = exc
        else:
            if response.is_success:
                return response
            if stream:
                await response.aread()
                await response.aclose()
            message = error_message(response)
            status = response.status_code
            if not _is_retryable_status(status):
                raise ProviderError(f"{what} was rejected ({status}): {message}")
            problem = f"{what} failed ({status}): {message}"
            delay = retry_after_seconds(response.headers.get("retry-after"))
            cause = ProviderError(problem, retryable=True)
            if delay is not None and delay > policy.max_retry_after:
                raise ProviderError(
                    f"{problem}; the provider asked to wait {delay:g} s", retryable=True
                ) from cause
        if attempt >= policy.max_retries:
            suffix = f" after {attempt + 1} attempts" if attempt else ""
            raise ProviderError(problem + suffix, retryable=True) from cause
        await policy.sleep(delay if delay is not None else policy.backoff(attempt))
        attempt += 1


def openai_size(size: ImageSize) -> str:
    """The API size whose aspect ratio is nearest the PowerPost size."""
    width, height = SIZE_PIXELS[size]
    target = math.log(width / height)
    best = min(OPENAI_IMAGE_SIZES, key=lambda wh: abs(math.log(wh[0] / wh[1]) - target))
    return f"{best[0]}x{best[1]}"


def build_prompt(request: ImageRequest) -> str:
    """The prompt sent upstream: post mode frames the caption, enhance adds direction."""
    parts: list[str] = []
    if request.caption and request.caption.strip():
        parts.append(
            "Create an image to accompany this social media post. "
            f"Post text: {request.caption.strip()}"
        )
        if request.prompt.strip():
            parts.append(f"Image direction: {request.prompt.strip()}")
    else:
        parts.append(request.prompt.strip())
    if request.enhance_prompt:
        parts.append(ENHANCE_SUFFIX)
    return "\n\n".join(parts)[:_MAX_PROMPT_CHARS]


def decode_image(data: bytes) -> RenderedImage:
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            kind = image.format or ""
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ProviderError("the provider returned data that is not an image") from exc
    mime_type = Image.MIME.get(kind.upper())
    if mime_type is None:
        raise ProviderError(f"the provider returned an unsupported image format ({kind})")
    return RenderedImage(data=data, mime_type=mime_type, width=width, height=height)


def _wants_output_format(upstream_model: str) -> bool:
    # GPT image models always answer in base64 and reject `response_format`
    return upstream_model.startswith(("gpt-image", "chatgpt-image"))


class OpenAIImageProvider:
    name = "openai"

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        api_key: str,
        model_map: Mapping[str, str],
        timeout: float,
        max_retries: int,
        *,
        backoff_base: float = 0.5,
        max_retry_after: float = 60.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._client = client
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._model_map = dict(model_map)
        self._timeout = timeout
        self._policy = RetryPolicy(
            max_retries=max_retries,
            backoff_base=backoff_base,
            max_retry_after=max_retry_after,
            sleep=sleep,
        )

    async def generate(self, request: ImageRequest) -> list[ImageResult]:
        upstream = self._model_map.get(request.model)
        if not upstream:
            raise ProviderError(f"no upstream model is configured for {request.model}")
        fields: dict[str, str | int] = {
            "model": upstream,
            "prompt": build_prompt(request),
            "n": request.quantity,
            "size": openai_size(request.size),
        }
        if _wants_output_format(upstream):
            fields["output_format"] = "png"
        else:
            fields["response_format"] = "b64_json"

        if request.references:
            files = await asyncio.to_thread(_read_references, request)
            url = f"{self._base_url}/images/edits"
            form = {key: str(value) for key, value in fields.items()}

            def build() -> httpx.Request:
                return self._client.build_request(
                    "POST",
                    url,
                    data=form,
                    files=files,
                    headers=self._headers(),
                    timeout=self._timeout,
                )

            what = "the image edit request"
        else:
            url = f"{self._base_url}/images/generations"

            def build() -> httpx.Request:
                return self._client.build_request(
                    "POST", url, json=fields, headers=self._headers(), timeout=self._timeout
                )

            what = "the image generation request"

        response = await send_with_retries(self._client, build, policy=self._policy, what=what)
        items = _data_items(response)
        if not items:
            raise ProviderError("the provider returned no images")
        results: list[ImageResult] = []
        for index in range(request.quantity):
            if index >= len(items):
                results.append(
                    ImageResult(
                        index=index,
                        image=None,
                        error="the provider returned fewer images than requested",
                    )
                )
                continue
            try:
                image = await self._materialise(items[index])
            except ProviderError as exc:
                results.append(ImageResult(index=index, image=None, error=str(exc)))
            else:
                results.append(ImageResult(index=index, image=image, error=None))
        return results

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key}"}

    async def _materialise(self, item: Mapping[str, Any]) -> RenderedImage:
        encoded = item.get("b64_json")
        if isinstance(encoded, str) and encoded:
            try:
                data = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ProviderError("the provider returned malformed base64 image data") from exc
            return await asyncio.to_thread(decode_image, data)
        url = item.get("url")
        if isinstance(url, str) and url.startswith(("https://", "http://")):
            response = await send_with_retries(
                self._client,
                lambda: self._client.build_request("GET", url, timeout=self._timeout),
                policy=self._policy,
                what="downloading the generated image",
            )
            return await asyncio.to_thread(decode_image, response.content)
        raise ProviderError("the provider returned an image entry without data")


def _data_items(response: httpx.Response) -> list[Mapping[str, Any]]:
    try:
        body = response.json()
    except ValueError as exc:
        raise ProviderError("the provider answered with a body that is not JSON") from exc
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise ProviderError("the provider's answer has no data list")
    return [item if isinstance(item, dict) else {} for item in data]


def _read_references(request: ImageRequest) -> list[tuple[str, tuple[str, bytes, str]]]:
    files: list[tuple[str, tuple[str, bytes, str]]] = []
    for number, reference in enumerate(request.references):
        try:
            content = reference.path.read_bytes()
        except OSError as exc:
            raise ProviderError(f"reference image {number + 1} could not be read") from exc
        suffix = reference.path.suffix or ".png"
        files.append(("image[]", (f"reference-{number + 1}{suffix}", content, reference.mime_type)))
    return files

"""Image provider for any server that speaks the OpenAI Images API.

Text and post mode call `POST {base}/images/generations` (JSON); reference mode calls
`POST {base}/images/edits` (multipart, one `image[]` part per reference). One call asks for
all pictures with `n`; a response holding fewer than asked maps the missing ones to failed
`ImageResult`s so only they are refunded. Pictures come back as `b64_json` or as a `url`
that is downloaded (without our API key: the URL points at the vendor's blob storage).

The API has three sizes (1024x1024, 1024x1536, 1536x1024), so each PowerPost size asks for
the nearest aspect; the returned picture is then centre-cropped to the promised aspect and
resized to the promised pixels (`SIZE_PIXELS`: feed 1080x1350, portrait 1080x1920,
landscape 1920x1080), as the offline provider delivers. A picture that already has the
promised size is kept byte for byte; any other is re-encoded in its own format (PNG, JPEG
or WebP; anything else becomes PNG).

Retries, `Retry-After` and the vendor's error text come from `kit.openai_http`, shared with
the caption and video providers.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import math
from collections.abc import Mapping
from typing import Any

import httpx
from PIL import ExifTags, Image, ImageOps

from powerpost.images.providers.base import (
    SIZE_PIXELS,
    ImageRequest,
    ImageResult,
    ImageSize,
    ProviderError,
    RenderedImage,
)
from powerpost.kit.openai_http import OpenAICompatProvider

# re-exported: this module's tests check Retry-After parsing through it
from powerpost.kit.openai_http import retry_after_seconds as retry_after_seconds
from powerpost.kit.providers import ENHANCE_SUFFIX as ENHANCE_SUFFIX

OPENAI_IMAGE_SIZES: tuple[tuple[int, int], ...] = ((1024, 1024), (1024, 1536), (1536, 1024))
_MAX_PROMPT_CHARS = 4000
# how a resized picture is written again: same format as delivered, near-lossless quality
_REENCODE: dict[str, tuple[str, dict[str, Any]]] = {
    "PNG": ("PNG", {"compress_level": 6}),
    "JPEG": ("JPEG", {"quality": 92}),
    "WEBP": ("WEBP", {"quality": 92}),
}


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


def fit_to_size(data: bytes, size: ImageSize) -> RenderedImage:
    """The returned picture at exactly the promised pixels of `size`: centre-cropped to its
    aspect, then resized (upright first, should the picture carry an EXIF rotation)."""
    decoded = decode_image(data)
    target = SIZE_PIXELS[size]
    try:
        with Image.open(io.BytesIO(data)) as opened:
            kind = (opened.format or "").upper()
            rotated = _exif_rotation(opened)
            if (decoded.width, decoded.height) == target and not rotated:
                return decoded
            image = ImageOps.exif_transpose(opened)
            image.load()
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ProviderError("the provider returned data that is not an image") from exc
    out_format, options = _REENCODE.get(kind, _REENCODE["PNG"])
    # resampling needs true colour: palette and bit-depth modes would fall back to nearest
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        transparent = "A" in image.getbands() or "transparency" in image.info
        image = image.convert("RGBA" if transparent else "RGB")
    if out_format == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    fitted = ImageOps.fit(image, target, Image.Resampling.LANCZOS, centering=(0.5, 0.5))
    buffer = io.BytesIO()
    fitted.save(buffer, format=out_format, **options)
    return RenderedImage(
        data=buffer.getvalue(),
        mime_type=Image.MIME[out_format],
        width=target[0],
        height=target[1],
    )


def _exif_rotation(image: Image.Image) -> bool:
    try:
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:
        # a damaged EXIF block does not make the picture unreadable: treat it as upright
        return False
    return orientation not in (None, 1)


def _wants_output_format(upstream_model: str) -> bool:
    # GPT image models always answer in base64 and reject `response_format`
    return upstream_model.startswith(("gpt-image", "chatgpt-image"))


class OpenAIImageProvider(OpenAICompatProvider):
    async def generate(self, request: ImageRequest) -> list[ImageResult]:
        upstream = self._upstream(request.model)
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

        response = await self._send(build, what=what)
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
                image = await self._materialise(items[index], request.size)
            except ProviderError as exc:
                results.append(ImageResult(index=index, image=None, error=str(exc)))
            else:
                results.append(ImageResult(index=index, image=image, error=None))
        return results

    async def _materialise(self, item: Mapping[str, Any], size: ImageSize) -> RenderedImage:
        encoded = item.get("b64_json")
        if isinstance(encoded, str) and encoded:
            try:
                data = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ProviderError("the provider returned malformed base64 image data") from exc
            return await asyncio.to_thread(fit_to_size, data, size)
        url = item.get("url")
        if isinstance(url, str) and url.startswith(("https://", "http://")):
            response = await self._send(
                lambda: self._client.build_request("GET", url, timeout=self._timeout),
                what="downloading the generated image",
            )
            return await asyncio.to_thread(fit_to_size, response.content, size)
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

"""The offline image provider: real PNGs, deterministic, steered by the request."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from statistics import median

import pytest
from PIL import Image

from powerpost.images.providers.base import (
    SIZE_PIXELS,
    ImageRequest,
    ImageSize,
    ProviderError,
    ReferenceImage,
)
from powerpost.images.providers.offline import (
    OfflineImageProvider,
    encode_png,
    load_reference,
    render_card,
)
from powerpost.kit.cards import drawing
from powerpost.kit.cards.palette import COLOR_WORDS, contrast_ratio
from powerpost.kit.cards.words import card_headline

Pixel = tuple[int, int, int]


def _request(prompt: str = "A cosy coffee shop opening", **changes: object) -> ImageRequest:
    fields: dict[str, object] = {
        "prompt": prompt,
        "size": "square",
        "model": "flux2-flex",
        "quantity": 1,
        "enhance_prompt": False,
    }
    fields.update(changes)
    return ImageRequest(**fields)  # type: ignore[arg-type]


def _decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image.convert("RGB")


def _pixels(image: Image.Image, thumb: int = 96) -> list[Pixel]:
    small = image.convert("RGB").resize((thumb, thumb), Image.Resampling.BOX)
    raw = small.tobytes()
    return [(raw[i], raw[i + 1], raw[i + 2]) for i in range(0, len(raw), 3)]


def _share(pixels: list[Pixel], predicate: Callable[[Pixel], bool]) -> float:
    return sum(1 for p in pixels if predicate(p)) / len(pixels)


def _mean(pixels: list[Pixel]) -> tuple[float, float, float]:
    n = len(pixels)
    return (
        sum(p[0] for p in pixels) / n,
        sum(p[1] for p in pixels) / n,
        sum(p[2] for p in pixels) / n,
    )


async def _one(request: ImageRequest) -> Image.Image:
    (result,) = await OfflineImageProvider().generate(request)
    assert result.error is None
    assert result.image is not None
    return _decode(result.image.data)


@pytest.mark.parametrize("size", ["square", "feed", "portrait", "landscape"])
async def test_every_size_is_a_png_of_the_exact_pixels(size: ImageSize) -> None:
    results = await OfflineImageProvider().generate(_request(size=size))

    assert len(results) == 1
    (result,) = results
    assert result.index == 0
    assert result.error is None
    assert result.image is not None
    assert result.image.mime_type == "image/png"
    assert (result.image.width, result.image.height) == SIZE_PIXELS[size]
    assert _decode(result.image.data).size == SIZE_PIXELS[size]


async def test_same_request_gives_identical_bytes() -> None:
    request = _request("Spring sale on running shoes", quantity=2, size="feed")

    first = await OfflineImageProvider().generate(request)
    second = await OfflineImageProvider().generate(request)

    assert [r.image.data for r in first if r.image] == [r.image.data for r in second if r.image]


async def test_quantity_gives_distinct_variations() -> None:
    results = await OfflineImageProvider().generate(_request(quantity=4))

    assert [r.index for r in results] == [0, 1, 2, 3]
    assert all(r.error is None and r.image is not None for r in results)
    datas = {r.image.data for r in results if r.image}
    assert len(datas) == 4
    styles = {render_card(_request(quantity=4), i).layout.style for i in range(4)}
    assert len(styles) == 4  # every variation also changes the layout, not just a pixel


async def test_different_prompts_give_different_images() -> None:
    first = await _one(_request("Quarterly results are in"))
    second = await _one(_request("Meet our new head chef"))

    assert first.tobytes() != second.tobytes()


async def test_colour_words_steer_the_palette() -> None:
    sunset = _pixels(await _one(_request("ocean blue sunset", size="landscape")))
    bluish = _share(sunset, lambda p: p[2] > p[0] + 40)
    orangeish = _share(sunset, lambda p: p[0] > p[2] + 60 and p[0] > p[1])
    assert bluish > 0.1
    assert orangeish > 0.1

    forest = _pixels(await _one(_request("deep green forest trail")))
    red, green, blue = _mean(forest)
    assert green > red + 20
    assert green > blue + 20

    assert render_card(_request("a red poster")).layout.palette[1] == COLOR_WORDS["red"]


async def test_reference_images_supply_palette_and_background(tmp_path: Path) -> None:
    reference = Image.new("RGB", (600, 400), (215, 35, 35))
    reference.paste((35, 55, 215), (300, 0, 600, 400))
    path = tmp_path / "reference.png"
    reference.save(path)
    request = _request(
        "team photo", size="landscape", references=(ReferenceImage(path, "image/png"),)
    )

    image = await _one(request)

    width, height = image.size
    left = _mean(_pixels(image.crop((0, 0, width // 20, height))))
    right = _mean(_pixels(image.crop((width - width // 20, 0, width, height))))
    assert left[0] > left[2] + 50  # red half of the reference
    assert right[2] > right[0] + 50  # blue half
    loaded = [load_reference(ref) for ref in request.references]
    palette = render_card(request, references=loaded).layout.palette
    assert any(c[0] > 180 and c[2] < 80 for c in palette)
    assert any(c[2] > 180 and c[0] < 80 for c in palette)


@pytest.mark.parametrize(
    "prompt",
    ["A cosy coffee shop opening", "white snow with silver light", "ocean blue sunset"],
)
@pytest.mark.parametrize("size", ["square", "portrait"])
def test_headline_is_drawn_with_sufficient_contrast(prompt: str, size: ImageSize) -> None:
    card = render_card(_request(prompt, size=size))
    layout = card.layout
    assert layout.text_box is not None
    left, top, right, bottom = layout.text_box
    assert 0 <= left < right <= card.image.width
    assert 0 <= top < bottom <= card.image.height

    region = _pixels(card.image.crop(layout.text_box), thumb=128)
    ink = [p for p in region if contrast_ratio(p, layout.text_color) < 1.6]
    paper = [p for p in region if contrast_ratio(p, layout.text_color) >= 1.6]
    assert len(ink) / len(region) > 0.08  # glyphs really cover part of the title area
    behind = tuple(median(p[i] for p in paper) for i in range(3))
    assert contrast_ratio(layout.text_color, behind) >= 4.5

    # and the title area holds far more ink than a strip of background above it
    strip = _pixels(card.image.crop((left, 0, right, max(8, top // 3))), thumb=64)
    strip_ink = sum(1 for p in strip if contrast_ratio(p, layout.text_color) < 1.6)
    assert strip_ink / len(strip) < len(ink) / len(region)


async def test_provider_output_is_the_rendered_card() -> None:
    request = _request("Grand opening this Saturday", size="feed", quantity=2)
    results = await OfflineImageProvider().generate(request)

    for result in results:
        assert result.image is not None
        assert result.image.data == encode_png(render_card(request, result.index).image)


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        (
            "A cozy bakery storefront at sunrise, fresh croissants in the window",
            ("A cozy bakery storefront at sunrise", "Fresh croissants in the window"),
        ),
        (
            "cozy bakery storefront at sunrise with fresh croissants in the window",
            ("Cozy bakery storefront at sunrise", "With fresh croissants in the window"),
        ),
        (
            "Create an image of an ocean blue sunset over the harbour",
            ("An ocean blue sunset over the harbour", ""),
        ),
        (
            "please generate a photo of our new iPhone case in NASA style",
            ("Our new iPhone case in NASA style", ""),
        ),
        (
            "time-lapse of dough rising in a rustic kitchen",
            ("Time-lapse of dough rising in a rustic kitchen", ""),
        ),
        ("Grand opening this Saturday", ("Grand opening this Saturday", "")),
        ("Summer sale: 30% off everything", ("Summer sale", "30% off everything")),
        ("!!! ???", ("", "")),
    ],
)
def test_the_headline_is_the_main_noun_phrase(prompt: str, expected: tuple[str, str]) -> None:
    # articles and prepositions stay: a headline, not keyword salad
    assert card_headline(prompt) == expected


def test_a_long_headline_is_bounded() -> None:
    card = render_card(_request("y" * 3000))
    assert len(card.layout.headline) <= 90


@pytest.mark.parametrize("size", ["square", "portrait", "landscape", "feed"])
def test_every_size_renders_a_headline(size: ImageSize) -> None:
    prompts = ["A cozy bakery storefront at sunrise", "Grand opening", "ocean blue sunset"]
    boxes = set()
    for prompt in prompts:
        card = render_card(_request(prompt, size=size, enhance_prompt=True))
        assert card.layout.text_box is not None
        assert card.layout.headline == card_headline(prompt)[0]
        boxes.add((card.layout.style, card.layout.text_box))
    assert len(boxes) > 1  # the layout follows the prompt, not one template


def test_post_mode_uses_the_captions_first_sentence() -> None:
    caption = "\U0001f680 We just shipped PowerPost 2.0! It writes for six platforms. #launch"
    card = render_card(_request("", caption=caption, size="feed"))

    assert card.layout.headline == "We just shipped PowerPost 2.0!"
    assert card.layout.subtitle is None


def test_enhance_prompt_adds_finish_not_a_new_design() -> None:
    prompt = "rustic sourdough bread loaf on a wooden table with morning light and flour dust"
    plain = render_card(_request(prompt))
    enhanced = render_card(_request(prompt, enhance_prompt=True))

    assert plain.layout.style == enhanced.layout.style
    assert plain.layout.palette == enhanced.layout.palette
    assert plain.layout.subtitle is None
    # the rest of the description past the headline's noun phrase
    assert enhanced.layout.subtitle == "With morning light and flour dust"
    corner = (0, 0, 40, 40)
    assert sum(_mean(_pixels(enhanced.image.crop(corner), 8))) < sum(
        _mean(_pixels(plain.image.crop(corner), 8))
    )


async def test_unreadable_reference_is_a_provider_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.png"
    path.write_bytes(b"not an image at all")
    request = _request(references=(ReferenceImage(path, "image/png"),))

    with pytest.raises(ProviderError, match="could not be read"):
        await OfflineImageProvider().generate(request)


@pytest.fixture
def without_system_fonts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    drawing._font.cache_clear()
    monkeypatch.setattr(drawing, "FONT_DIR", tmp_path / "no-fonts-here")
    yield
    drawing._font.cache_clear()


@pytest.mark.usefixtures("without_system_fonts")
def test_renders_without_dejavu() -> None:
    card = render_card(_request("Fallback fonts still work"))

    assert card.layout.text_box is not None
    region = _pixels(card.image.crop(card.layout.text_box))
    ink = _share(region, lambda p: contrast_ratio(p, card.layout.text_color) < 1.6)
    assert ink > 0.05

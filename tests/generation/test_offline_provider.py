"""The offline caption writer: real captions from the material, within every platform limit."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from powerpost.generation.providers.base import (
    CaptionOutputs,
    CaptionProvider,
    CaptionRequest,
    MediaInput,
    ProviderError,
    ResearchMode,
    SourceDoc,
    WritingStyle,
)
from powerpost.generation.providers.offline import OfflineCaptionProvider
from powerpost.kit.platforms import (
    PLATFORMS,
    caption_length,
    caption_limit,
    count_hashtags,
    validate_item,
)

ALL = PLATFORMS
TAG_RE = re.compile(r"(?<![\w#&])#\w+")

COLD_BREW = SourceDoc(
    url="https://example.com/cold-brew",
    title="How Cold Brew Coffee Is Made | Bean Journal",
    text="""Skip to content
Home | Shop | About
Cold brew coffee is made by steeping coarsely ground beans in cold water for 12 to 24 hours.
The slow extraction produces a drink with about 67% less acidity than hot-brewed coffee, which makes it gentler on the stomach.
Because it is brewed as a concentrate, cold brew keeps in the fridge for up to two weeks.
Many cafes serve it over ice with a splash of oat milk.
However, cold brew has more caffeine per ounce than regular drip coffee when served undiluted.
Subscribe to our newsletter for more coffee tips!
© 2024 Bean Journal. All rights reserved.""",
)
HISTORY = SourceDoc(
    url="https://example.org/history",
    title="A short history of cold brew",
    text="""The Japanese have made Kyoto-style cold drip coffee since the 1600s.
In 1964, Todd Simpson invented the Toddy cold brew system after tasting coffee in Peru.
Cold brew sales in the United States grew 580% between 2011 and 2016.
Today cold brew is a staple of coffee shop menus across the world.""",
)
NITRO = SourceDoc(
    url="https://example.net/nitro",
    title="Nitro cold brew on tap",
    text="""Nitro cold brew is infused with nitrogen gas for a silky, creamy texture.
Baristas pour nitro cold brew from a stout faucet, much like a pint of Guinness.
The cascading foam head settles within about two minutes of pouring.""",
)
GRINDERS = SourceDoc(
    url="https://example.com/grind",
    title="Choosing a grind for cold brew",
    text="""A coarse burr grind keeps cold brew from turning muddy and bitter.
Blade grinders produce uneven particles that over-extract during the long steep.
Most roasters recommend a ratio of one part coffee to eight parts water for concentrate.""",
)
WATER = SourceDoc(
    url="https://example.com/water",
    title="Water quality and cold brew",
    text="""Filtered water with moderate mineral content extracts sweeter cold brew flavours.
Distilled water lacks the magnesium that carries aromatic compounds from the grounds.
Tap water heavy in chlorine leaves a flat, papery aftertaste in the concentrate.""",
)
SOURCES = (COLD_BREW, HISTORY, NITRO, GRINDERS, WATER)
PROMPT = (
    "Write a post announcing our summer launch of cold brew coffee. "
    "Mention the 20% discount for members."
)


def _emoji_free(text: str) -> bool:
    """A check independent of the provider's own table: pictographs, dingbats, joiners."""
    for ch in text:
        cp = ord(ch)
        if cp >= 0x1F000 or 0x2600 <= cp <= 0x27BF or 0x2300 <= cp <= 0x23FF:
            return False
        if 0xFE00 <= cp <= 0xFE0F or cp in (0x200D, 0x20E3, 0x2B50, 0x2B55, 0x2B06):
            return False
    return True


def _texts(outputs: CaptionOutputs) -> dict[str, str]:
    """Every output as one string (YouTube's title and description together)."""
    out: dict[str, str] = {}
    for platform, value in outputs.items():
        if isinstance(value, dict):
            out[platform] = value["title"] + "\n" + value["description"]
        else:
            out[platform] = value
    return out


def _body(value: str | dict[str, str]) -> str:
    return value["description"] if isinstance(value, dict) else value


async def _write(**fields: object) -> CaptionOutputs:
    fields.setdefault("platforms", ALL)
    fields.setdefault("research_mode", "regular")
    request = CaptionRequest(**fields)  # type: ignore[arg-type]
    return await OfflineCaptionProvider().write_captions(request)


def _image(name: str = "summer-launch_final.jpg", **extra: object) -> MediaInput:
    values: dict[str, object] = {
        "kind": "image",
        "path": Path("/media") / name,
        "mime_type": "image/jpeg",
        "file_name": name,
        "width": 1080,
        "height": 1350,
        "dominant_colors": ("#0b1d6f", "#e3b32a"),
    }
    values.update(extra)
    return MediaInput(**values)  # type: ignore[arg-type]


def _video(name: str = "DSC_0042.mp4", seconds: float = 42.4) -> MediaInput:
    return MediaInput(
        kind="video",
        path=Path("/media") / name,
        mime_type="video/mp4",
        file_name=name,
        width=1080,
        height=1920,
        duration_seconds=seconds,
        dominant_colors=("#008080", "#fdfdfd"),
    )


def test_satisfies_the_provider_protocol() -> None:
    provider: CaptionProvider = OfflineCaptionProvider()
    assert provider.name == "offline"


# ---- limits ---------------------------------------------------------------------------

_VOCABULARY = (
    "coffee roast espresso barista summer launch community garden solar battery startup "
    "funding engineers Berlin marathon training recovery protein recipe basil festival "
    "tickets ocean recycling 東京 カフェ café naïve 🚀 ☕ pressure https://example.com/a/b"
)
_WORDS = tuple(_VOCABULARY.split())


def _generated_words(seed: str, count: int) -> list[str]:
    digest = hashlib.sha256(seed.encode()).digest()
    words: list[str] = []
    while len(words) < count:
        digest = hashlib.sha256(digest).digest()
        words.extend(_WORDS[b % len(_WORDS)] for b in digest[:4])
    return words[:count]


def _generated_sentence(seed: str, count: int) -> str:
    first, *rest = _generated_words(seed, count)
    return " ".join([first.capitalize(), "is", *rest]) + "."


def _generated_request(i: int) -> CaptionRequest:
    prompt = None
    if i % 5:
        sentences = [_generated_sentence(f"p{i}.{j}", 6 + (i * j) % 40) for j in range(1 + i % 14)]
        prompt = " ".join(sentences)[:2000]
    sources = tuple(
        SourceDoc(
            url=f"https://example.com/{i}/{k}",
            title=" ".join(_generated_words(f"t{i}.{k}", 5)).title(),
            text="\n".join(_generated_sentence(f"s{i}.{k}.{j}", 6 + j % 30) for j in range(30)),
        )
        for k in range(i % 11)
    )
    media: tuple[MediaInput, ...] = ()
    if i % 3 == 0:
        media = (_video(f"launch-clip_{i}.mp4", 20.0 + i),)
    elif i % 3 == 1:
        media = tuple(_image(f"photo-{i}-{n}.jpg") for n in range(1 + i % 10))
    style = None
    if i % 2:
        style = WritingStyle(
            name="s",
            tone=("playful", "bold", "professional", "mysterious", "friendly")[i % 5],
            emoji_use=("none", "light", "heavy")[i % 3],
            hashtag_count=(i * 7) % 40,
            example_posts=("Short one. Another short line. See you soon!",) * (i % 3),
        )
    cta = None
    if i % 4 == 0:
        cta = "shop the launch now at https://example.com/" + "x" * (i % 60)
    return CaptionRequest(
        platforms=ALL,
        research_mode="deep" if i % 2 else "regular",
        prompt=prompt,
        cta_text=cta,
        sources=sources,
        media=media or (() if prompt or sources else (_image(),)),
        style=style,
    )


# one post type per platform and media that suits it, to run the outputs through the table
_CHECK_ITEMS = {
    "instagram": ("instagram-feed", ["image"], []),
    "tiktok": ("tiktok-video", ["video"], [30.0]),
    "x": ("x-post", [], []),
    "youtube": ("youtube-video", ["video"], [60.0]),
    "facebook": ("facebook-post", [], []),
    "linkedin": ("linkedin-post", [], []),
}


async def test_every_output_fits_its_platform_for_generated_inputs() -> None:
    provider = OfflineCaptionProvider()
    for i in range(36):
        request = _generated_request(i)
        outputs = await provider.write_captions(request)
        assert list(outputs) == list(ALL)
        for platform, value in outputs.items():
            title = None
            if platform == "youtube":
                assert isinstance(value, dict)
                title = value["title"]
                assert 0 < len(title) <= 100
            text = _body(value)
            assert isinstance(text, str)
            assert text.strip(), (i, platform)
            assert caption_length(platform, text) <= caption_limit(platform), (i, platform)
            post_type, kinds, seconds = _CHECK_ITEMS[platform]
            assert validate_item(post_type, text, title, kinds, seconds) is None, (i, platform)
            assert "{" not in text
            assert "None" not in text
            assert "  " not in text
            if platform == "instagram":
                assert count_hashtags(text) <= 30
            if request.style is not None and request.style.emoji_use == "none":
                assert _emoji_free(text + (title or ""))


async def test_x_trims_on_word_boundaries() -> None:
    words = [f"word{n:03d}" for n in range(200)]
    prompt = " ".join(words) + "."
    outputs = await _write(platforms=("x",), prompt=prompt, cta_text="Read more at our site")
    text = outputs["x"]
    assert isinstance(text, str)
    assert caption_length("x", text) <= 280
    used = re.findall(r"word\d*", text)
    assert used
    assert set(used) <= set(words)  # no word was cut in half
    assert "…" in text
    assert text.count("Read more at our site.") == 1


# ---- determinism ----------------------------------------------------------------------


def _determinism_request() -> CaptionRequest:
    return CaptionRequest(
        platforms=ALL,
        research_mode="deep",
        prompt=PROMPT,
        cta_text="order yours at the counter today",
        sources=SOURCES,
        media=(_image(), _image("second.jpg")),
        style=WritingStyle("Brand", "playful", "heavy", 6, ("We did it. Stay curious!",)),
    )


async def test_same_input_gives_the_same_output() -> None:
    provider = OfflineCaptionProvider()
    first = await provider.write_captions(_determinism_request())
    second = await OfflineCaptionProvider().write_captions(_determinism_request())
    assert first == second


_SUBPROCESS_SCRIPT = """
import asyncio, json, sys
sys.path[:0] = json.loads(sys.argv[1])
import test_offline_provider as t
from powerpost.generation.providers.offline import OfflineCaptionProvider
out = asyncio.run(OfflineCaptionProvider().write_captions(t._determinism_request()))
print(json.dumps(out, sort_keys=True))
"""


def test_output_does_not_depend_on_hash_salting() -> None:
    # sync on purpose: the child processes block, and no event loop needs to wait on them
    expected = asyncio.run(OfflineCaptionProvider().write_captions(_determinism_request()))
    paths = [str(Path(__file__).parent), *sys.path]
    for seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [sys.executable, "-c", _SUBPROCESS_SCRIPT, json.dumps(paths)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=60,
        )
        assert json.loads(result.stdout) == json.loads(json.dumps(expected, sort_keys=True))


# ---- style ----------------------------------------------------------------------------


async def test_emoji_none_leaves_no_emoji_anywhere() -> None:
    style = WritingStyle("Plain", "playful", "none", 4, ("Hello there 🎉. Stay curious! ☕",))
    outputs = await _write(
        prompt="Our 🚀 rocket espresso ☕ machine pulls a shot in nine seconds ✨. Baristas love it.",
        sources=SOURCES,
        media=(_image(),),
        style=style,
        research_mode="deep",
    )
    for platform, text in _texts(outputs).items():
        assert _emoji_free(text), platform
        assert " ." not in text


async def test_emoji_levels_scale() -> None:
    def count(text: str) -> int:
        return sum(1 for ch in text if ord(ch) >= 0x1F000 or 0x2600 <= ord(ch) <= 0x27BF)

    totals: dict[str, int] = {}
    for level in ("none", "light", "heavy"):
        style = WritingStyle("S", "friendly", level, 3)
        outputs = await _write(prompt=PROMPT, sources=SOURCES, style=style, research_mode="deep")
        totals[level] = sum(count(t) for t in _texts(outputs).values())
    assert totals["none"] == 0 < totals["light"] < totals["heavy"]


@pytest.mark.parametrize("count", [0, 1, 3, 5])
async def test_hashtag_count_is_honoured(count: int) -> None:
    style = WritingStyle("S", "informative", "light", count)
    outputs = await _write(prompt=PROMPT, sources=SOURCES, style=style, research_mode="deep")
    for platform, value in outputs.items():
        tags = TAG_RE.findall(_body(value))
        assert len(tags) == count, (platform, tags)
        assert len({t.lower() for t in tags}) == len(tags)
        assert not any(t[1:].isdigit() for t in tags)


async def test_hashtags_come_from_the_content_and_respect_platform_caps() -> None:
    outputs = await _write(prompt=PROMPT, sources=SOURCES, research_mode="deep")
    instagram = outputs["instagram"]
    assert isinstance(instagram, str)
    tags = TAG_RE.findall(instagram)
    assert "#ColdBrew" in tags  # multiword keywords are CamelCase
    assert "#SummerLaunch" in tags
    assert instagram.rstrip().split("\n")[-1] == " ".join(tags)  # the block closes the caption
    linkedin = outputs["linkedin"]
    assert isinstance(linkedin, str)
    assert 3 <= len(TAG_RE.findall(linkedin)) <= 5

    many = WritingStyle("S", "bold", "none", 99)
    capped = await _write(prompt=PROMPT, sources=SOURCES, style=many, research_mode="deep")
    assert len(TAG_RE.findall(_body(capped["instagram"]))) <= 30
    assert len(TAG_RE.findall(_body(capped["youtube"]))) <= 15
    assert len(TAG_RE.findall(_body(capped["linkedin"]))) <= 5


async def test_prompt_hashtags_lead_the_tag_block() -> None:
    outputs = await _write(platforms=("instagram",), prompt="Our new #ColdBrew is back for summer.")
    text = outputs["instagram"]
    assert isinstance(text, str)
    assert TAG_RE.findall(text)[0] == "#ColdBrew"
    assert text.count("#ColdBrew") == 1
    assert "Our new ColdBrew is back for summer." in text


async def test_tone_shapes_the_wording_and_unknown_tones_are_neutral() -> None:
    async def first_lines(tone: str) -> dict[str, str]:
        style = WritingStyle("S", tone, "none", 2)
        outputs = await _write(prompt=PROMPT, sources=SOURCES, style=style)
        return {p: t.split("\n")[0] for p, t in _texts(outputs).items() if p != "youtube"}

    playful = await first_lines("playful")
    professional = await first_lines("professional")
    assert all(playful[p] != professional[p] for p in playful)
    assert any("!" in line for line in playful.values())
    assert await first_lines("zany and unheard-of") == await first_lines("neutral")
    assert await first_lines("Warm, casual") == await first_lines("friendly")


async def test_example_posts_set_the_sign_off_and_sentence_length() -> None:
    long_fact = SourceDoc(
        url="https://example.com/steep",
        title="Steeping cold brew",
        text=(
            "Cold brew is steeped for 12 to 24 hours in cold water, which gives it a smoother "
            "and sweeter taste."
        ),
    )
    examples = (
        "New beans in. Come taste them. Stay curious, friends!",
        "We roasted all night. Worth it. Stay curious, friends.",
        "Sun is out. Patio is open. Stay Curious, friends",
    )
    style = WritingStyle("Brand", "friendly", "none", 2, examples)
    styled = _texts(await _write(prompt="Cold brew season", sources=(long_fact,), style=style))
    plain = _texts(await _write(prompt="Cold brew season", sources=(long_fact,)))
    for platform in ("instagram", "facebook", "linkedin", "tiktok"):
        assert styled[platform].count("Stay curious, friends") == 1, platform
        assert "Stay curious" not in plain[platform]
        # short example sentences: the long source sentence is cut at its clause boundary
        assert "12 to 24 hours in cold water." in styled[platform], platform
        assert "smoother" not in styled[platform]
        assert "smoother" in plain[platform]


# ---- call to action -------------------------------------------------------------------


async def test_cta_appears_exactly_once_with_fixed_punctuation() -> None:
    outputs = await _write(
        prompt=PROMPT, sources=SOURCES, cta_text="  order yours   at the counter today "
    )
    for platform, value in outputs.items():
        text = _body(value)
        assert text.count("Order yours at the counter today.") == 1, platform
        assert text.lower().count("order yours") == 1


async def test_cta_already_in_the_prompt_is_not_repeated() -> None:
    outputs = await _write(
        prompt="Our cold brew is back for summer. Order yours at the counter today!",
        cta_text="order yours at the counter today",
    )
    for platform, value in outputs.items():
        assert _body(value).lower().count("order yours at the counter today") == 1, platform


# ---- research depth -------------------------------------------------------------------


async def test_deep_mode_is_richer_than_regular() -> None:
    regular = await _write(prompt=PROMPT, sources=SOURCES, research_mode="regular")
    deep = await _write(prompt=PROMPT, sources=SOURCES, research_mode="deep")
    for platform in ("instagram", "youtube", "facebook", "linkedin"):
        assert len(_body(deep[platform])) > len(_body(regular[platform])) + 100, platform
    assert "Key takeaways:" in _body(deep["linkedin"])
    assert "Key takeaways:" not in _body(regular["linkedin"])
    assert _body(deep["facebook"]).count("\n• ") >= 3
    assert "\n• " not in _body(regular["facebook"])

    # deep reads more of the sources: count sources with a sentence quoted in the output
    def sources_used(text: str) -> int:
        return sum(
            1
            for source in SOURCES
            if any(s.strip()[:40] in text for s in source.text.split("\n") if len(s) > 40)
        )

    assert sources_used(_body(deep["youtube"])) > sources_used(_body(regular["youtube"]))


async def test_captions_reflect_the_prompt_and_the_source_facts() -> None:
    outputs = await _write(prompt=PROMPT, sources=SOURCES)
    for platform, text in _texts(outputs).items():
        lowered = text.lower()
        assert "summer launch" in lowered, platform
        assert "cold brew" in lowered, platform
        assert "20% discount" in lowered, platform
        assert "write a post" not in lowered
        assert "mention" not in lowered
    instagram = _body(outputs["instagram"])
    assert "12 to 24 hours" in instagram  # the lead fact of the most relevant source
    assert "newsletter" not in instagram  # boilerplate never counts as a fact
    assert "All rights reserved" not in instagram


async def test_sources_alone_are_enough() -> None:
    outputs = await _write(sources=(HISTORY, NITRO), research_mode="deep")
    for platform, text in _texts(outputs).items():
        assert "cold brew" in text.lower(), platform
    linkedin = _body(outputs["linkedin"])
    assert "1964" in linkedin or "580%" in linkedin


# ---- shapes ---------------------------------------------------------------------------


async def test_youtube_output_shape() -> None:
    outputs = await _write(prompt=PROMPT, sources=SOURCES, media=(_video(seconds=42.4),))
    youtube = outputs["youtube"]
    assert isinstance(youtube, dict)
    assert set(youtube) == {"title", "description"}
    assert 0 < len(youtube["title"]) <= 100
    assert "summer launch" in youtube["title"].lower()
    description = youtube["description"]
    assert "<" not in description
    assert ">" not in description
    assert "\n- " in description  # key points
    assert "Runtime: 42 seconds." in description
    tags = TAG_RE.findall(description)
    assert 0 < len(tags) <= 15
    assert "#Shorts" in tags  # a 42-second vertical video
    assert "#Shorts" not in tags[:3]  # the first three stay topical
    assert "#ColdBrew" in tags[:3]
    for platform in ALL:
        if platform != "youtube":
            assert isinstance(outputs[platform], str)


async def test_youtube_title_stays_within_100_characters() -> None:
    topic = "an extraordinarily long and winding topic " * 3
    outputs = await _write(platforms=("youtube",), prompt=f"Write a post about {topic}")
    youtube = outputs["youtube"]
    assert isinstance(youtube, dict)
    assert 0 < len(youtube["title"]) <= 100
    assert not youtube["title"].endswith(" ")


async def test_media_only_images() -> None:
    outputs = await _write(media=(_image(), _image("IMG_2041.jpg")))
    for platform, text in _texts(outputs).items():
        assert "Summer Launch" in text, platform  # summer-launch_final.jpg, noise words dropped
        assert "final" not in text.lower()
        assert "jpg" not in text.lower()
        assert "img" not in text.lower()
    instagram = _body(outputs["instagram"])
    assert "portrait" in instagram
    assert "navy" in instagram
    assert "gold" in instagram
    assert "Two" in instagram  # two photos


async def test_media_only_video() -> None:
    outputs = await _write(media=(_video(),))
    for platform, text in _texts(outputs).items():
        assert "42" in text, platform
        assert "dsc" not in text.lower()
    assert "42-second vertical video" in _body(outputs["instagram"])
    assert "teal" in _body(outputs["instagram"])
    youtube = outputs["youtube"]
    assert isinstance(youtube, dict)
    assert "42" in youtube["title"]


async def test_outputs_follow_request_order_and_dedupe() -> None:
    outputs = await _write(platforms=("linkedin", "x", "linkedin"), prompt=PROMPT)
    assert list(outputs) == ["linkedin", "x"]


# ---- errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"prompt": "   "},
        {"prompt": None, "sources": (SourceDoc("https://e.com", " ", "\n "),)},
    ],
)
async def test_empty_material_is_a_provider_error(fields: dict[str, object]) -> None:
    with pytest.raises(ProviderError, match="nothing to write about"):
        await _write(**fields)


async def test_unknown_platform_is_a_provider_error() -> None:
    with pytest.raises(ProviderError, match="myspace"):
        await _write(platforms=("instagram", "myspace"), prompt=PROMPT)


@pytest.mark.parametrize("mode", ["regular", "deep"])
async def test_long_prompt_fits_everywhere(mode: ResearchMode) -> None:
    sentence = "Our roastery in Leeds now sources single-origin beans from seven cooperatives. "
    prompt = (sentence * 30)[:2000]
    outputs = await _write(prompt=prompt, sources=SOURCES, research_mode=mode, cta_text="Visit us")
    for platform, value in outputs.items():
        text = _body(value)
        assert caption_length(platform, text) <= caption_limit(platform), platform
        assert "Visit us." in text, platform


# ---- material without words -----------------------------------------------------------

WORDLESS_PROMPTS = [
    "!!! ???",
    "#### !!!",
    "...",
    "\U0001f389\U0001f389\U0001f389",
    ("\U0001f680\U0001f680\U0001f680 " * 500)[:2000],
]


@pytest.mark.parametrize("prompt", WORDLESS_PROMPTS)
@pytest.mark.parametrize("emoji", ["none", "light", "heavy", None])
async def test_a_prompt_without_words_gives_valid_captions(prompt: str, emoji: str | None) -> None:
    style = WritingStyle("S", "friendly", emoji, 3) if emoji else None  # type: ignore[arg-type]
    outputs = await _write(prompt=prompt, style=style)
    assert list(outputs) == list(ALL)
    for platform, value in outputs.items():
        title = value["title"] if isinstance(value, dict) else None
        text = _body(value)
        post_type, kinds, seconds = _CHECK_ITEMS[platform]
        assert validate_item(post_type, text, title, kinds, seconds) is None, platform
        # the user's punctuation is not echoed as if it were a sentence
        assert not text.startswith(("!", "#", ".", "\U0001f680", "\U0001f389")), (platform, text)
        assert re.search(r"\w", text.split("\n")[0]), (platform, text)
        if emoji == "none":
            assert _emoji_free(text + (title or ""))
    youtube = outputs["youtube"]
    assert isinstance(youtube, dict)
    assert youtube["title"] == "New Video"


async def test_a_wordless_prompts_emoji_decorate_where_emoji_are_used() -> None:
    outputs = await _write(prompt="\U0001f389\U0001f389\U0001f389")
    instagram = outputs["instagram"]
    assert isinstance(instagram, str)
    assert instagram.split("\n")[0] == "Here's the latest. \U0001f389\U0001f389\U0001f389"
    assert "\U0001f389" not in _body(outputs["linkedin"])  # no emoji on LinkedIn by default


@pytest.mark.parametrize(
    ("prompt", "decoration"),
    [
        # three joined families of 5 code points each: only whole ones are kept
        ("\U0001f468\u200d\U0001f469\u200d\U0001f467" * 3, "\U0001f468\u200d\U0001f469\u200d\U0001f467"),
        # a sparkle and five flags: never half a flag
        ("\u2728\U0001f1e9\U0001f1ea\U0001f1eb\U0001f1f7\U0001f1ee\U0001f1f9\U0001f1ea\U0001f1f8\U0001f1ec\U0001f1e7",
         "\u2728\U0001f1e9\U0001f1ea\U0001f1eb\U0001f1f7\U0001f1ee\U0001f1f9"),
        # a waving hand with a skin tone, stray punctuation between
        ("!! \U0001f44b\U0001f3fd ?? \U0001f44b\U0001f3fd", "\U0001f44b\U0001f3fd\U0001f44b\U0001f3fd"),
    ],
)  # fmt: skip
async def test_emoji_sequences_are_never_cut_apart(prompt: str, decoration: str) -> None:
    outputs = await _write(platforms=("instagram",), prompt=prompt)
    instagram = outputs["instagram"]
    assert isinstance(instagram, str)
    assert instagram.split("\n")[0] == f"Here's the latest. {decoration}"


@pytest.mark.parametrize(
    ("post_types", "title"),
    [
        (("youtube-short",), "New Short"),
        (("youtube-short", "instagram-reel"), "New Short"),
        (("youtube-video", "youtube-short"), "New Video"),
        ((), "New Video"),
    ],
)
async def test_the_fallback_title_follows_the_post_types(
    post_types: tuple[str, ...], title: str
) -> None:
    outputs = await _write(platforms=("youtube",), prompt="?!?", post_types=post_types)
    youtube = outputs["youtube"]
    assert isinstance(youtube, dict)
    assert youtube["title"] == title


async def test_a_wordless_prompt_with_media_writes_about_the_media() -> None:
    outputs = await _write(prompt="!!! ???", media=(_image(name="IMG_0001.jpg"),))
    youtube = outputs["youtube"]
    assert isinstance(youtube, dict)
    assert youtube["title"] == "A Quick Look in Navy and Gold"
    assert "A portrait photo in navy and gold tones." in _body(outputs["instagram"])
    assert "#Photography" in _body(outputs["instagram"])
    assert "!!!" not in _body(outputs["instagram"])


# ---- hashtags from the media ----------------------------------------------------------


async def test_an_image_only_caption_carries_tags_from_what_it_shows() -> None:
    outputs = await _write(media=(_image(name="IMG_0001.jpg"),))
    expected = ["#Photography", "#PortraitFormat", "#Navy", "#Gold"]
    for platform, value in outputs.items():
        text = _body(value)
        found = TAG_RE.findall(text)
        wanted = {"x": 2, "facebook": 2, "linkedin": 3}.get(platform, 4)
        assert found == expected[:wanted], (platform, found)
        assert text.rstrip().endswith(" ".join(found)), platform  # the tags close the caption
    assert outputs == await _write(media=(_image(name="IMG_0001.jpg"),))  # deterministic


async def test_a_video_only_caption_carries_tags_from_what_it_shows() -> None:
    outputs = await _write(media=(_video(),))
    instagram = TAG_RE.findall(_body(outputs["instagram"]))
    # one tag per word: #ShortVideo says "video" already, so no #Video beside it
    assert instagram == ["#ShortVideo", "#VerticalFormat", "#Teal", "#White"]
    youtube = TAG_RE.findall(_body(outputs["youtube"]))
    # a 42-second vertical video: YouTube's #Shorts hint after the first three, in place
    # of #ShortVideo (the same word)
    assert youtube == ["#VerticalFormat", "#Teal", "#White", "#Shorts"]
    assert TAG_RE.findall(_body(outputs["x"])) == ["#ShortVideo", "#VerticalFormat"]

    long_wide = MediaInput(
        kind="video",
        path=Path("/media/talk.mp4"),
        mime_type="video/mp4",
        file_name="DSC_7.mp4",
        width=1920,
        height=1080,
        duration_seconds=1800.0,
        dominant_colors=("#87ceeb",),
    )
    long_tags = TAG_RE.findall(_body((await _write(media=(long_wide,)))["instagram"]))
    assert long_tags == ["#Video", "#LongForm", "#Widescreen", "#SkyBlue"]


async def test_media_tags_follow_the_file_names_words_and_respect_caps() -> None:
    photos = tuple(_image(f"summer-launch_{n}.jpg") for n in range(3))
    style = WritingStyle("S", "friendly", "light", 99)
    outputs = await _write(media=photos, style=style)
    for platform, value in outputs.items():
        text = _body(value)
        found = TAG_RE.findall(text)
        assert found[0] == "#SummerLaunch", platform
        assert "#Photography" in found, platform
        assert "#PhotoSeries" in found, platform
        assert len(found) == len({t.lower() for t in found})
        title = value["title"] if isinstance(value, dict) else None
        post_type, kinds, seconds = _CHECK_ITEMS[platform]
        assert validate_item(post_type, text, title, kinds, seconds) is None, platform
        assert caption_length(platform, text) <= caption_limit(platform)


async def test_a_prompt_keeps_its_own_tags_without_media_tags() -> None:
    outputs = await _write(prompt=PROMPT, media=(_image(name="IMG_0001.jpg"),))
    for platform, value in outputs.items():
        found = TAG_RE.findall(_body(value))
        assert found, platform
        assert not {"#Photography", "#PortraitFormat", "#Navy"} & set(found), platform

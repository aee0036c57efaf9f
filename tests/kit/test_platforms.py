"""The platform table: §4's post types, each platform's published limits, and how X counts."""

from __future__ import annotations

import pytest

from powerpost.kit.platforms import (
    PLATFORMS,
    POST_TYPES,
    RULES,
    caption_length,
    caption_limit,
    count_hashtags,
    platform_of,
    validate_item,
    x_weighted_length,
)

# §4 of the API spec, transcribed by hand.
SPEC_TABLE = {
    "instagram": ["instagram-feed", "instagram-reel", "instagram-story"],
    "tiktok": ["tiktok-video", "tiktok-photos"],
    "youtube": ["youtube-video", "youtube-short"],
    "x": ["x-post"],
    "facebook": ["facebook-post", "facebook-reel", "facebook-story"],
    "linkedin": ["linkedin-post"],
}


def test_table_matches_spec_section_4_exactly() -> None:
    assert PLATFORMS == ("instagram", "tiktok", "youtube", "x", "facebook", "linkedin")
    expected = {pt: platform for platform, types in SPEC_TABLE.items() for pt in types}
    assert expected == POST_TYPES
    assert len(POST_TYPES) == 12
    assert set(RULES) == set(POST_TYPES)
    for post_type, rules in RULES.items():
        assert rules.post_type == post_type
        assert rules.platform == POST_TYPES[post_type] == platform_of(post_type)
        assert 0 <= rules.media_min <= rules.media_max
        assert rules.media_kinds
        assert rules.media_kinds <= {"image", "video"}
        assert rules.caption_max > 0


def test_published_limits() -> None:
    assert {p: caption_limit(p) for p in PLATFORMS} == {
        "instagram": 2200,
        "tiktok": 2200,
        "youtube": 5000,
        "x": 280,
        "facebook": 63206,
        "linkedin": 3000,
    }
    assert RULES["instagram-feed"].media_max == 10
    assert RULES["instagram-feed"].hashtag_max == 30
    assert RULES["instagram-reel"].media_kinds == {"video"}
    assert RULES["tiktok-photos"].media_max == 35
    assert RULES["tiktok-photos"].media_kinds == {"image"}
    assert RULES["x-post"].media_max == 4
    assert RULES["linkedin-post"].media_max == 20
    assert RULES["youtube-short"].video_max_seconds == 180
    for post_type in ("youtube-video", "youtube-short"):
        rules = RULES[post_type]
        assert rules.needs_title
        assert rules.title_max == 100
        assert (rules.media_min, rules.media_max, rules.media_kinds) == (1, 1, frozenset({"video"}))
    assert not any(r.needs_title for r in RULES.values() if r.platform != "youtube")
    for post_type in ("instagram-story", "facebook-story"):
        assert (RULES[post_type].media_min, RULES[post_type].media_max) == (1, 1)
        assert RULES[post_type].media_kinds == {"image", "video"}


def test_unknown_names_raise() -> None:
    with pytest.raises(ValueError, match="post type"):
        platform_of("myspace-post")
    with pytest.raises(ValueError, match="platform"):
        caption_limit("myspace")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("hello world", 11),
        ("https://example.com/a/very/long/path/that/goes/on?and=on&on=1", 23),
        ("see https://example.com/x.", 4 + 23 + 1),
        ("two links http://a.io and https://b.io/c", 10 + 23 + 5 + 23),
        ("🚀", 2),
        ("東京", 4),
        ("café", 4),
        ("e\u0301", 1),  # NFC folds the combining accent into one light code point
        ("it’s “quoted” — ok", 18),  # curly quotes and dashes sit in X's light ranges
        # X links bare domains too: generic TLDs always, country TLDs with a path
        ("Shop now at example.com", 12 + 23),
        ("shop0.com shop1.com", 23 + 1 + 23),
        ("bit.ly/spring", 23),
        ("ASP.NET", 23),
        ("write to a@shop.com", 19),  # an email address is not a link
        ("node.js and report.pdf", 22),  # not top-level domains
        ("bit.ly alone", 12),  # a one-label country domain needs a path
        ("www.bit.ly", 23),
        ("watch at example.tv!", 9 + 23 + 1),
        ("https://shop.com/a and shop.com/b.", 23 + 5 + 23 + 1),
        ("👨\u200d👩\u200d👧", 8),  # per code point (ZWJ weighs 1): X says 2, never more
    ],
)
def test_x_weighted_length(text: str, expected: int) -> None:
    assert x_weighted_length(text) == expected


def test_caption_length_units() -> None:
    assert caption_length("x", "🚀 https://example.com/" + "x" * 100) == 2 + 1 + 23
    assert caption_length("youtube", "é") == 2  # YouTube's limit is in bytes
    assert caption_length("tiktok", "🚀") == 2  # TikTok's is in UTF-16 units
    assert caption_length("instagram", "🚀") == 1
    assert count_hashtags("#one two #three a#b #4x &#35; ##x") == 3


def _valid(
    post_type: str,
    content: str | None = "Hello",
    title: str | None = None,
    kinds: list[str] | None = None,
    seconds: list[float] | None = None,
) -> str | None:
    return validate_item(post_type, content, title, kinds or [], seconds or [])


def test_valid_items_pass() -> None:
    assert _valid("x-post") is None
    assert _valid("x-post", "a" * 280) is None
    assert _valid("x-post", "東" * 140) is None
    assert _valid("x-post", None, kinds=["image"] * 4) is None
    assert _valid("x-post", kinds=["video"], seconds=[140]) is None
    assert _valid("instagram-feed", "a" * 2200, kinds=["image", "video"], seconds=[30]) is None
    assert _valid("instagram-story", None, kinds=["image"]) is None
    assert _valid("tiktok-photos", kinds=["image"] * 35) is None
    assert _valid("youtube-video", "d" * 5000, "T" * 100, ["video"], [3600]) is None
    assert _valid("youtube-short", "", "Short", ["video"], [180]) is None
    assert _valid("facebook-post", "a" * 63206) is None
    assert _valid("linkedin-post", kinds=["image"] * 20) is None


@pytest.mark.parametrize(
    ("post_type", "content", "title", "kinds", "seconds", "fragment"),
    [
        ("x-post", "a" * 281, None, [], [], "280"),
        ("x-post", "東" * 141, None, [], [], "282 weighted"),
        ("instagram-feed", "a" * 2201, None, ["image"], [], "2200"),
        (
            "instagram-feed",
            " ".join(f"#t{i}" for i in range(31)),
            None,
            ["image"],
            [],
            "31 hashtags",
        ),
        ("linkedin-post", "a" * 3001, None, [], [], "3000"),
        ("youtube-video", "é" * 2501, "Title", ["video"], [], "5002 bytes"),
        ("instagram-reel", "Hi", None, ["image"], [], "only video"),
        ("instagram-reel", "Hi", None, ["video", "video"], [10, 10], "exactly 1 video"),
        ("instagram-feed", "Hi", None, [], [], "1 to 10"),
        ("instagram-feed", "Hi", None, ["image"] * 11, [], "has 11"),
        ("tiktok-photos", "Hi", None, ["video"], [], "only image"),
        ("tiktok-photos", "Hi", None, ["image"] * 36, [], "1 to 35"),
        ("x-post", "Hi", None, ["image"] * 5, [], "up to 4 images or 1 video"),
        ("x-post", "Hi", None, ["video", "image"], [10], "not both"),
        ("linkedin-post", "Hi", None, ["image"] * 21, [], "has 21"),
        ("youtube-video", "Hi", None, ["video"], [60], "needs a title"),
        ("youtube-short", "Hi", "   ", ["video"], [60], "needs a title"),
        ("youtube-video", "Hi", "T" * 101, ["video"], [60], "101 characters"),
        ("youtube-video", "Hi", "a <b> title", ["video"], [60], "'<'"),
        ("youtube-short", "Hi", "Title", ["video"], [180.5], "180 seconds"),
        ("youtube-video", "Hi", "Title", ["image"], [], "only video"),
        ("facebook-reel", "Hi", None, ["video"], [91], "90 seconds"),
        ("facebook-post", "  ", None, [], [], "needs content or media"),
        ("x-post", None, None, [], [], "needs content or media"),
    ],
)
def test_invalid_items_name_the_post_type(
    post_type: str,
    content: str | None,
    title: str | None,
    kinds: list[str],
    seconds: list[float],
    fragment: str,
) -> None:
    message = validate_item(post_type, content, title, kinds, seconds)
    assert message is not None
    assert message.startswith(post_type)
    assert fragment in message
    assert message.endswith(".")


def test_unknown_post_type_is_an_error() -> None:
    assert validate_item("myspace-post", "Hi", None, [], []) == "Unknown post type 'myspace-post'."

"""Fitting a provider's captions to the platform table before a generation completes:
hashtags over a cap dropped from the end, YouTube's '<' and '>' replaced, lengths checked
after fitting, and a refusal only for captions no repair can save."""

from __future__ import annotations

from typing import Any

import pytest

from powerpost.generation.fitting import (
    YOUTUBE_TITLE_MAX,
    UnfitCaption,
    drop_hashtags,
    fit_output,
    hashtag_limit,
    without_angle_brackets,
)
from powerpost.generation.tasks import check_outputs
from powerpost.jobs import PermanentJobError
from powerpost.kit.platforms import RULES, caption_length, count_hashtags, validate_item


def tags(prefix: str, count: int) -> str:
    return " ".join(f"#{prefix}{i}" for i in range(count))


def test_caps_come_from_the_platform_table() -> None:
    for platform in ("instagram", "youtube", "tiktok", "x", "facebook", "linkedin"):
        caps = {r.hashtag_max for r in RULES.values() if r.platform == platform}
        expected = min((c for c in caps if c), default=None)
        assert hashtag_limit(platform) == expected, platform
    assert hashtag_limit("instagram") == 30
    assert hashtag_limit("youtube") == 60
    assert hashtag_limit("x") is None
    assert YOUTUBE_TITLE_MAX == 100


def test_a_tag_block_loses_its_last_tags() -> None:
    text = "Fresh bread every morning.\n\n" + tags("bread", 34)
    fitted = drop_hashtags(text, 30)
    assert fitted == "Fresh bread every morning.\n\n" + tags("bread", 30)
    assert drop_hashtags(text, 34) == text  # within the cap: untouched, byte for byte


def test_tags_inside_a_sentence_keep_their_words() -> None:
    text = "We love #sourdough and #rye.\nBaked at #dawn today\n#bakery #bread"
    assert drop_hashtags(text, 2) == "We love #sourdough and #rye.\nBaked at dawn today"
    assert drop_hashtags(text, 0) == "We love sourdough and rye.\nBaked at dawn today"
    assert count_hashtags(drop_hashtags(text, 1)) == 1


def test_a_line_of_tags_alone_goes_with_its_break() -> None:
    text = "Line one.\n\n#a #b\n\n#c #d\n\nLast words."
    assert drop_hashtags(text, 2) == "Line one.\n\n#a #b\n\nLast words."
    assert drop_hashtags(text, 0) == "Line one.\n\nLast words."


def test_angle_brackets_become_look_alikes_unless_that_breaks_the_limit() -> None:
    assert without_angle_brackets("a < b -> c") == "a \u2039 b -\u203a c"
    assert without_angle_brackets("plain") == "plain"
    # each look-alike is 3 bytes: near YouTube's 5000-byte limit the brackets are removed
    near_limit = "x" * 4993 + " <3 <3"  # 4999 bytes; 5003 swapped
    fitted = fit_output("youtube", {"title": "T", "description": near_limit})
    assert isinstance(fitted, dict)
    assert fitted["description"] == "x" * 4993 + " 3 3"
    assert caption_length("youtube", fitted["description"]) <= 5000


def test_a_youtube_answer_is_fitted_not_failed() -> None:
    title = "Bread <vs> cake #bread #cake"
    description = "Why bread <3 wins.\n\n" + tags("loaf", 70)
    fitted = fit_output("youtube", {"title": title, "description": description})
    assert isinstance(fitted, dict)
    assert fitted["title"] == "Bread \u2039vs\u203a cake #bread #cake"
    # the title's two tags count toward YouTube's 60
    assert count_hashtags(fitted["description"]) == 58
    assert fitted["description"].startswith("Why bread \u20393 wins.\n\n#loaf0 #loaf1 ")
    assert fitted["description"].endswith("#loaf57")
    problem = validate_item(
        "youtube-video", fitted["description"], fitted["title"], ["video"], [30]
    )
    assert problem is None


def test_instagram_is_capped_and_other_platforms_keep_their_tags() -> None:
    many = "Our new menu.\n\n" + tags("food", 45)
    instagram = fit_output("instagram", many)
    assert isinstance(instagram, str)
    assert count_hashtags(instagram) == 30
    assert validate_item("instagram-feed", instagram, None, ["image"], []) is None
    assert validate_item("instagram-feed", many, None, ["image"], []) is not None
    # no cap in the table: nothing is dropped; '<' is only refused by YouTube
    assert fit_output("tiktok", many + " <3") == many + " <3"
    assert fit_output("facebook", many) == many


@pytest.mark.parametrize(
    ("platform", "value", "problem"),
    [
        ("x", "y" * 281, "over its limit"),
        ("x", "   ", "missing or empty"),
        ("linkedin", None, "missing or empty"),
        ("youtube", "a string", "no {title, description}"),
        ("youtube", {"title": "", "description": "d"}, "title is empty"),
        ("youtube", {"title": "t" * 101, "description": "d"}, "over 100 chars"),
        ("youtube", {"title": "t", "description": " \n "}, "description is empty"),
        ("youtube", {"title": "t", "description": "\u00e9" * 2501}, "over its limit"),
    ],
)
def test_what_cannot_be_repaired_is_refused(platform: str, value: Any, problem: str) -> None:
    with pytest.raises(UnfitCaption, match=problem.replace("{", r"\{").replace("}", r"\}")):
        fit_output(platform, value)


def test_check_outputs_fits_every_requested_platform_and_reports_failures() -> None:
    outputs: dict[str, Any] = {
        "instagram": "Hi\n\n" + tags("t", 31),
        "youtube": {"title": "1 < 2", "description": "a > b"},
        "x": "extra platform, ignored",
    }
    checked = check_outputs(outputs, ["instagram", "youtube"])
    assert list(checked) == ["instagram", "youtube"]
    assert count_hashtags(checked["instagram"]) == 30
    assert checked["youtube"] == {"title": "1 \u2039 2", "description": "a \u203a b"}
    with pytest.raises(PermanentJobError, match="unusable captions: the linkedin caption"):
        check_outputs(outputs, ["instagram", "linkedin"])

"""The one table of platform facts: post types, caption and media limits, and how to count.

Everything that needs a platform rule (post validation, caption generation, publishing)
reads it from here so a limit changes in one place. Numbers come from each platform's own
published API documentation; the source is noted beside each one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from importlib import resources

PLATFORMS: tuple[str, ...] = ("instagram", "tiktok", "youtube", "x", "facebook", "linkedin")

POST_TYPES: dict[str, str] = {
    "instagram-feed": "instagram",
    "instagram-reel": "instagram",
    "instagram-story": "instagram",
    "tiktok-video": "tiktok",
    "tiktok-photos": "tiktok",
    "youtube-video": "youtube",
    "youtube-short": "youtube",
    "x-post": "x",
    "facebook-post": "facebook",
    "facebook-reel": "facebook",
    "facebook-story": "facebook",
    "linkedin-post": "linkedin",
}

_IMAGE = frozenset({"image"})
_VIDEO = frozenset({"video"})
_ANY = frozenset({"image", "video"})


@dataclass(frozen=True)
class PostTypeRules:
    post_type: str
    platform: str
    caption_max: int  # measured with caption_length(platform, ...)
    media_min: int
    media_max: int
    media_kinds: frozenset[str]
    needs_title: bool
    title_max: int | None
    video_max_seconds: float | None
    hashtag_max: int | None = None
    # a video must be the item's only media ("4 images or 1 video")
    single_video: bool = False


def _rule(
    post_type: str,
    caption_max: int,
    media: tuple[int, int],
    kinds: frozenset[str],
    *,
    title_max: int | None = None,
    needs_title: bool = False,
    video_max_seconds: float | None = None,
    hashtag_max: int | None = None,
    single_video: bool = False,
) -> PostTypeRules:
    return PostTypeRules(
        post_type=post_type,
        platform=POST_TYPES[post_type],
        caption_max=caption_max,
        media_min=media[0],
        media_max=media[1],
        media_kinds=kinds,
        needs_title=needs_title,
        title_max=title_max,
        video_max_seconds=video_max_seconds,
        hashtag_max=hashtag_max,
        single_video=single_video,
    )


RULES: dict[str, PostTypeRules] = {
    r.post_type: r
    for r in (
        # Instagram Graph API (IG Media): caption <= 2200 chars, <= 30 hashtags; a carousel
        # holds <= 10 children; carousel video 3 to 60 s.
        _rule("instagram-feed", 2200, (1, 10), _ANY, video_max_seconds=60, hashtag_max=30),
        # Instagram Graph API, Reels specs: one video, 3 s to 15 min.
        _rule("instagram-reel", 2200, (1, 1), _VIDEO, video_max_seconds=900, hashtag_max=30),
        # Instagram Graph API, Stories specs: one image or one 3 to 60 s video; the platform
        # shows no caption on a story, the text is kept for our own record.
        _rule("instagram-story", 2200, (1, 1), _ANY, video_max_seconds=60, hashtag_max=30),
        # TikTok Content Posting API, video: caption (title) <= 2200 UTF-16 units; <= 10 min.
        _rule("tiktok-video", 2200, (1, 1), _VIDEO, video_max_seconds=600),
        # TikTok Content Posting API, photo: description <= 4000, title <= 90, <= 35 images.
        _rule("tiktok-photos", 4000, (1, 35), _IMAGE, title_max=90),
        # YouTube Data API videos.insert: title <= 100 chars, description <= 5000 bytes; a
        # verified channel uploads up to 12 h; over 60 hashtags YouTube ignores them all.
        _rule(
            "youtube-video",
            5000,
            (1, 1),
            _VIDEO,
            needs_title=True,
            title_max=100,
            video_max_seconds=12 * 3600,
            hashtag_max=60,
        ),
        # YouTube Help, "Upload YouTube Shorts": a Short runs up to 3 minutes.
        _rule(
            "youtube-short",
            5000,
            (1, 1),
            _VIDEO,
            needs_title=True,
            title_max=100,
            video_max_seconds=180,
            hashtag_max=60,
        ),
        # X docs "Counting characters": 280 weighted; media upload: <= 4 images or 1 video,
        # video <= 140 s.
        _rule("x-post", 280, (0, 4), _ANY, video_max_seconds=140, single_video=True),
        # Meta Help Center: a post message holds <= 63206 chars. The Graph API documents no
        # cap on attached photos; 10 [decision] matches the generation input cap.
        _rule("facebook-post", 63206, (0, 10), _ANY, single_video=True),
        # Facebook Reels Publishing API: one video, 3 to 90 s.
        _rule("facebook-reel", 63206, (1, 1), _VIDEO, video_max_seconds=90),
        # Facebook Page Stories API: one photo or one 3 to 60 s video, no caption shown.
        _rule("facebook-story", 63206, (1, 1), _ANY, video_max_seconds=60),
        # LinkedIn Posts API: commentary <= 3000 chars; MultiImage up to 20 images; Videos
        # API 3 s to 30 min, one video per post.
        _rule("linkedin-post", 3000, (0, 20), _ANY, video_max_seconds=1800, single_video=True),
    )
}

# X (twitter-text v3 config): these code point ranges weigh 1, every other code point 2.
_X_LIGHT_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x10FF),
    (0x2000, 0x200D),
    (0x2010, 0x201F),
    (0x2032, 0x2037),
)
_X_URL_WEIGHT = 23  # t.co wraps every link to this many characters
_URL_RE = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
# A link written without https://: dotted labels ending in a top-level domain, not glued
# to a word, an @ (email, mention), $ or # before it, or to more name characters after.
_BARE_DOMAIN_RE = re.compile(
    r"(?<![A-Za-z0-9@$#＠＃_./-])"
    r"((?:[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?\.)+([a-z][a-z0-9-]*[a-z0-9]|[a-z]))"
    r"(?![a-z0-9@+_-])"
    r"(/[^\s<>\"']*)?",
    re.IGNORECASE,
)
_URL_TRAILING = ".,;:!?)]}'\""
# Country-code domains X links without a path even when they are a single label + TLD.
_SHORT_CCTLD_OK = frozenset({"co", "tv"})


def _tld_set(name: str) -> frozenset[str]:
    text = resources.files("powerpost.kit").joinpath("data", name).read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


_GENERIC_TLDS = _tld_set("gtlds.txt")
_COUNTRY_TLDS = _tld_set("cctlds.txt")

HASHTAG_RE = re.compile(r"(?<![\w#&])#(\w+)")  # as the platforms count them


def platform_of(post_type: str) -> str:
    try:
        return POST_TYPES[post_type]
    except KeyError:
        raise ValueError(f"unknown post type {post_type!r}") from None


def caption_limit(platform: str) -> int:
    """The tightest caption limit among the platform's post types: one caption serves all."""
    limits = [r.caption_max for r in RULES.values() if r.platform == platform]
    if not limits:
        raise ValueError(f"unknown platform {platform!r}")
    return min(limits)


def _x_char_weight(ch: str) -> int:
    cp = ord(ch)
    for low, high in _X_LIGHT_RANGES:
        if low <= cp <= high:
            return 1
    return 2


def _is_bare_link(domain: str, tld: str, path: str | None) -> bool:
    """X's rule for a domain written without https:// (twitter-text's extractor)."""
    tld = tld.lower()
    if tld in _GENERIC_TLDS or tld.startswith("xn--"):
        return True
    if tld not in _COUNTRY_TLDS:
        return False  # "report.pdf", "node.js": not a top-level domain
    # "bit.ly" alone is not linked, "bit.ly/x" and "www.bit.ly" are; ".co" and ".tv" always.
    return bool(path) or domain.count(".") > 1 or tld in _SHORT_CCTLD_OK


def _x_links(text: str) -> list[tuple[int, int]]:
    """(start, end) of every span X turns into a 23-character t.co link."""
    spans = [
        (match.start(), match.start() + len(match.group(0).rstrip(_URL_TRAILING)))
        for match in _URL_RE.finditer(text)
    ]
    taken = list(spans)
    for match in _BARE_DOMAIN_RE.finditer(text):
        start = match.start()
        if any(a <= start < b for a, b in taken):
            continue  # the host part of a link already counted
        domain, tld, path = match.group(1), match.group(2), match.group(3)
        if _is_bare_link(domain, tld, path):
            spans.append((start, start + len(match.group(0).rstrip(_URL_TRAILING))))
    return sorted(spans)


def x_weighted_length(text: str) -> int:
    """Length as X counts it: every link, with or without https:// ("shop.com",
    "bit.ly/x"), weighs 23; code points outside X's light ranges weigh 2.

    Emoji sequences are counted per code point, which can only overcount (X weighs a whole
    sequence 2), so a text that passes here also passes on X.
    """
    text = unicodedata.normalize("NFC", text)
    total = 0
    pos = 0
    for start, end in _x_links(text):
        total += sum(_x_char_weight(ch) for ch in text[pos:start]) + _X_URL_WEIGHT
        pos = end
    total += sum(_x_char_weight(ch) for ch in text[pos:])
    return total


def caption_length(platform: str, text: str) -> int:
    """Length in the unit the platform's limit is published in."""
    if platform == "x":
        return x_weighted_length(text)
    if platform == "youtube":
        return len(text.encode("utf-8"))
    if platform == "tiktok":
        return len(text.encode("utf-16-le")) // 2
    return len(text)


def count_hashtags(text: str) -> int:
    return len(HASHTAG_RE.findall(text))


def _media_phrase(rules: PostTypeRules) -> str:
    if rules.single_video:
        return f"up to {rules.media_max} images or 1 video"
    plural = rules.media_max > 1
    kinds = " or ".join(f"{k}s" if plural else k for k in sorted(rules.media_kinds))
    if rules.media_min == rules.media_max:
        return f"exactly {rules.media_min} {kinds}"
    return f"{rules.media_min} to {rules.media_max} {kinds}"


def _fmt_seconds(value: float) -> str:
    return f"{value:g}"


def validate_item(
    post_type: str,
    content: str | None,
    title: str | None,
    media_kinds: list[str],
    video_seconds: list[float],
) -> str | None:
    """Check one post item against its platform's rules; a client-safe sentence or None."""
    rules = RULES.get(post_type)
    if rules is None:
        return f"Unknown post type '{post_type[:40]}'."
    name = post_type
    text = content or ""

    wrong = [k for k in media_kinds if k not in rules.media_kinds]
    if wrong:
        allowed = " or ".join(sorted(rules.media_kinds))
        return f"{name} accepts only {allowed} media, not {wrong[0]}."
    count = len(media_kinds)
    videos = media_kinds.count("video")
    if rules.single_video and videos and count > 1:
        return f"{name} takes 1 video on its own or up to {rules.media_max} images, not both."
    if count < rules.media_min or count > rules.media_max:
        return f"{name} needs {_media_phrase(rules)}; this item has {count}."
    if rules.video_max_seconds is not None:
        for seconds in video_seconds:
            if seconds > rules.video_max_seconds:
                return (
                    f"{name} videos can be at most {_fmt_seconds(rules.video_max_seconds)} "
                    f"seconds long; this one is {_fmt_seconds(round(seconds, 1))} seconds."
                )

    if rules.needs_title and not (title and title.strip()):
        return f"{name} needs a title."
    if title and rules.title_max is not None and len(title) > rules.title_max:
        return f"{name} title is {len(title)} characters long; the limit is {rules.title_max}."
    if rules.platform == "youtube":
        # YouTube rejects angle brackets in titles and descriptions outright.
        if title and ("<" in title or ">" in title):
            return f"{name} title cannot contain '<' or '>'."
        if "<" in text or ">" in text:
            return f"{name} content cannot contain '<' or '>'."

    length = caption_length(rules.platform, text)
    if length > rules.caption_max:
        unit = {"x": "weighted characters", "youtube": "bytes", "tiktok": "UTF-16 units"}.get(
            rules.platform, "characters"
        )
        return f"{name} content is {length} {unit} long; the limit is {rules.caption_max}."
    if rules.hashtag_max is not None:
        tags = count_hashtags(text)
        if tags > rules.hashtag_max:
            return f"{name} content has {tags} hashtags; the limit is {rules.hashtag_max}."
    if count == 0 and not text.strip():
        return f"{name} needs content or media."
    return None

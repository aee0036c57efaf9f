"""The tones a caption can take and each platform's defaults: hooks, emoji, questions,
calls to action, hashtag counts and how many facts each layout uses (data, not logic)."""

from __future__ import annotations

from dataclasses import dataclass

from powerpost.generation.providers.base import EmojiUse


@dataclass(frozen=True)
class _Tone:
    hooks: dict[str, tuple[str, ...]]  # intent -> templates; {t} topic, {T} capitalised
    emoji: tuple[str, ...]
    questions: tuple[str, ...]  # {k}: the focus phrase
    open_question: str  # when the material has no clear focus
    points_label: str
    title_suffixes: tuple[str, ...]
    cta: dict[str, str]  # platform -> default call to action


_BASE_CTA: dict[str, str] = {
    "instagram": "Save this post for later and share it with someone who'd love it.",
    "tiktok": "Follow for more.",
    "youtube": "Subscribe for more videos like this, and tell us what you think in the comments.",
    "facebook": "Share this with someone who'd enjoy it.",
    "linkedin": "Follow for more insights like this.",
}

_TONES: dict[str, _Tone] = {
    "neutral": _Tone(
        hooks={
            "general": ("A closer look at {t}.", "Let's talk about {t}.", "All about {t}."),
            "announce": ("Introducing {t}.", "It's here: {t}."),
            "sale": ("Don't miss this: {t}.", "On offer now: {t}."),
            "event": ("Save the date: {t}.", "Coming up: {t}."),
            "tips": ("What to know about {t}.", "A few notes on {t}."),
        },
        emoji=("✨", "📌", "👀"),
        questions=(
            "What do you think about {k}? Let us know in the comments.",
            "Where do you stand on {k}? Tell us below.",
        ),
        open_question="What do you think? Let us know in the comments.",
        points_label="Key facts",
        title_suffixes=("", ": A Closer Look"),
        cta={},
    ),
    "professional": _Tone(
        hooks={
            "general": (
                "A closer look at {t}, and why it matters.",
                "Some thoughts on {t}.",
                "What {t} means for your work.",
            ),
            "announce": ("We're pleased to announce {t}.", "Announcing {t}."),
            "sale": ("A limited-time offer: {t}.",),
            "event": ("Join us for {t}.", "You're invited: {t}."),
            "tips": ("Practical insights on {t}.", "Lessons on {t} worth sharing."),
        },
        emoji=("📈", "💡", "✅"),
        questions=(
            "How is your team approaching {k}? I'd value your perspective in the comments.",
            "What has your experience been with {k}? Share your perspective below.",
        ),
        open_question="What's your perspective? I'd value your thoughts in the comments.",
        points_label="Key takeaways",
        title_suffixes=(": Key Insights", ": What It Means for You"),
        cta={"instagram": "Save this post for reference and share it with your team."},
    ),
    "playful": _Tone(
        hooks={
            "general": (
                "Okay, let's talk about {t}!",
                "Plot twist: today is all about {t}!",
                "Guess what's on our minds? {T}!",
            ),
            "announce": ("Drumroll, please... say hello to {t}!", "Surprise! Meet {t}!"),
            "sale": ("Treat yourself: {t}!", "Good news for your wallet: {t}!"),
            "event": ("Clear your calendar: {t}!", "Psst, you're invited: {t}!"),
            "tips": ("Your cheat sheet for {t}!", "Little secrets about {t}, coming right up!"),
        },
        emoji=("🎉", "😄", "🙌", "🤩"),
        questions=(
            "Be honest: where do you stand on {k}? Drop it in the comments!",
            "What's your take on {k}? Tell us in the comments!",
        ),
        open_question="Thoughts? Drop them in the comments!",
        points_label="The good stuff",
        title_suffixes=(" (You'll Love This)", ": The Fun Version"),
        cta={
            "instagram": "Tag a friend who needs to see this!",
            "tiktok": "Follow for more, you know you want to.",
            "facebook": "Tag a friend who needs to see this!",
        },
    ),
    "bold": _Tone(
        hooks={
            "general": ("All eyes on {t}.", "Here's the truth about {t}.", "{T}. Let's go."),
            "announce": ("It's finally here: {t}.", "Big news: {t}."),
            "sale": ("Don't miss out: {t}.", "Now or never: {t}."),
            "event": ("Be there: {t}.", "Lock it in: {t}."),
            "tips": ("Stop guessing about {t}.", "The no-nonsense guide to {t}."),
        },
        emoji=("🔥", "🚀", "⚡"),
        questions=(
            "Agree or disagree? Tell us what you think about {k} below.",
            "What's your honest take on {k}? Say it in the comments.",
        ),
        open_question="Agree or disagree? Tell us below.",
        points_label="What matters",
        title_suffixes=(": The Real Story", ": No Fluff"),
        cta={
            "instagram": "Don't scroll past: save this and share it.",
            "tiktok": "Follow now so you don't miss what's next.",
            "facebook": "Share this now with someone who needs it.",
        },
    ),
    "friendly": _Tone(
        hooks={
            "general": (
                "We can't wait to tell you about {t}!",
                "Something we love right now: {t}.",
                "Let's chat about {t}.",
            ),
            "announce": ("We're so excited to share {t} with you!", "Say hello to {t}!"),
            "sale": ("A little treat for you: {t}!",),
            "event": ("We'd love to see you at {t}!", "Come join us: {t}!"),
            "tips": ("A few tips on {t} we think you'll love.",),
        },
        emoji=("😊", "💛", "🙌"),
        questions=(
            "What's your take on {k}? Tell us in the comments!",
            "What do you love most about {k}? We'd love to hear it below.",
        ),
        open_question="What do you think? Tell us in the comments!",
        points_label="A few things we love",
        title_suffixes=("", ": Everything You'll Want to Know"),
        cta={"tiktok": "Follow along for more!"},
    ),
    "informative": _Tone(
        hooks={
            "general": (
                "What you need to know about {t}.",
                "{T}, explained.",
                "Everything worth knowing about {t}.",
            ),
            "announce": ("Now available: {t}.", "New: {t}. Here's what to know."),
            "sale": ("Deal alert: {t}.",),
            "event": ("Mark your calendar: {t}.",),
            "tips": ("A quick guide to {t}.", "{T}: the essentials."),
        },
        emoji=("💡", "📌", "🧠"),
        questions=(
            "What questions do you have about {k}? Ask away in the comments.",
            "What would you add about {k}? Share it below.",
        ),
        open_question="Questions? Ask away in the comments.",
        points_label="Key facts",
        title_suffixes=(": What You Need to Know", ": Explained"),
        cta={"instagram": "Save this for later so you have it handy."},
    ),
}

_TONE_SYNONYMS: dict[str, str] = {
    word: tone
    for tone, words in (
        ("neutral", "neutral balanced"),
        ("professional", "professional formal corporate authoritative expert business"),
        ("playful", "playful fun funny witty humorous cheeky quirky"),
        ("bold", "bold confident energetic provocative edgy urgent"),
        ("friendly", "friendly warm casual conversational approachable upbeat"),
        ("informative", "informative educational explanatory informational helpful"),
    )
    for word in words.split()
}

_PLATFORM_TONE = {
    "instagram": "friendly",
    "tiktok": "playful",
    "x": "neutral",
    "youtube": "informative",
    "facebook": "friendly",
    "linkedin": "professional",
}
_PLATFORM_EMOJI: dict[str, EmojiUse] = {
    "instagram": "light",
    "tiktok": "light",
    "x": "light",
    "youtube": "none",
    "facebook": "light",
    "linkedin": "none",
}
# (default, most allowed) hashtag counts: Instagram's API cap is 30, LinkedIn reads best
# with 3 to 5, YouTube shows the first three above the title and tags past 15 look spammy.
_PLATFORM_TAGS: dict[str, tuple[int, int]] = {
    "instagram": (8, 30),
    "tiktok": (4, 10),
    "x": (2, 5),
    "youtube": (5, 15),
    "facebook": (2, 10),
    "linkedin": (3, 5),
}
# how many source facts each layout uses: (regular, deep)
_BODY_FACTS: dict[str, tuple[int, int]] = {
    "instagram": (2, 5),
    "tiktok": (1, 2),
    "x": (1, 2),
    "youtube": (1, 2),
    "facebook": (2, 1),
    "linkedin": (2, 1),
}
_POINT_FACTS: dict[str, tuple[int, int]] = {
    "youtube": (3, 6),
    "facebook": (0, 4),
    "linkedin": (0, 5),
}

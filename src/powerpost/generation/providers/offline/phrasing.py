"""Lines the composer adds around the user's words, by intent (data, not logic).

Every line here is a sentence of its own, so it can stand before or after anything the
user wrote without making it ungrammatical: a kicker ("Big news!") before a statement, a
question or a call to action after it. "casual" serves the playful, bold and friendly
tones, "formal" the neutral, professional and informative ones.
"""

from __future__ import annotations

_CASUAL_TONES = frozenset({"playful", "bold", "friendly"})

# intent -> (casual, formal) openers for a statement
_KICKERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "announce": (
        ("Big news!", "We have news!", "News from us!"),
        ("Some news to share.", "An update from our team.", "It's official."),
    ),
    "launch": (
        ("Something new!", "Fresh from the team!", "It's launch time!"),
        ("Something new from our team.", "New from us.", "A launch worth a look."),
    ),
    "hiring": (
        ("Team news!", "Our team is growing!"),
        ("Team news.", "Our team is growing."),
    ),
    "team": (
        ("Team news!", "Say hello!"),
        ("Team news.", "A warm welcome."),
    ),
    "milestone": (
        ("What a moment!", "A big one for us!", "Pinch us!"),
        ("A milestone for us.", "A moment worth marking."),
    ),
    "sale": (
        ("Deal alert!", "Treat yourself!", "Psst, a deal!"),
        ("A limited-time offer.", "An offer worth knowing about."),
    ),
    "event": (
        ("Save the date!", "Mark your calendar!", "You're invited!"),
        ("Save the date.", "Mark your calendar.", "You're invited."),
    ),
    "tips": (
        ("Save this one!", "A quick one for you!"),
        ("Worth knowing.", "A practical note."),
    ),
    "quote": (
        ("Words to live by!", "Food for thought!"),
        ("Worth remembering.", "Food for thought."),
    ),
    "notice": (
        ("Heads up!", "Quick note!"),
        ("Please note.", "A quick note."),
    ),
    "general": (
        ("Quick update!", "A little news from us!", "Hello, friends!"),
        ("A quick update.", "From our team.", "An update worth sharing."),
    ),
}

# topic phrases by shape: {t} inline, {T} capitalised; each template reads right with any
# phrase of that shape ("5 tips for...", "how to...", "the beginner's guide to...")
_TOPIC_HOOKS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "list": (
        ("Here are {t}!", "{T}, coming right up!", "Saving this: {t}."),
        ("Here are {t}.", "{T}, in one place.", "{T}, in brief."),
    ),
    "howto": (
        ("Here's {t}!", "Ever wondered {t}? Here's the answer.", "Let's talk about {t}!"),
        ("Here's {t}.", "{T}, explained.", "{T}: the short answer."),
    ),
    "guide": (
        ("Saving this: {t}!", "{T}, in one post!", "Bookmark this: {t}."),
        ("{T}, in one post.", "Worth a read: {t}.", "{T}: the essentials."),
    ),
}

# a question that follows the post on Facebook and LinkedIn, by intent
_INTENT_QUESTIONS: dict[str, tuple[str, ...]] = {
    "event": ("Will we see you there?", "Who's coming along?"),
    "sale": ("What's first on your list?", "Who else has been waiting for this one?"),
    "hiring": (
        "Know someone who'd be a great fit? Send them our way.",
        "Who should we meet? Tag them below.",
    ),
    "team": ("Drop a welcome in the comments.",),
    "milestone": (
        "What's a milestone you're proud of this year?",
        "Have you been with us from the start? Tell us below.",
    ),
    "launch": ("What do you think? Tell us in the comments.", "What would you like to see next?"),
    "tips": ("What would you add to the list?", "Which one will you try first?"),
    "quote": ("Does this one resonate with you?", "What words do you live by?"),
}

# calls to action on Instagram, TikTok and Facebook that suit the intent better than the
# platform's general one
_INTENT_CTA: dict[str, str] = {
    "event": "Save the date and bring a friend.",
    "sale": "Shop before it ends.",
    "question": "Drop your answer in the comments.",
    "hiring": "Share this with someone who'd love the job.",
    "tips": "Save this for later.",
}

"""Word lists and symbol tables the offline writer reads text with (data, not logic)."""

from __future__ import annotations

import re


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


_STOP_WORDS = _wordset(
    """
    a about above across after afterwards again against all almost alone along already also
    although always am among amongst an and another any anyhow anyone anything anyway anywhere
    are around as at back be became because become becomes been before being below beside
    besides between beyond both but by can cannot could did do does doing done down due during
    each either else elsewhere enough etc even ever every everyone everything everywhere except
    few for former from further get gets getting give given go goes going gone got had has
    have having he her here hers herself him himself his how however i if in indeed into is it
    its itself just keep last least less let lets like made make makes making many may me
    meanwhile might mine more moreover most mostly much must my myself near nearly neither
    never nevertheless next no nobody none nor not nothing now nowhere of off often on once one
    only onto or other others otherwise our ours ourselves out over own per perhaps please put
    quite rather really said same say says see seem seemed seems several she should since so
    some somehow someone something sometime sometimes somewhere still such than that the their
    theirs them themselves then there thereby therefore these they this those though through
    throughout thus to together too toward towards under until up upon us use used uses using
    very via was we well were what whatever when whenever where wherever whether which while
    who whoever whole whom whose why will with within without would yet you your yours
    yourself yourselves it's we're you're they're i'm don't doesn't didn't can't won't isn't
    aren't wasn't weren't that's there's here's what's let's we've you've we'll you'll
    new news today tomorrow yesterday day days week weeks month months year years time times
    way ways thing things lot lots people person everyone someone anyone really actually
    want wants need needs know knows think thinks find found look looks looking take takes
    come comes came put puts tell tells told read click visit link bio post posts caption
    announcing introducing promoting celebrating sharing showcasing explaining launching
    captions write create generate draft compose mention highlight include emphasize
    emphasise instagram tiktok twitter tweet facebook linkedin youtube social media reel reels
    story stories short shorts hashtag hashtags emoji emojis video videos photo photos image
    images picture pictures clip clips content copy announcement update tone style voice
    fun funny short long brief quick playful professional friendly bold informative casual
    good great best better big small large high low first second third also via around
    according percent including include includes included based several various different
    """
)

# Nouns that say nothing as a hashtag on their own (#sale, #tips, #office, #Monday).
_GENERIC_NOUNS = _wordset(
    """
    sale sales deal deals offer offers discount discounts tip tips trick tricks idea ideas
    news update updates post posts thing things stuff way ways time times day days week
    weeks weekend weekends month months year years today tonight team teams office offices
    employee employees staff people person everyone customer customers member members
    product products item items service services order orders shop store stores home
    place places world life part parts kind kinds lot lots bit end start beginning
    number numbers percent hour hours minute minutes second seconds moment moments
    monday tuesday wednesday thursday friday saturday sunday january february march april
    may june july august september october november december morning evening night
    question questions answer answers reason reasons step steps guide guides list lists
    mistake mistakes lesson lessons role roles job jobs opening openings code codes link
    links bio version edition story stories quote quotes message reminder favourite
    favorite way everything something anything nothing side level area areas thanks
    head heads seat seats scene scenes colour colours color colors window windows
    """
)
# Words that open a noun phrase without narrowing it ("all running shoes", "new menu").
_GENERIC_MODIFIERS = _wordset(
    """
    new all best great good big small quick first latest more most other full whole own
    next last few many much several various very perfect nice amazing awesome special
    exciting huge entire real true same different only every annual official favourite
    favorite happy brand-new ultimate
    """
)

# A file name's words that say nothing about its subject.
_FILE_NOISE = _wordset(
    """
    img image images photo photos pic pics picture dsc dscn dcim pxl vid video mov mp4 jpg
    jpeg png webp webm heic final finale edit edited copy export exported draft new old
    untitled screenshot screen shot scaled resized hd uhd raw web lowres highres thumb
    thumbnail crop cropped fin rev ver version small large medium original orig file
    clip clips movie footage reel reels story stories
    """
)

_LEADING_CONNECTORS = re.compile(
    r"^(?:however|moreover|additionally|in addition|furthermore|meanwhile|also|but|and|so|"
    r"therefore|thus|still|then|as a result|in fact|indeed|of course|that said)\s*,?\s+",
    re.IGNORECASE,
)
_JUNK_MARKERS = (
    "cookie",
    "javascript",
    "all rights reserved",
    "privacy policy",
    "terms of service",
    "terms of use",
    "sign up",
    "sign in",
    "log in",
    "subscribe",
    "newsletter",
    "click here",
    "read more",
    "advertisement",
    "skip to",
    "accept all",
    "©",
    "http",
    "www.",
)
_PRONOUN_START = _wordset("it this that these those they he she his her its their them such")
_ABBREVIATIONS = _wordset(
    """
    mr mrs ms dr prof sr jr st vs etc e.g i.e inc ltd co corp no fig approx dept est
    u.s u.k jan feb mar apr jun jul aug sep sept oct nov dec mt ft
    """
)

_NAMED_COLOURS: tuple[tuple[str, tuple[int, int, int]], ...] = (
    ("black", (0, 0, 0)),
    ("charcoal", (54, 69, 79)),
    ("grey", (128, 128, 128)),
    ("silver", (192, 192, 192)),
    ("white", (255, 255, 255)),
    ("cream", (255, 250, 215)),
    ("beige", (225, 205, 170)),
    ("tan", (210, 180, 140)),
    ("brown", (125, 75, 35)),
    ("maroon", (128, 0, 0)),
    ("red", (215, 30, 40)),
    ("coral", (255, 127, 80)),
    ("orange", (255, 140, 0)),
    ("gold", (230, 180, 30)),
    ("yellow", (255, 230, 50)),
    ("olive", (128, 128, 0)),
    ("lime", (170, 220, 50)),
    ("green", (40, 140, 50)),
    ("mint", (160, 235, 190)),
    ("teal", (0, 128, 128)),
    ("turquoise", (64, 224, 208)),
    ("sky blue", (135, 206, 235)),
    ("blue", (30, 90, 220)),
    ("navy", (10, 25, 110)),
    ("indigo", (75, 0, 130)),
    ("purple", (128, 40, 150)),
    ("lavender", (200, 170, 240)),
    ("magenta", (230, 0, 200)),
    ("pink", (250, 160, 190)),
    ("peach", (255, 215, 180)),
)

# Emoji code points: what "emoji none" strips and what a decoration may add.
_EMOJI_RANGES: tuple[tuple[int, int], ...] = (
    (0x1F000, 0x1FAFF),
    (0x2300, 0x23FF),
    (0x2600, 0x27BF),
    (0x2B00, 0x2BFF),
    (0x2190, 0x21FF),
    (0x25A0, 0x25FF),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3299),
    (0xFE00, 0xFE0F),
    (0x200D, 0x200D),
    (0x20E3, 0x20E3),
    (0xE0020, 0xE007F),
    (0x00A9, 0x00A9),
    (0x00AE, 0x00AE),
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x2122, 0x2122),
    (0x2139, 0x2139),
    (0x24C2, 0x24C2),
)

# topic words that earn a themed emoji before the tone's generic ones
_THEME_EMOJI: dict[str, str] = {
    word: symbol
    for symbol, words in (
        ("☕", "coffee espresso"),
        ("🍵", "tea"),
        ("🚀", "launch launching startup"),
        ("☀️", "summer sun"),
        ("🏖️", "beach"),
        ("❄️", "winter snow"),
        ("🌸", "spring flower flowers"),
        ("🍂", "autumn fall"),
        ("✈️", "travel trip flight"),
        ("🍽️", "food"),
        ("🍳", "recipe"),
        ("🍕", "pizza"),
        ("🍰", "cake"),
        ("🎵", "music"),
        ("🎶", "concert"),
        ("💪", "fitness workout gym"),
        ("🏃", "running"),
        ("🏷️", "sale discount deal"),
        ("📚", "book books reading learning"),
        ("📊", "data"),
        ("📈", "growth"),
        ("🤖", "ai robot"),
        ("💻", "tech software code"),
        ("🌿", "nature"),
        ("🌱", "plant plants garden"),
        ("🌍", "sustainability climate"),
        ("🌊", "ocean"),
        ("🐶", "dog"),
        ("🐱", "cat"),
        ("🐾", "pet"),
        ("🎉", "party anniversary"),
        ("🎂", "birthday"),
        ("📅", "event webinar"),
        ("🍷", "wine"),
        ("🍺", "beer"),
        ("📸", "camera photography"),
        ("🎨", "art design"),
        ("💰", "money finance"),
        ("🩺", "health"),
        ("🤝", "team partnership"),
        ("🏡", "home"),
        ("🚗", "car"),
        ("🎮", "game gaming"),
    )
    for word in words.split()
}

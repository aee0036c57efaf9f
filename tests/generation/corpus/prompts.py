"""The quality corpus: prompts a new user types, run through the offline caption writer.

`offline_captions.md` beside this file holds what every prompt gives on every network, so
a reviewer reads what users get. Regenerate it after changing the offline writer with:

    .venv/bin/python -m tests.generation.corpus.prompts

and `tests/generation/test_offline_corpus.py` fails while the file is out of date.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from powerpost.generation.providers.base import CaptionOutputs, CaptionRequest
from powerpost.generation.providers.offline import OfflineCaptionProvider
from powerpost.kit.platforms import PLATFORMS, POST_TYPES

OUTPUT_FILE = Path(__file__).with_name("offline_captions.md")

# (kind, prompt): the kind only groups the file for reading
PROMPTS: tuple[tuple[str, str], ...] = (
    ("announcement", "Announcing our Black Friday sale: 30% off all running shoes until Monday"),
    ("announcement", "We just hired our 100th employee and are opening a second office in Lisbon"),
    ("announcement", "Introducing the Aurora X2 headphones, shipping March 15 for $249"),
    ("announcement", "New store opening in Austin this Saturday at 10am"),
    ("announcement", "We're thrilled to announce our partnership with Patagonia"),
    ("announcement", "Big news: our app now supports Spanish and Portuguese"),
    ("announcement", "Reminder: our offices are closed on December 25 and 26"),
    ("announcement", "We are proud to be a certified B Corp"),
    ("tips", "5 tips for keeping sourdough starter alive in winter"),
    ("tips", "3 ways to cut your grocery bill in half"),
    ("tips", "How to brew the perfect pour-over coffee at home"),
    ("tips", "Quick tip: water your succulents once every 2 weeks"),
    ("tips", "7 mistakes first-time founders make with pricing"),
    ("tips", "Why stretching after a run matters"),
    ("tips", "The beginner's guide to composting in small apartments"),
    ("tips", "Tips for staying productive when working remotely"),
    ("question", "What's your favourite way to spend a rainy Sunday?"),
    ("question", "Do you prefer working from home or from the office?"),
    ("question", "Which flavour should we bring back next: pistachio or mango?"),
    ("question", "Have you tried our new oat milk latte yet?"),
    ("question", "Can you guess what we're launching next week?"),
    ("hiring", "We're hiring a senior backend engineer in Berlin, fully remote friendly"),
    ("hiring", "Join our team: 4 open roles in marketing and design"),
    ("hiring", "Meet Sarah Chen, our new Head of Product"),
    ("sale", "Flash sale: 2 for 1 on all candles this weekend only"),
    ("sale", "Use code SPRING20 for 20% off your first order"),
    ("sale", "Free shipping on orders over $50 until Friday"),
    ("sale", "Our summer clearance starts tomorrow with up to 70% off"),
    ("event", "Join us for a free webinar on email marketing on June 12 at 3pm CET"),
    ("event", "Live jazz night at The Blue Door every Thursday from 8pm"),
    ("event", "Our annual charity run returns on September 7 in Central Park"),
    ("event", "Workshop: watercolor basics for beginners, Saturday 2pm, 12 seats left"),
    ("launch", "Launching today: Pocket Planner 2.0 for iOS and Android"),
    ("launch", "The new Trailblazer backpack is here, with a 40L main compartment"),
    ("launch", "Our first cookbook, Salt & Smoke, is out now"),
    ("launch", "Version 3.4 adds dark mode and offline sync"),
    ("quote", '"The best time to plant a tree was 20 years ago." — Chinese proverb'),
    ("quote", "Quote of the day: Simplicity is the ultimate sophistication. Leonardo da Vinci"),
    ("quote", "As Maya Angelou said, people will never forget how you made them feel"),
    ("emoji", "Summer vibes ☀️🌊 our rooftop bar opens Friday"),
    ("emoji", "🎉 We turned 10 today! Thank you to every customer who stuck with us"),
    ("emoji", "New drop 🔥 limited edition sneakers in 3 colours"),
    ("emoji", "Coffee + croissant = perfect Monday ☕🥐"),
    ("url", "Read our full 2024 impact report at https://example.com/impact"),
    ("url", "Tickets for Web Summit Lisbon are live: https://example.com/tickets"),
    ("url", "Episode 42 with Dr. Amina Yusuf is out now, listen at https://example.com/ep42"),
    ("numbers", "Our community planted 12,500 trees in 2023"),
    ("numbers", "Sales grew 38% year over year to $4.2 million"),
    ("numbers", "Only 48 hours left to register for the 5K fun run"),
    ("numbers", "1 million downloads! Thank you all"),
    ("non-English", "Nous ouvrons notre nouvelle boutique à Lyon le 12 mars"),
    ("non-English", "Nuevo menú de verano en Madrid a partir del 1 de julio"),
    ("non-English", "東京に新しいカフェをオープンしました"),
    ("non-English", "Neue Kollektion ab Freitag in Hamburg erhältlich"),
    ("non-English", "Promoção de inverno: 25% de desconto em Lisboa"),
    ("topic", "our spring menu"),
    ("topic", "cozy bakery storefront at sunrise with fresh croissants in the window"),
    ("topic", "behind the scenes of our photo shoot in Marrakech"),
    ("topic", "a day in the life of a beekeeper"),
    ("topic", "The science behind cold brew coffee"),
    ("story", "Our team volunteered at the Oakland food bank last weekend"),
    ("story", "Customer story: how Greenleaf Farms cut delivery times by 30%"),
    ("story", "Thank you for 50,000 followers!"),
    ("story", "Happy Mother's Day from all of us at Rosie's Bakery"),
    ("story", "Spotlight on local artist Diego Ramos and his ceramic work"),
    ("instruction", "Write a post about our new vegan menu at Green Fork"),
)


def request_for(prompt: str) -> CaptionRequest:
    return CaptionRequest(
        platforms=PLATFORMS,
        research_mode="regular",
        prompt=prompt,
        post_types=tuple(POST_TYPES),
    )


async def captions_for(prompt: str) -> CaptionOutputs:
    return await OfflineCaptionProvider().write_captions(request_for(prompt))


def _block(value: str | dict[str, str]) -> str:
    if isinstance(value, dict):
        return f"Title: {value['title']}\n\n{value['description']}"
    return value


async def render() -> str:
    lines = [
        "# Offline captions for the quality corpus",
        "",
        "Generated by `.venv/bin/python -m tests.generation.corpus.prompts`; do not edit.",
        "Every prompt runs with no style, regular research, for every post type.",
        "",
    ]
    for number, (kind, prompt) in enumerate(PROMPTS, start=1):
        outputs = await captions_for(prompt)
        lines += [f"## {number}. {kind}: {prompt}", ""]
        for platform, value in outputs.items():
            lines += [f"### {platform}", "", "```text", _block(value), "```", ""]
    return "\n".join(lines)


def main() -> None:
    OUTPUT_FILE.write_text(asyncio.run(render()), encoding="utf-8")
    print(f"wrote {OUTPUT_FILE}")  # noqa: T201 - a command run by hand


if __name__ == "__main__":
    main()

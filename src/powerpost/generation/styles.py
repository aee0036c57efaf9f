"""Writing styles: a workspace's house voice (tone, emoji use, hashtag count, example
posts), managed in the dashboard and applied by the caption providers.

`check_style` turns raw form input into a `StyleInput` or a `StyleInvalid` that names every
field in error, so the dashboard can show all problems at once. The services never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.generation import repository
from powerpost.generation.providers.base import EmojiUse, WritingStyle
from powerpost.kit.clock import utcnow
from powerpost.kit.errors import Conflict, NotFound, ValidationError
from powerpost.kit.ids import new_id, parse_uuid
from powerpost.kit.lookup import get_or_404
from powerpost.kit.numbers import whole_number
from powerpost.models import WritingStyleRow

NAME_MAX = 80
TONE_MAX = 200
HASHTAGS_MAX = 30
EXAMPLES_MAX = 5
EXAMPLE_MAX_CHARS = 2200
STYLES_PER_WORKSPACE = 50


@dataclass(frozen=True)
class StyleInput:
    name: str
    tone: str
    emoji_use: EmojiUse
    hashtag_count: int
    example_posts: tuple[str, ...] = ()


class StyleInvalid(ValidationError):
    """Every problem with a style form, by field name."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        first = next(iter(self.errors.values()), "The writing style is not valid")
        super().__init__(
            first, details=[{"field": k, "message": v} for k, v in self.errors.items()]
        )


def _emoji(value: str) -> EmojiUse | None:
    if value == "none":
        return "none"
    if value == "light":
        return "light"
    if value == "heavy":
        return "heavy"
    return None


def check_style(
    *, name: str, tone: str, emoji_use: str, hashtag_count: str | int, example_posts: Sequence[str]
) -> StyleInput:
    """Validate raw input (form strings or typed values); raises StyleInvalid."""
    errors: dict[str, str] = {}
    name = " ".join(name.split())
    if not name:
        errors["name"] = "Give the style a name."
    elif len(name) > NAME_MAX:
        errors["name"] = f"The name can be at most {NAME_MAX} characters."
    tone = " ".join(tone.split())
    if not tone:
        errors["tone"] = "Describe the tone, for example “warm, witty and concise”."
    elif len(tone) > TONE_MAX:
        errors["tone"] = f"The tone can be at most {TONE_MAX} characters."
    emoji = _emoji(emoji_use.strip().lower())
    if emoji is None:
        errors["emoji_use"] = "Choose none, light or heavy emoji use."
    count: int | None = None
    if isinstance(hashtag_count, int) and not isinstance(hashtag_count, bool):
        count = hashtag_count
    elif isinstance(hashtag_count, str):
        count = whole_number(hashtag_count)
    if count is None or not 0 <= count <= HASHTAGS_MAX:
        errors["hashtag_count"] = f"The hashtag count is a whole number from 0 to {HASHTAGS_MAX}."
    examples = tuple(text.strip() for text in example_posts if text.strip())
    if len(examples) > EXAMPLES_MAX:
        errors["example_posts"] = f"Give at most {EXAMPLES_MAX} example posts."
    elif any(len(text) > EXAMPLE_MAX_CHARS for text in examples):
        errors["example_posts"] = (
            f"Each example post can be at most {EXAMPLE_MAX_CHARS} characters."
        )
    if errors or emoji is None or count is None:
        raise StyleInvalid(errors)
    return StyleInput(
        name=name, tone=tone, emoji_use=emoji, hashtag_count=count, example_posts=examples
    )


def to_provider(row: WritingStyleRow) -> WritingStyle:
    """The provider-facing form of a stored style."""
    emoji = _emoji(row.emoji_use) or "light"
    return WritingStyle(
        name=row.name,
        tone=row.tone,
        emoji_use=emoji,
        hashtag_count=row.hashtag_count,
        example_posts=tuple(row.example_posts or ()),
    )


def snapshot(style: WritingStyle) -> dict[str, Any]:
    """A style as JSON, for a job payload: the generation uses the style as it was asked."""
    return {
        "name": style.name,
        "tone": style.tone,
        "emoji_use": style.emoji_use,
        "hashtag_count": style.hashtag_count,
        "example_posts": list(style.example_posts),
    }


def from_snapshot(data: Any) -> WritingStyle | None:
    if not isinstance(data, dict):
        return None
    emoji = _emoji(str(data.get("emoji_use", "")))
    count = data.get("hashtag_count")
    examples = data.get("example_posts")
    if emoji is None or not isinstance(count, int) or not isinstance(examples, list):
        return None
    return WritingStyle(
        name=str(data.get("name", "")),
        tone=str(data.get("tone", "")),
        emoji_use=emoji,
        hashtag_count=count,
        example_posts=tuple(str(e) for e in examples),
    )


async def list_styles(session: AsyncSession, workspace_id: str) -> list[WritingStyleRow]:
    return list(await repository.list_styles(session, workspace_id))


async def get_style(session: AsyncSession, workspace_id: str, style_id: str) -> WritingStyleRow:
    """The style of this workspace; NotFound for unknown, malformed or foreign ids."""
    return await get_or_404(
        style_id,
        lambda canonical: repository.get_style(session, workspace_id, canonical),
        f"Writing style '{style_id[:64]}' not found",
    )


async def create_style(
    session: AsyncSession, account_id: str, workspace_id: str, data: StyleInput
) -> WritingStyleRow:
    if await repository.count_styles(session, workspace_id) >= STYLES_PER_WORKSPACE:
        raise Conflict(f"A workspace can have at most {STYLES_PER_WORKSPACE} writing styles.")
    if await repository.style_name_taken(session, workspace_id, data.name):
        raise StyleInvalid({"name": "Another writing style already has this name."})
    now = utcnow()
    row = WritingStyleRow(
        id=new_id(),
        account_id=account_id,
        workspace_id=workspace_id,
        name=data.name,
        tone=data.tone,
        emoji_use=data.emoji_use,
        hashtag_count=data.hashtag_count,
        example_posts=list(data.example_posts),
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def update_style(
    session: AsyncSession, workspace_id: str, style_id: str, data: StyleInput
) -> None:
    existing = await get_style(session, workspace_id, style_id)
    if await repository.style_name_taken(session, workspace_id, data.name, except_id=existing.id):
        raise StyleInvalid({"name": "Another writing style already has this name."})
    await repository.update_style(
        session,
        workspace_id,
        existing.id,
        {
            "name": data.name,
            "tone": data.tone,
            "emoji_use": data.emoji_use,
            "hashtag_count": data.hashtag_count,
            "example_posts": list(data.example_posts),
            "updated_at": utcnow(),
        },
    )


async def delete_style(session: AsyncSession, workspace_id: str, style_id: str) -> None:
    """Generations that used it keep their captions; their writing_style_id becomes null."""
    canonical = parse_uuid(style_id)
    if canonical is None or not await repository.delete_style(session, workspace_id, canonical):
        raise NotFound(f"Writing style '{style_id[:64]}' not found")

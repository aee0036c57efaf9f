"""What the post forms send and show again: the edited draft, the schedule's local time
and zone, and the state a refused action re-renders its page with."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request
from starlette.datastructures import FormData

from powerpost.dashboard.routes.posts.previews import POST_TYPE_LABELS
from powerpost.kit.errors import ValidationError
from powerpost.models import PostItem
from powerpost.posts.schemas import MAX_CONTENT_CHARS, MAX_TITLE_CHARS, ItemIn

# A short list for people without JavaScript or who plan in another zone; the default is
# the browser's own offset at the chosen date, which the page's script sends.
TIME_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Amsterdam",
    "Europe/Stockholm",
    "Europe/Warsaw",
    "Europe/Athens",
    "Europe/Istanbul",
    "Europe/Kyiv",
    "Europe/Moscow",
    "Africa/Lagos",
    "Africa/Cairo",
    "Africa/Johannesburg",
    "Africa/Nairobi",
    "Asia/Dubai",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Dhaka",
    "Asia/Bangkok",
    "Asia/Jakarta",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Manila",
    "Asia/Seoul",
    "Asia/Tokyo",
    "Australia/Perth",
    "Australia/Adelaide",
    "Australia/Brisbane",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires",
    "America/Bogota",
    "America/Mexico_City",
    "America/Halifax",
    "America/Toronto",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
)
BROWSER_ZONE = "browser"
MAX_OFFSET_MINUTES = 14 * 60
_ITEM_ERROR = re.compile(r"^items\[(\d+)\](?:\.[\w\[\]]+)?: (.*)$", re.DOTALL)
_LOCAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?$")


@dataclass
class PageState:
    """What a failed action shows again: which panel is open, its errors and draft."""

    edit: str = ""
    schedule: str = ""
    delete: str = ""
    post_errors: dict[str, tuple[str, str]] = field(default_factory=dict)
    item_errors: dict[str, str] = field(default_factory=dict)
    edit_draft: dict[str, dict[str, str]] = field(default_factory=dict)
    schedule_draft: dict[str, str] = field(default_factory=dict)


def panel_state(request: Request) -> PageState:
    params = request.query_params
    return PageState(
        edit=params.get("edit", ""),
        schedule=params.get("schedule", ""),
        delete=params.get("delete", ""),
    )


def edited_items(
    form: FormData, items: Sequence[PostItem]
) -> tuple[list[ItemIn], dict[str, str], dict[str, dict[str, str]]]:
    """The draft's items with the typed content and titles (post types and media kept),
    the errors the form itself has, and the draft as typed to show again."""
    edited: list[ItemIn] = []
    errors: dict[str, str] = {}
    draft: dict[str, dict[str, str]] = {}
    for item in items:
        label = POST_TYPE_LABELS.get(item.post_type, item.post_type)
        # Not dashboard.deps.field: a caption may be far longer than its 4 KB cap (a
        # Facebook post holds 63,206 characters); the service's limit applies instead.
        raw_content = form.get(f"content-{item.id}")
        raw_title = form.get(f"title-{item.id}")
        content = raw_content if isinstance(raw_content, str) else ""
        title = raw_title if isinstance(raw_title, str) else ""
        content = content.replace("\r\n", "\n").replace("\x00", "")
        title = title.replace("\x00", "")
        draft[item.id] = {"content": content, "title": title}
        if len(content) > MAX_CONTENT_CHARS:
            errors[item.id] = (
                f"{label}: the content is longer than {MAX_CONTENT_CHARS:,} characters."
            )
            continue
        if len(title) > MAX_TITLE_CHARS:
            errors[item.id] = f"{label}: the title is longer than {MAX_TITLE_CHARS} characters."
            continue
        edited.append(
            ItemIn(
                post_type=item.post_type,
                content=content,
                title=title or None,
                media_ids=list(item.media_ids),
            )
        )
    return edited, errors, draft


def item_error(items: Sequence[PostItem], message: str) -> tuple[str, str] | None:
    """(item id, message naming the item) for a service error about one item."""
    found = _ITEM_ERROR.match(message)
    if found is None:
        return None
    index = int(found.group(1))
    if not 0 <= index < len(items):
        return None
    item = items[index]
    label = POST_TYPE_LABELS.get(item.post_type, item.post_type)
    return item.id, f"{label}: {found.group(2)}"


def scheduled_time(local: str, zone: str, offset_minutes: str) -> str:
    """The ISO-8601 time with offset that a datetime-local value means in `zone` (one of
    TIME_ZONES), or with the browser's offset at that date (minutes east of UTC) when the
    zone is the browser's own. Raises ValidationError naming what is missing."""
    text = local.strip()
    if not text:
        raise ValidationError("Choose a date and time.")
    if not _LOCAL_TIME.match(text):
        raise ValidationError("The date and time are not in the form 2026-12-24T09:00.")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError("That date does not exist.") from None
    if zone == BROWSER_ZONE:
        raw = offset_minutes.strip()
        if not re.fullmatch(r"[+-]?\d{1,4}", raw) or abs(int(raw)) > MAX_OFFSET_MINUTES:
            raise ValidationError(
                "Your browser did not send its time zone. Choose a time zone from the list."
            )
        tz: timezone | ZoneInfo = timezone(timedelta(minutes=int(raw)))
    elif zone in TIME_ZONES:
        try:
            tz = ZoneInfo(zone)
        except ZoneInfoNotFoundError:
            raise ValidationError(
                f"This server has no time zone data for {zone}; choose UTC instead."
            ) from None
    else:
        raise ValidationError("Choose a time zone from the list.")
    return moment.replace(tzinfo=tz).isoformat()

"""The Calendar page's arithmetic, apart from any request or query: which days a month or
week view shows, the instants that bound them in a time zone, where each post and entry
lands, and the dates the previous/next links go to.

Weeks start on Monday (ISO 8601). Posts are instants, shown at their local time in the
zone the person chose; calendar entries are wall-clock plans (a date and an optional
"HH:MM"), shown as written whatever the zone.
"""

from __future__ import annotations

import calendar as stdlib_calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal

VIEWS = ("month", "week")
# Past these the month arithmetic would leave what `date` can hold.
FIRST_YEAR = 1900
LAST_YEAR = 9000
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class CalendarItem:
    kind: Literal["post", "entry"]
    id: str
    # Local "HH:MM", or None for a whole-day entry (it heads its day).
    at: str | None
    title: str
    platforms: list[str]
    href: str | None = None
    status: str | None = None
    status_label: str | None = None
    notes: str | None = None

    @property
    def sort_key(self) -> tuple[int, str, int, str]:
        # Whole-day entries first; at the same minute, plans before what happened.
        return (
            0 if self.at is None else 1,
            self.at or "",
            0 if self.kind == "entry" else 1,
            self.id,
        )


@dataclass
class Day:
    date: date
    label: str
    in_period: bool
    is_today: bool
    items: list[CalendarItem] = field(default_factory=list)


@dataclass(frozen=True)
class Period:
    view: str
    anchor: date
    first: date
    last: date
    title: str
    previous: date
    next: date

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def bounds(self, zone: tzinfo) -> tuple[datetime, datetime]:
        """The UTC instants [start, end) of the shown days in `zone` (a day across a
        daylight-saving change is 23 or 25 hours long, and both ends follow it)."""
        start = datetime.combine(self.first, time(0), tzinfo=zone)
        end = datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=zone)
        return start.astimezone(UTC), end.astimezone(UTC)


def parse_day(raw: str | None, today: date) -> date:
    """The `?date=` value, or today when it is missing or not a real YYYY-MM-DD date."""
    if raw and _DATE.match(raw):
        try:
            chosen = date.fromisoformat(raw)
        except ValueError:
            return today
        if FIRST_YEAR <= chosen.year <= LAST_YEAR:
            return chosen
    return today


def full_date(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period(view: str, anchor: date) -> Period:
    if view == "week":
        monday = anchor - timedelta(days=anchor.weekday())
        sunday = monday + timedelta(days=6)
        if monday.year == sunday.year:
            start = f"{monday.day} {monday:%B}" if monday.month != sunday.month else f"{monday.day}"
        else:
            start = f"{monday.day} {monday:%B %Y}"
        title = f"{start} – {sunday.day} {sunday:%B %Y}"
        return Period(
            view="week",
            anchor=anchor,
            first=monday,
            last=sunday,
            title=f"Week of {title}",
            previous=monday - timedelta(days=7),
            next=monday + timedelta(days=7),
        )
    first_of_month = anchor.replace(day=1)
    length = stdlib_calendar.monthrange(anchor.year, anchor.month)[1]
    last_of_month = anchor.replace(day=length)
    # Whole weeks, so the grid has no ragged rows: Monday before the 1st to Sunday after
    # the last day.
    return Period(
        view="month",
        anchor=anchor,
        first=first_of_month - timedelta(days=first_of_month.weekday()),
        last=last_of_month + timedelta(days=6 - last_of_month.weekday()),
        title=f"{anchor:%B %Y}",
        previous=_add_months(anchor, -1),
        next=_add_months(anchor, 1),
    )


def in_period(shown: Period, day: date) -> bool:
    if shown.view == "month":
        return (day.year, day.month) == (shown.anchor.year, shown.anchor.month)
    return True


def local_day_and_time(moment: datetime, zone: tzinfo) -> tuple[date, str]:
    local = moment.astimezone(zone)
    return local.date(), f"{local:%H:%M}"


def lay_out(
    shown: Period, today: date, placed: Sequence[tuple[date, CalendarItem]]
) -> list[list[Day]]:
    """The shown days in weeks (rows of seven), each with its items in order."""
    days = {
        d: Day(date=d, label=full_date(d), in_period=in_period(shown, d), is_today=d == today)
        for d in shown.days
    }
    for day, item in placed:
        if day in days:
            days[day].items.append(item)
    for each in days.values():
        each.items.sort(key=lambda i: i.sort_key)
    ordered = list(days.values())
    return [ordered[i : i + 7] for i in range(0, len(ordered), 7)]

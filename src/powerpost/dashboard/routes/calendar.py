"""Calendar: a workspace's month or week at a glance — posts scheduled to go out, posts that
went out, and the calendar entries (§9) that plan the rest.

Server-rendered, like every page here: the previous/next/today links, the view and the
time zone are all plain links and a GET form, so the page works without script. Every
query is bounded to the days on screen and filtered by workspace and mode.
"""

from __future__ import annotations

from datetime import UTC, date, tzinfo
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Request, Response

from powerpost.calendar import service as calendar
from powerpost.dashboard import nav
from powerpost.dashboard.calendar_grid import (
    VIEWS,
    CalendarItem,
    full_date,
    lay_out,
    local_day_and_time,
    parse_day,
    period,
)
from powerpost.dashboard.deps import CurrentViewer, PageRead
from powerpost.dashboard.rendering import render
from powerpost.dashboard.routes.posts.forms import TIME_ZONES
from powerpost.dashboard.routes.posts.locate import detail_url, mode_of, workspace_of
from powerpost.dashboard.routes.posts.previews import (
    PLATFORM_LABELS,
    POST_TYPE_LABELS,
    STATUS_LABELS,
)
from powerpost.models import CalendarEntry, Post, PostItem
from powerpost.posts import service as posts

router = APIRouter(include_in_schema=False)
PAGE = "/calendar"
DEFAULT_ZONE = "UTC"
# A month of a very busy workspace still renders quickly; past this the page says so.
MAX_POSTS = 1000
# A month cell lists this many, then links to the day's week where every item shows.
MONTH_DAY_ITEMS = 4

nav.register(nav.NavItem("Calendar", PAGE, 6, section="Content"))


def zone_of(raw: str | None) -> tuple[str, tzinfo]:
    """The chosen zone (one of the schedule form's), UTC when none or another is asked."""
    name = raw if raw in TIME_ZONES else DEFAULT_ZONE
    try:
        return name, ZoneInfo(name)
    except ZoneInfoNotFoundError:
        # A server without time zone data still shows the calendar, in UTC.
        return DEFAULT_ZONE, UTC


def calendar_url(workspace_id: str, mode: str, view: str, zone: str, day: str = "") -> str:
    query = {"workspace": workspace_id, "mode": mode, "view": view}
    if day:
        query["date"] = day
    if zone != DEFAULT_ZONE:
        query["tz"] = zone
    return f"{PAGE}?{urlencode(query)}"


def _platforms(names: list[str]) -> list[str]:
    return [PLATFORM_LABELS.get(n, n) for n in dict.fromkeys(names)]


def _placed_post(
    post: Post, items: list[PostItem], workspace_id: str, zone: tzinfo
) -> tuple[date, CalendarItem] | None:
    moment = post.published_at or post.scheduled_at
    if moment is None:
        return None
    day, at = local_day_and_time(moment, zone)
    return day, CalendarItem(
        kind="post",
        id=post.id,
        at=at,
        title=" · ".join(POST_TYPE_LABELS.get(i.post_type, i.post_type) for i in items) or "Post",
        platforms=_platforms([i.platform for i in items]),
        href=detail_url(workspace_id, post.id),
        status=post.status,
        status_label=STATUS_LABELS.get(post.status, post.status),
    )


def _placed_entry(entry: CalendarEntry) -> tuple[date, CalendarItem]:
    return entry.scheduled_date, CalendarItem(
        kind="entry",
        id=entry.id,
        at=entry.scheduled_time,
        title=entry.title,
        platforms=_platforms(list(entry.platforms)),
        notes=entry.description,
    )


@router.get(PAGE)
async def calendar_page(request: Request, viewer: CurrentViewer, session: PageRead) -> Response:
    params = request.query_params
    listing, workspace = await workspace_of(session, viewer, params.get("workspace"))
    mode = mode_of(params.get("mode"))
    raw_view = params.get("view")
    view = raw_view if raw_view in VIEWS else "month"
    zone_name, zone = zone_of(params.get("tz"))
    today = viewer.now.astimezone(zone).date()
    shown = period(view, parse_day(params.get("date"), today))
    start, end = shown.bounds(zone)

    found, items = await posts.calendar_posts(
        session, workspace.id, mode, start, end, limit=MAX_POSTS
    )
    entries = await calendar.list_entries(
        session,
        calendar.Scope(viewer.account_id, workspace.id, mode),
        shown.first.isoformat(),
        shown.last.isoformat(),
    )
    placed = [_placed_entry(e) for e in entries]
    for post in found:
        where = _placed_post(post, items[post.id], workspace.id, zone)
        if where is not None:
            placed.append(where)

    def url(*, view: str = view, day: str = "", mode: str = mode) -> str:
        return calendar_url(workspace.id, mode, view, zone_name, day)

    anchor = shown.anchor.isoformat()
    return render(
        request,
        "calendar/calendar.html",
        viewer=viewer,
        title=f"Calendar · {workspace.name}",
        workspaces=listing,
        workspace=workspace,
        mode=mode,
        view=view,
        zone=zone_name,
        time_zones=TIME_ZONES,
        period=shown,
        today=today,
        today_label=full_date(today),
        weeks=lay_out(shown, today, placed),
        nothing=not placed,
        truncated=len(found) >= MAX_POSTS,
        max_posts=MAX_POSTS,
        day_items=MONTH_DAY_ITEMS if view == "month" else None,
        previous_url=url(day=shown.previous.isoformat()),
        next_url=url(day=shown.next.isoformat()),
        today_url=url(),
        month_url=url(view="month", day=anchor),
        week_url=url(view="week", day=anchor),
        live_url=url(mode="live", day=anchor),
        test_url=url(mode="test", day=anchor),
        week_of=lambda day: url(view="week", day=day.isoformat()),
    )

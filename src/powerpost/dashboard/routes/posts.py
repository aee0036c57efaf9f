"""Posts: the human-approval side of Draft Only keys. A person reviews the drafts that keys
(often AI agents) made, edits them, and publishes, schedules or deletes them; the post page
shows each item's outcome and every platform call, and refreshes itself while publishing.

A person signed in may publish any post of their workspaces, whichever key made it: that is
what a Draft Only key is for. Every action goes through the same services as the API, so the
same rules and errors apply; the route only turns them into a page.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from powerpost.api_keys import service as api_keys
from powerpost.config import Settings
from powerpost.dashboard import nav
from powerpost.dashboard.deps import CheckedViewer, CurrentViewer, Form, PageRead, PageWrite
from powerpost.dashboard.deps import field as form_field
from powerpost.dashboard.errors import PageNotFound
from powerpost.dashboard.rendering import render
from powerpost.dashboard.routes.common import chosen_workspace, redirect
from powerpost.dashboard.sessions import Viewer
from powerpost.kit.errors import AppError, NotFound, ValidationError
from powerpost.kit.platforms import HASHTAG_RE, RULES
from powerpost.media.signing import signed_path
from powerpost.models import Media, Post, PostItem, PublishAttempt, Workspace
from powerpost.posts import service as posts
from powerpost.posts.schemas import MAX_CONTENT_CHARS, MAX_TITLE_CHARS, ItemIn
from powerpost.publishing import service as publishing
from powerpost.workspaces import service as workspaces

router = APIRouter(include_in_schema=False)
PAGE = "/posts"
QUEUE_LIMIT = 50
THUMB_BOX = 72
MODES = ("live", "test")

nav.register(nav.NavItem("Posts", PAGE, 5, section="Content"))

PLATFORM_LABELS = {
    "instagram": "Instagram",
    "tiktok": "TikTok",
    "youtube": "YouTube",
    "x": "X",
    "facebook": "Facebook",
    "linkedin": "LinkedIn",
}
POST_TYPE_LABELS = {
    "instagram-feed": "Instagram feed",
    "instagram-reel": "Instagram Reel",
    "instagram-story": "Instagram Story",
    "tiktok-video": "TikTok video",
    "tiktok-photos": "TikTok photos",
    "youtube-video": "YouTube video",
    "youtube-short": "YouTube Short",
    "x-post": "X post",
    "facebook-post": "Facebook post",
    "facebook-reel": "Facebook Reel",
    "facebook-story": "Facebook Story",
    "linkedin-post": "LinkedIn post",
}
STATUS_LABELS = {
    "draft": "Draft",
    "scheduled": "Scheduled",
    "publishing": "Publishing",
    "published": "Published",
    "partial": "Partly published",
    "failed": "Failed",
    "posting": "Posting",
    "posted": "Posted",
}
OUTCOME_LABELS = {
    "pending": "No answer yet",
    "posted": "Posted",
    "failed": "Failed",
    "retrying": "Failed, retrying",
    "reconciled": "Found already posted",
    "unknown": "Unknown (looked up before retrying)",
}
DONE = {
    "saved": "Draft saved.",
    "scheduled": "Post scheduled. It publishes at the time shown, unless you cancel it.",
    "cancelled": "Schedule cancelled. The post is a draft again.",
    "deleted": "Draft deleted.",
}
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


@dataclass(frozen=True)
class Thumb:
    url: str | None
    width: int
    height: int
    kind: str
    name: str


@dataclass(frozen=True)
class ItemView:
    id: str
    position: int
    post_type: str
    label: str
    platform: str
    platform_label: str
    content: str
    # The content cut at hashtags: (text, is_hashtag), so the template highlights them
    # while autoescaping every piece.
    parts: list[tuple[str, bool]]
    title: str | None
    takes_title: bool
    title_max: int | None
    caption_max: int
    thumbs: list[Thumb]
    missing_media: int
    status: str
    status_label: str
    platform_url: str | None
    platform_post_id: str | None
    error_code: str | None
    error_message: str | None
    posted_at: datetime | None


@dataclass(frozen=True)
class AttemptView:
    started_at: datetime
    finished_at: datetime | None
    item_label: str
    adapter: str
    outcome: str
    outcome_label: str
    error_code: str | None
    raw_error: str | None


@dataclass(frozen=True)
class PostView:
    id: str
    status: str
    status_label: str
    mode: str
    made_by: str
    summary: str
    created_at: datetime
    updated_at: datetime
    scheduled_at: datetime | None
    published_at: datetime | None
    credits_used: int
    items: list[ItemView]
    attempts: list[AttemptView] = field(default_factory=list)


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


def hashtag_parts(text: str) -> list[tuple[str, bool]]:
    parts: list[tuple[str, bool]] = []
    last = 0
    for match in HASHTAG_RE.finditer(text):
        if match.start() > last:
            parts.append((text[last : match.start()], False))
        parts.append((match.group(0), True))
        last = match.end()
    if last < len(text):
        parts.append((text[last:], False))
    return parts


def _fit(width: int, height: int, box: int) -> tuple[int, int]:
    scale = min(1.0, box / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _thumb(item: Media, settings: Settings) -> Thumb:
    width, height = _fit(
        item.thumbnail_width or item.width, item.thumbnail_height or item.height, THUMB_BOX
    )
    return Thumb(
        # Same-origin signed paths, as on the Media page.
        url=signed_path(settings, item.id, "thumbnail") if item.thumbnail_key else None,
        width=width,
        height=height,
        kind=item.kind,
        name=item.file_name,
    )


def _item_view(item: PostItem, media: dict[str, Media], settings: Settings) -> ItemView:
    rules = RULES.get(item.post_type)
    found = [media[m] for m in item.media_ids if m in media]
    content = item.content or ""
    return ItemView(
        id=item.id,
        position=item.position,
        post_type=item.post_type,
        label=POST_TYPE_LABELS.get(item.post_type, item.post_type),
        platform=item.platform,
        platform_label=PLATFORM_LABELS.get(item.platform, item.platform),
        content=content,
        parts=hashtag_parts(content),
        title=item.title,
        takes_title=rules is not None and (rules.needs_title or rules.title_max is not None),
        title_max=rules.title_max if rules is not None else None,
        caption_max=rules.caption_max if rules is not None else MAX_CONTENT_CHARS,
        thumbs=[_thumb(m, settings) for m in found],
        missing_media=len(item.media_ids) - len(found),
        status=item.status,
        status_label=STATUS_LABELS.get(item.status, item.status),
        platform_url=item.platform_url,
        platform_post_id=item.platform_post_id,
        error_code=item.error_code if item.status == "failed" else None,
        error_message=item.error_message if item.status == "failed" else None,
        posted_at=item.posted_at,
    )


def _made_by(post: Post, key_names: dict[str, str]) -> str:
    if post.created_by_key_id is None:
        return "you (dashboard)"
    name = key_names.get(post.created_by_key_id)
    return f"API key “{name}”" if name else "an API key that no longer exists"


def _post_view(
    post: Post,
    items: Sequence[PostItem],
    media: dict[str, Media],
    key_names: dict[str, str],
    settings: Settings,
    attempts: Sequence[PublishAttempt] = (),
) -> PostView:
    views = [_item_view(i, media, settings) for i in items]
    labels = {i.id: i.label for i in views}
    return PostView(
        id=post.id,
        status=post.status,
        status_label=STATUS_LABELS.get(post.status, post.status),
        mode=post.mode,
        made_by=_made_by(post, key_names),
        summary=" · ".join(v.label for v in views) or "Post",
        created_at=post.created_at,
        updated_at=post.updated_at,
        scheduled_at=post.scheduled_at,
        published_at=post.published_at,
        credits_used=post.credits_used,
        items=views,
        attempts=[
            AttemptView(
                started_at=a.started_at,
                finished_at=a.finished_at,
                item_label=labels.get(a.item_id, "Removed item"),
                adapter=a.adapter,
                outcome=a.outcome,
                outcome_label=OUTCOME_LABELS.get(a.outcome, a.outcome),
                error_code=a.error_code,
                raw_error=a.raw_error,
            )
            for a in attempts
        ],
    )


async def _key_names(session: AsyncSession, account_id: str) -> dict[str, str]:
    return {key.id: key.name for key in await api_keys.list_keys(session, account_id)}


def _mode(raw: str | None) -> str:
    return raw if raw in MODES else "live"


async def _workspace(
    session: AsyncSession, viewer: Viewer, raw: str | None
) -> tuple[Sequence[Workspace], Workspace]:
    listing = await workspaces.list_workspaces(session, viewer.account_id)
    return listing, chosen_workspace(listing, raw)


async def _find_post(
    session: AsyncSession, workspace_id: str, post_id: str
) -> tuple[Post, list[PostItem]]:
    """The post in either mode: a person owns both, and a link to a post must work
    whichever tab it came from. Another account's or workspace's post is a 404."""
    for mode in MODES:
        try:
            return await posts.get_post(session, workspace_id, mode, post_id)
        except NotFound:
            continue
    raise PageNotFound()


def _queue_url(workspace_id: str, mode: str, done: str = "") -> str:
    url = f"{PAGE}?workspace={workspace_id}&mode={mode}"
    return f"{url}&done={done}" if done else url


def _detail_url(workspace_id: str, post_id: str) -> str:
    return f"{PAGE}/{post_id}?workspace={workspace_id}"


async def _queue_page(
    request: Request,
    session: AsyncSession,
    viewer: Viewer,
    workspace_raw: str | None,
    mode: str,
    state: PageState,
    *,
    status: int = 200,
) -> Response:
    settings: Settings = request.app.state.settings
    listing, workspace = await _workspace(session, viewer, workspace_raw)
    queue = await posts.review_queue(session, workspace.id, mode, limit=QUEUE_LIMIT)
    every = [i for items in queue.items.values() for i in items]
    media = await posts.preview_media(session, workspace.id, every)
    names = await _key_names(session, viewer.account_id)

    def views(section: posts.QueueSection) -> list[PostView]:
        return [_post_view(p, queue.items[p.id], media, names, settings) for p in section.posts]

    return render(
        request,
        "posts/queue.html",
        viewer=viewer,
        status=status,
        title=f"Posts · {workspace.name}",
        workspaces=listing,
        workspace=workspace,
        mode=mode,
        drafts=views(queue.drafts),
        drafts_total=queue.drafts.total,
        scheduled=views(queue.scheduled),
        scheduled_total=queue.scheduled.total,
        recent=views(queue.recent),
        recent_total=queue.recent.total,
        state=state,
        here=_queue_url(workspace.id, mode),
        from_page="queue",
        done=DONE.get(request.query_params.get("done", ""), ""),
        time_zones=TIME_ZONES,
    )


async def _detail_page(
    request: Request,
    session: AsyncSession,
    viewer: Viewer,
    workspace_raw: str | None,
    post_id: str,
    state: PageState,
    *,
    status: int = 200,
) -> Response:
    settings: Settings = request.app.state.settings
    listing, workspace = await _workspace(session, viewer, workspace_raw)
    post, items = await _find_post(session, workspace.id, post_id)
    media = await posts.preview_media(session, workspace.id, items)
    attempts = await publishing.attempt_history(session, post)
    names = await _key_names(session, viewer.account_id)
    view = _post_view(post, items, media, names, settings, attempts)
    return render(
        request,
        "posts/detail.html",
        viewer=viewer,
        status=status,
        title=f"Post · {workspace.name}",
        workspaces=listing,
        workspace=workspace,
        mode=post.mode,
        post=view,
        state=state,
        here=_detail_url(workspace.id, post.id),
        from_page="detail",
        done=DONE.get(request.query_params.get("done", ""), ""),
        time_zones=TIME_ZONES,
    )


def _panel_state(request: Request) -> PageState:
    params = request.query_params
    return PageState(
        edit=params.get("edit", ""),
        schedule=params.get("schedule", ""),
        delete=params.get("delete", ""),
    )


@router.get(PAGE)
async def posts_page(request: Request, viewer: CurrentViewer, session: PageRead) -> Response:
    params = request.query_params
    return await _queue_page(
        request,
        session,
        viewer,
        params.get("workspace"),
        _mode(params.get("mode")),
        _panel_state(request),
    )


@router.get(PAGE + "/{post_id}")
async def post_page(
    request: Request, post_id: str, viewer: CurrentViewer, session: PageRead
) -> Response:
    return await _detail_page(
        request,
        session,
        viewer,
        request.query_params.get("workspace"),
        post_id,
        _panel_state(request),
    )


# --- actions -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    workspace: Workspace
    post: Post
    items: list[PostItem]
    author: posts.Author
    from_page: str


async def _target(session: AsyncSession, viewer: Viewer, form: FormData, post_id: str) -> _Target:
    _, workspace = await _workspace(session, viewer, form_field(form, "workspace") or None)
    post, items = await _find_post(session, workspace.id, post_id)
    # A person acts as themself (no key): publishing a Draft Only key's draft is allowed.
    author = posts.Author(viewer.account_id, workspace.id, post.mode, api_key_id=None)
    from_page = "detail" if form_field(form, "from") == "detail" else "queue"
    return _Target(workspace, post, items, author, from_page)


async def _refused(
    request: Request,
    session: AsyncSession,
    viewer: Viewer,
    target: _Target,
    state: PageState,
    status: int,
) -> Response:
    """The page the action came from again, with the refusal shown at the post."""
    if target.from_page == "detail":
        return await _detail_page(
            request, session, viewer, target.workspace.id, target.post.id, state, status=status
        )
    return await _queue_page(
        request, session, viewer, target.workspace.id, target.post.mode, state, status=status
    )


def _error_of(refused: AppError) -> tuple[str, str]:
    return refused.code, refused.message


def _after(target: _Target, done: str) -> Response:
    if target.from_page == "detail":
        return redirect(_detail_url(target.workspace.id, target.post.id) + f"&done={done}")
    return redirect(_queue_url(target.workspace.id, target.post.mode, done))


def _edited_items(
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


def _item_error(items: Sequence[PostItem], message: str) -> tuple[str, str] | None:
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


@router.post(PAGE + "/{post_id}/edit")
async def edit_post(
    request: Request, post_id: str, viewer: CheckedViewer, session: PageWrite, form: Form
) -> Response:
    target = await _target(session, viewer, form, post_id)
    edited, errors, draft = _edited_items(form, target.items)
    state = PageState(edit=target.post.id, edit_draft=draft)
    if errors:
        state.item_errors = errors
        return await _refused(request, session, viewer, target, state, 400)
    try:
        async with session.begin_nested():
            await posts.update_post(session, target.author, target.post.id, edited)
    except AppError as refused:
        named = _item_error(target.items, refused.message)
        if named is not None:
            state.item_errors = {named[0]: named[1]}
        else:
            state.post_errors = {target.post.id: _error_of(refused)}
        return await _refused(request, session, viewer, target, state, refused.status_code)
    return _after(target, "saved")


async def _post_action(
    request: Request,
    session: AsyncSession,
    viewer: Viewer,
    target: _Target,
    action: Callable[[], Awaitable[object]],
) -> Response | None:
    """Run a service action on the post in a savepoint, so a refusal writes nothing; the
    page showing the refusal on the post, or None when the action went through."""
    try:
        async with session.begin_nested():
            await action()
    except AppError as refused:
        state = PageState(post_errors={target.post.id: _error_of(refused)})
        return await _refused(request, session, viewer, target, state, refused.status_code)
    return None


@router.post(PAGE + "/{post_id}/publish")
async def publish_post(
    request: Request, post_id: str, viewer: CheckedViewer, session: PageWrite, form: Form
) -> Response:
    target = await _target(session, viewer, form, post_id)
    settings: Settings = request.app.state.settings
    refused = await _post_action(
        request,
        session,
        viewer,
        target,
        lambda: publishing.publish(session, settings, target.author, target.post.id),
    )
    if refused is not None:
        return refused
    return redirect(_detail_url(target.workspace.id, target.post.id))


@router.post(PAGE + "/{post_id}/retry")
async def retry_post(
    request: Request, post_id: str, viewer: CheckedViewer, session: PageWrite, form: Form
) -> Response:
    target = await _target(session, viewer, form, post_id)
    settings: Settings = request.app.state.settings
    refused = await _post_action(
        request,
        session,
        viewer,
        target,
        lambda: publishing.retry(session, settings, target.author, target.post.id),
    )
    if refused is not None:
        return refused
    return redirect(_detail_url(target.workspace.id, target.post.id))


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


@router.post(PAGE + "/{post_id}/schedule")
async def schedule_post(
    request: Request, post_id: str, viewer: CheckedViewer, session: PageWrite, form: Form
) -> Response:
    target = await _target(session, viewer, form, post_id)
    settings: Settings = request.app.state.settings
    local = form_field(form, "scheduled_local")
    zone = form_field(form, "timezone") or BROWSER_ZONE
    state = PageState(schedule=target.post.id, schedule_draft={"local": local, "zone": zone})
    try:
        when = scheduled_time(local, zone, form_field(form, "utc_offset"))
        async with session.begin_nested():
            await publishing.schedule(session, settings, target.author, target.post.id, when)
    except AppError as refused:
        code, message = _error_of(refused)
        # The service names the API's field; here the field is the one on screen.
        message = message.removeprefix("scheduled_at: ")
        named = _item_error(target.items, message)
        state.post_errors = {target.post.id: (code, named[1] if named else message)}
        return await _refused(request, session, viewer, target, state, refused.status_code)
    return _after(target, "scheduled")


@router.post(PAGE + "/{post_id}/cancel")
async def cancel_post(
    request: Request, post_id: str, viewer: CheckedViewer, session: PageWrite, form: Form
) -> Response:
    target = await _target(session, viewer, form, post_id)
    refused = await _post_action(
        request,
        session,
        viewer,
        target,
        lambda: publishing.cancel(session, target.author, target.post.id),
    )
    if refused is not None:
        return refused
    return _after(target, "cancelled")


@router.post(PAGE + "/{post_id}/delete")
async def delete_post(
    request: Request, post_id: str, viewer: CheckedViewer, session: PageWrite, form: Form
) -> Response:
    target = await _target(session, viewer, form, post_id)
    refused = await _post_action(
        request,
        session,
        viewer,
        target,
        lambda: posts.delete_post(session, target.author, target.post.id),
    )
    if refused is not None:
        return refused
    # The post is gone: back to the queue whichever page asked.
    return redirect(_queue_url(target.workspace.id, target.post.mode, "deleted"))

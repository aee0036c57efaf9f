"""Media: the files of one workspace with thumbnails, a preview, delete, and the quota."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.config import Settings
from powerpost.dashboard import nav
from powerpost.dashboard.deps import CheckedViewer, CurrentViewer, Form, PageRead, PageWrite
from powerpost.dashboard.deps import field as form_field
from powerpost.dashboard.errors import PageNotFound
from powerpost.dashboard.rendering import CONTENT_SECURITY_POLICY, render
from powerpost.dashboard.routes.common import chosen_workspace, page_number, redirect
from powerpost.dashboard.sessions import Viewer
from powerpost.kit.errors import NotFound
from powerpost.media import service as media
from powerpost.media.signing import signed_path
from powerpost.media.storage import Storage
from powerpost.models import Media
from powerpost.workspaces import service as workspaces

router = APIRouter(include_in_schema=False)
PAGE = "/media"
PAGE_SIZE = 24
MAX_PAGE = 10_000
THUMB_BOX = 96
PREVIEW_BOX = 560
# The preview plays videos from our own signed links; the shared policy has no media-src.
MEDIA_PAGE_CSP = CONTENT_SECURITY_POLICY + "; media-src 'self'"

nav.register(nav.NavItem("Media", PAGE, 10, section="Content"))


@dataclass(frozen=True)
class MediaView:
    """One row of the library, with everything the template shows precomputed."""

    id: str
    kind: str
    file_name: str
    mime_type: str
    size: str
    dimensions: str
    duration: str
    origin: str
    colors: Sequence[str]
    created_at: datetime
    url: str
    thumbnail_url: str | None
    thumb_width: int
    thumb_height: int
    preview_width: int
    preview_height: int


def format_bytes(count: int) -> str:
    value = float(count)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            if unit == "bytes":
                return f"{count:,} byte{'' if count == 1 else 's'}"
            return f"{value:,.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} TB"  # pragma: no cover - loop always returns


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    whole = round(seconds)
    minutes, secs = divmod(whole, 60)
    return f"{minutes}:{secs:02d}"


def _fit(width: int, height: int, box: int) -> tuple[int, int]:
    scale = min(1.0, box / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _view(item: Media, settings: Settings) -> MediaView:
    thumb_w = item.thumbnail_width or item.width
    thumb_h = item.thumbnail_height or item.height
    tw, th = _fit(thumb_w, thumb_h, THUMB_BOX)
    pw, ph = _fit(item.width, item.height, PREVIEW_BOX)
    return MediaView(
        id=item.id,
        kind=item.kind,
        file_name=item.file_name,
        mime_type=item.mime_type,
        size=format_bytes(item.file_size),
        dimensions=f"{item.width} × {item.height}",
        duration=format_duration(item.duration_seconds),
        origin="Generated" if item.origin == "generated" else "Uploaded",
        colors=list(item.dominant_colors or []),
        created_at=item.created_at,
        # Same-origin paths: the page's CSP allows only 'self', whatever the public URL is.
        url=signed_path(settings, item.id, "original"),
        thumbnail_url=signed_path(settings, item.id, "thumbnail") if item.thumbnail_key else None,
        thumb_width=tw,
        thumb_height=th,
        preview_width=pw,
        preview_height=ph,
    )


async def _page(
    request: Request,
    session: AsyncSession,
    viewer: Viewer,
    workspace_raw: str | None,
    *,
    status: int = 200,
    preview: str = "",
    deleting: str = "",
    row_error: str = "",
) -> Response:
    settings: Settings = request.app.state.settings
    listing = await workspaces.list_workspaces(session, viewer.account_id)
    workspace = chosen_workspace(listing, workspace_raw)
    page = page_number(request.query_params.get("page"), MAX_PAGE)
    items, total = await media.list_media(
        # A person owns both modes: the page shows live and test media alike.
        session,
        workspace.id,
        None,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    used, quota = await media.quota_usage(session, viewer.account_id)
    response = render(
        request,
        "media/library.html",
        viewer=viewer,
        status=status,
        title=f"Media · {workspace.name}",
        workspaces=listing,
        workspace=workspace,
        items=[_view(item, settings) for item in items],
        total=total,
        page=page,
        has_previous=page > 1,
        has_next=page * PAGE_SIZE < total,
        used=format_bytes(used),
        quota=format_bytes(quota),
        used_bytes=used,
        quota_bytes=quota,
        percent=min(100, round(100 * used / quota)) if quota else 100,
        preview=preview,
        deleting=deleting,
        row_error=row_error,
        deleted=request.query_params.get("deleted") == "1",
    )
    response.headers["Content-Security-Policy"] = MEDIA_PAGE_CSP
    return response


@router.get(PAGE)
async def media_page(request: Request, viewer: CurrentViewer, session: PageRead) -> Response:
    params = request.query_params
    return await _page(
        request,
        session,
        viewer,
        params.get("workspace"),
        preview=params.get("preview", ""),
        deleting=params.get("delete", ""),
    )


@router.post(PAGE + "/{media_id}/delete")
async def delete_media(
    request: Request, media_id: str, viewer: CheckedViewer, session: PageWrite, form: Form
) -> Response:
    listing = await workspaces.list_workspaces(session, viewer.account_id)
    workspace = chosen_workspace(listing, form_field(form, "workspace") or None)
    storage: Storage = request.app.state.storage
    try:
        await media.delete_media(session, storage, viewer.account_id, workspace.id, None, media_id)
    except NotFound:
        raise PageNotFound() from None
    return redirect(f"{PAGE}?workspace={workspace.id}&deleted=1")

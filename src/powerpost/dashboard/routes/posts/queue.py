"""The review queue: drafts waiting for a person, scheduled posts, recent outcomes."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.config import Settings
from powerpost.dashboard.deps import CurrentViewer, PageRead
from powerpost.dashboard.rendering import render
from powerpost.dashboard.routes.posts.forms import TIME_ZONES, PageState, panel_state
from powerpost.dashboard.routes.posts.locate import (
    DONE,
    PAGE,
    key_names,
    mode_of,
    queue_url,
    workspace_of,
)
from powerpost.dashboard.routes.posts.previews import PostView, post_view
from powerpost.dashboard.sessions import Viewer
from powerpost.posts import service as posts

router = APIRouter(include_in_schema=False)
QUEUE_LIMIT = 50


async def queue_page(
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
    listing, workspace = await workspace_of(session, viewer, workspace_raw)
    queue = await posts.review_queue(session, workspace.id, mode, limit=QUEUE_LIMIT)
    every = [i for items in queue.items.values() for i in items]
    media = await posts.preview_media(session, workspace.id, every)
    names = await key_names(session, viewer.account_id)

    def views(section: posts.QueueSection) -> list[PostView]:
        return [post_view(p, queue.items[p.id], media, names, settings) for p in section.posts]

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
        here=queue_url(workspace.id, mode),
        from_page="queue",
        done=DONE.get(request.query_params.get("done", ""), ""),
        time_zones=TIME_ZONES,
    )


@router.get(PAGE)
async def posts_page(request: Request, viewer: CurrentViewer, session: PageRead) -> Response:
    params = request.query_params
    return await queue_page(
        request,
        session,
        viewer,
        params.get("workspace"),
        mode_of(params.get("mode")),
        panel_state(request),
    )

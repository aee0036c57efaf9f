"""A post's page: each item's status, link to the live post, error, and the attempt history."""

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
    detail_url,
    find_post,
    key_names,
    workspace_of,
)
from powerpost.dashboard.routes.posts.previews import post_view
from powerpost.dashboard.sessions import Viewer
from powerpost.posts import service as posts
from powerpost.publishing import service as publishing

router = APIRouter(include_in_schema=False)


async def detail_page(
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
    listing, workspace = await workspace_of(session, viewer, workspace_raw)
    post, items = await find_post(session, workspace.id, post_id)
    media = await posts.preview_media(session, workspace.id, items)
    attempts = await publishing.attempt_history(session, post)
    names = await key_names(session, viewer.account_id)
    view = post_view(post, items, media, names, settings, attempts)
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
        here=detail_url(workspace.id, post.id),
        from_page="detail",
        done=DONE.get(request.query_params.get("done", ""), ""),
        time_zones=TIME_ZONES,
    )


@router.get(PAGE + "/{post_id}")
async def post_page(
    request: Request, post_id: str, viewer: CurrentViewer, session: PageRead
) -> Response:
    return await detail_page(
        request,
        session,
        viewer,
        request.query_params.get("workspace"),
        post_id,
        panel_state(request),
    )

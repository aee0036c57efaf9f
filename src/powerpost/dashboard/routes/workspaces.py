"""Settings → Workspaces: list with copyable ids, create, rename, delete."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.dashboard import service
from powerpost.dashboard.deps import CheckedViewer, CurrentViewer, Form, PageRead, PageWrite
from powerpost.dashboard.deps import field as form_field
from powerpost.dashboard.errors import PageNotFound
from powerpost.dashboard.rendering import render
from powerpost.dashboard.routes.common import recent_login_gate, redirect
from powerpost.dashboard.sessions import Viewer
from powerpost.workspaces import service as workspaces

router = APIRouter(include_in_schema=False)
PAGE = "/settings/workspaces"


async def _page(
    request: Request,
    session: AsyncSession,
    viewer: Viewer,
    *,
    status: int = 200,
    editing: str = "",
    deleting: str = "",
    new_name: str = "",
    error: str = "",
    row_error: str = "",
    draft_name: str = "",
) -> Response:
    listing = await workspaces.list_workspaces(session, viewer.account_id)
    return render(
        request,
        "settings/workspaces.html",
        viewer=viewer,
        status=status,
        title="Workspaces",
        workspaces=listing,
        editing=editing,
        deleting=deleting,
        new_name=new_name,
        error=error,
        row_error=row_error,
        draft_name=draft_name,
    )


async def _owned(session: AsyncSession, viewer: Viewer, workspace_id: str) -> bool:
    listing = await workspaces.list_workspaces(session, viewer.account_id)
    return any(w.id == workspace_id for w in listing)


@router.get(PAGE)
async def workspaces_page(request: Request, viewer: CurrentViewer, session: PageRead) -> Response:
    return await _page(
        request,
        session,
        viewer,
        editing=request.query_params.get("edit", ""),
        deleting=request.query_params.get("delete", ""),
    )


@router.post(PAGE)
async def create_workspace(
    request: Request, viewer: CheckedViewer, session: PageWrite, form: Form
) -> Response:
    name = form_field(form, "name")
    try:
        await workspaces.create_workspace(session, viewer.account_id, name)
    except workspaces.WorkspaceRefused as refused:
        return await _page(request, session, viewer, status=400, new_name=name, error=str(refused))
    return redirect(f"{PAGE}?notice=workspace-created")


@router.post(PAGE + "/{workspace_id}/rename")
async def rename_workspace(
    request: Request, workspace_id: str, viewer: CheckedViewer, session: PageWrite, form: Form
) -> Response:
    if not await _owned(session, viewer, workspace_id):
        raise PageNotFound()
    name = form_field(form, "name")
    try:
        await workspaces.rename_workspace(session, viewer.account_id, workspace_id, name)
    except workspaces.WorkspaceRefused as refused:
        return await _page(
            request,
            session,
            viewer,
            status=400,
            editing=workspace_id,
            row_error=str(refused),
            draft_name=name,
        )
    return redirect(f"{PAGE}?notice=workspace-renamed")


@router.post(PAGE + "/{workspace_id}/delete")
async def delete_workspace(
    request: Request, workspace_id: str, viewer: CheckedViewer, session: PageWrite, form: Form
) -> Response:
    if not await _owned(session, viewer, workspace_id):
        raise PageNotFound()
    prompt = await recent_login_gate(request, session, viewer, form, action="delete a workspace")
    if prompt is not None:
        return prompt
    try:
        await service.delete_workspace(session, viewer.account_id, workspace_id)
    except workspaces.WorkspaceRefused as refused:
        return await _page(
            request, session, viewer, status=400, deleting=workspace_id, row_error=str(refused)
        )
    return redirect(f"{PAGE}?notice=workspace-deleted")

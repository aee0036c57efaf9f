from __future__ import annotations

from fastapi import APIRouter

from powerpost.auth.capabilities import AccountRead
from powerpost.kit.clock import iso_z
from powerpost.kit.deps import ReadSession
from powerpost.kit.openapi import error_responses
from powerpost.kit.routing import ApiRoute
from powerpost.workspaces import service
from powerpost.workspaces.schemas import WorkspaceList, WorkspaceOut

router = APIRouter(route_class=ApiRoute, tags=["Workspaces"])


@router.get(
    "/workspaces",
    operation_id="listWorkspaces",
    response_model=WorkspaceList,
    responses=error_responses(401, 429),
)
async def list_workspaces(auth: AccountRead, session: ReadSession) -> WorkspaceList:
    """The workspaces of the key's account, oldest first (no X-Workspace-Id needed)."""
    workspaces = await service.list_workspaces(session, auth.account_id)
    return WorkspaceList(
        data=[
            WorkspaceOut(id=w.id, name=w.name, created_at=iso_z(w.created_at) or "")
            for w in workspaces
        ]
    )

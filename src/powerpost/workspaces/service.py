"""Workspaces: every account has at least one; each isolates its content."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.kit.clock import utcnow
from powerpost.kit.ids import new_id
from powerpost.models import Workspace
from powerpost.workspaces import repository

DEFAULT_NAME = "Default workspace"


class WorkspaceRefused(ValueError):
    """A refusal to show the person managing workspaces."""


def clean_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise WorkspaceRefused("Workspace name must be 1 to 100 characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise WorkspaceRefused("Workspace name must not contain control characters")
    return name


async def create_workspace(session: AsyncSession, account_id: str, name: str) -> Workspace:
    workspace = Workspace(
        id=new_id(), account_id=account_id, name=clean_name(name), created_at=utcnow()
    )
    session.add(workspace)
    await session.flush()
    return workspace


async def list_workspaces(session: AsyncSession, account_id: str) -> Sequence[Workspace]:
    return await repository.list_for_account(session, account_id)


async def rename_workspace(
    session: AsyncSession, account_id: str, workspace_id: str, name: str
) -> Workspace:
    workspace = await repository.get_for_account(session, account_id, workspace_id)
    if workspace is None:
        raise WorkspaceRefused("No such workspace")
    workspace.name = clean_name(name)
    await session.flush()
    return workspace


async def delete_workspace(session: AsyncSession, account_id: str, workspace_id: str) -> None:
    """Soft delete: API keys get 403 for its id from now on; its content is unreachable."""
    workspace = await repository.get_for_account(session, account_id, workspace_id)
    if workspace is None:
        raise WorkspaceRefused("No such workspace")
    await repository.soft_delete(session, workspace_id, utcnow())

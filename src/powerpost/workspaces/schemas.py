from __future__ import annotations

from pydantic import BaseModel


class WorkspaceOut(BaseModel):
    id: str
    name: str
    created_at: str


class WorkspaceList(BaseModel):
    data: list[WorkspaceOut]

"""Where a Posts page is: the workspace and mode it shows, the post it is about, and the
URLs back to them (the Calendar links here too)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.api_keys import service as api_keys
from powerpost.dashboard.errors import PageNotFound
from powerpost.dashboard.routes.common import chosen_workspace
from powerpost.dashboard.sessions import Viewer
from powerpost.kit.errors import NotFound
from powerpost.models import Post, PostItem, Workspace
from powerpost.posts import service as posts
from powerpost.workspaces import service as workspaces

PAGE = "/posts"
MODES = ("live", "test")
DONE = {
    "saved": "Draft saved.",
    "scheduled": "Post scheduled. It publishes at the time shown, unless you cancel it.",
    "cancelled": "Schedule cancelled. The post is a draft again.",
    "deleted": "Draft deleted.",
}


async def key_names(session: AsyncSession, account_id: str) -> dict[str, str]:
    return {key.id: key.name for key in await api_keys.list_keys(session, account_id)}


def mode_of(raw: str | None) -> str:
    return raw if raw in MODES else "live"


async def workspace_of(
    session: AsyncSession, viewer: Viewer, raw: str | None
) -> tuple[Sequence[Workspace], Workspace]:
    listing = await workspaces.list_workspaces(session, viewer.account_id)
    return listing, chosen_workspace(listing, raw)


async def find_post(
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


def queue_url(workspace_id: str, mode: str, done: str = "") -> str:
    url = f"{PAGE}?workspace={workspace_id}&mode={mode}"
    return f"{url}&done={done}" if done else url


def detail_url(workspace_id: str, post_id: str) -> str:
    return f"{PAGE}/{post_id}?workspace={workspace_id}"

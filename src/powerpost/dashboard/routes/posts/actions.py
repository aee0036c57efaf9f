"""What a person does to a post: edit, publish now, retry, schedule, cancel, delete.

Every action goes through the same services as the API, in a savepoint, so the same rules
apply and a refusal writes nothing; the route only turns the outcome into a page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from powerpost.config import Settings
from powerpost.dashboard.deps import CheckedViewer, Form, PageWrite
from powerpost.dashboard.deps import field as form_field
from powerpost.dashboard.routes.common import redirect
from powerpost.dashboard.routes.posts.detail import detail_page
from powerpost.dashboard.routes.posts.forms import (
    BROWSER_ZONE,
    PageState,
    edited_items,
    item_error,
    scheduled_time,
)
from powerpost.dashboard.routes.posts.locate import (
    PAGE,
    detail_url,
    find_post,
    queue_url,
    workspace_of,
)
from powerpost.dashboard.routes.posts.queue import queue_page
from powerpost.dashboard.sessions import Viewer
from powerpost.kit.actor import Actor
from powerpost.kit.errors import AppError
from powerpost.models import Post, PostItem, Workspace
from powerpost.posts import service as posts
from powerpost.publishing import service as publishing

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class _Target:
    workspace: Workspace
    post: Post
    items: list[PostItem]
    author: Actor
    from_page: str


async def _target(session: AsyncSession, viewer: Viewer, form: FormData, post_id: str) -> _Target:
    _, workspace = await workspace_of(session, viewer, form_field(form, "workspace") or None)
    post, items = await find_post(session, workspace.id, post_id)
    # A person acts as themself (no key): publishing a Draft Only key's draft is allowed.
    author = Actor(
        account_id=viewer.account_id, workspace_id=workspace.id, mode=post.mode, api_key_id=None
    )
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
        return await detail_page(
            request, session, viewer, target.workspace.id, target.post.id, state, status=status
        )
    return await queue_page(
        request, session, viewer, target.workspace.id, target.post.mode, state, status=status
    )


def _error_of(refused: AppError) -> tuple[str, str]:
    return refused.code, refused.message


def _after(target: _Target, done: str) -> Response:
    if target.from_page == "detail":
        return redirect(detail_url(target.workspace.id, target.post.id) + f"&done={done}")
    return redirect(queue_url(target.workspace.id, target.post.mode, done))


@router.post(PAGE + "/{post_id}/edit")
async def edit_post(
    request: Request, post_id: str, viewer: CheckedViewer, session: PageWrite, form: Form
) -> Response:
    target = await _target(session, viewer, form, post_id)
    edited, errors, draft = edited_items(form, target.items)
    state = PageState(edit=target.post.id, edit_draft=draft)
    if errors:
        state.item_errors = errors
        return await _refused(request, session, viewer, target, state, 400)
    try:
        async with session.begin_nested():
            await posts.update_post(session, target.author, target.post.id, edited)
    except AppError as refused:
        named = item_error(target.items, refused.message)
        if named is not None:
            state.item_errors = {named[0]: named[1]}
        else:
            state.post_errors = {target.post.id: _error_of(refused)}
        return await _refused(request, session, viewer, target, state, refused.status_code)
    return _after(target, "saved")


async def _act(
    request: Request,
    post_id: str,
    viewer: Viewer,
    session: AsyncSession,
    form: FormData,
    action: Callable[[_Target, Settings], Awaitable[object]],
    then: Callable[[_Target], Response],
) -> Response:
    """Run one service action on the post in a savepoint, so a refusal writes nothing:
    the page it came from showing the refusal at the post, or `then` when it went
    through."""
    target = await _target(session, viewer, form, post_id)
    settings: Settings = request.app.state.settings
    try:
        async with session.begin_nested():
            await action(target, settings)
    except AppError as refused:
        state = PageState(post_errors={target.post.id: _error_of(refused)})
        return await _refused(request, session, viewer, target, state, refused.status_code)
    return then(target)


def _to_detail(target: _Target) -> Response:
    return redirect(detail_url(target.workspace.id, target.post.id))


@router.post(PAGE + "/{post_id}/publish")
async def publish_post(
    request: Request, post_id: str, viewer: CheckedViewer, session: PageWrite, form: Form
) -> Response:
    return await _act(
        request,
        post_id,
        viewer,
        session,
        form,
        lambda target, settings: publishing.publish(
            session, settings, target.author, target.post.id
        ),
        _to_detail,
    )


@router.post(PAGE + "/{post_id}/retry")
async def retry_post(
    request: Request, post_id: str, viewer: CheckedViewer, session: PageWrite, form: Form
) -> Response:
    return await _act(
        request,
        post_id,
        viewer,
        session,
        form,
        lambda target, settings: publishing.retry(session, settings, target.author, target.post.id),
        _to_detail,
    )


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
        named = item_error(target.items, message)
        state.post_errors = {target.post.id: (code, named[1] if named else message)}
        return await _refused(request, session, viewer, target, state, refused.status_code)
    return _after(target, "scheduled")


@router.post(PAGE + "/{post_id}/cancel")
async def cancel_post(
    request: Request, post_id: str, viewer: CheckedViewer, session: PageWrite, form: Form
) -> Response:
    return await _act(
        request,
        post_id,
        viewer,
        session,
        form,
        lambda target, _: publishing.cancel(session, target.author, target.post.id),
        lambda target: _after(target, "cancelled"),
    )


@router.post(PAGE + "/{post_id}/delete")
async def delete_post(
    request: Request, post_id: str, viewer: CheckedViewer, session: PageWrite, form: Form
) -> Response:
    return await _act(
        request,
        post_id,
        viewer,
        session,
        form,
        lambda target, _: posts.delete_post(session, target.author, target.post.id),
        # The post is gone: back to the queue whichever page asked.
        lambda target: redirect(queue_url(target.workspace.id, target.post.mode, "deleted")),
    )

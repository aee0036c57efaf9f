from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from powerpost.auth.authorizer import RequestAuth
from powerpost.auth.capabilities import PostsRead, PostsWrite
from powerpost.kit.actor import actor_from
from powerpost.kit.deps import ReadSession, WriteSession
from powerpost.kit.openapi import error_responses
from powerpost.kit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam
from powerpost.kit.routing import ApiRoute, Idempotent
from powerpost.posts import service
from powerpost.posts.schemas import (
    CreatePostRequest,
    Deleted,
    PostList,
    PostOut,
    UpdatePostRequest,
)

router = APIRouter(route_class=ApiRoute, tags=["Posts"])


def author_of(auth: RequestAuth) -> service.Author:
    return actor_from(auth)


@router.post(
    "/posts",
    dependencies=[Idempotent],
    operation_id="createPost",
    response_model=PostOut,
    responses=error_responses(400, 401, 403, 404, 409, 429),
)
async def create_post(auth: PostsWrite, body: CreatePostRequest, session: WriteSession) -> PostOut:
    """A draft of 1–12 items, one per post type; content may come from `generation_id`."""
    post, items = await service.create_post(
        session, author_of(auth), items=body.items, generation_id=body.generation_id
    )
    return service.post_out(post, items)


@router.get(
    "/posts",
    operation_id="listPosts",
    response_model=PostList,
    responses=error_responses(400, 401, 403, 429),
)
async def list_posts(
    auth: PostsRead,
    session: ReadSession,
    status: Annotated[
        Literal["draft", "scheduled", "publishing", "published", "partial", "failed", ""] | None,
        Query(description="Only posts with this status"),
    ] = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> PostList:
    """The workspace's posts, newest first, with their items."""
    page, items = await service.list_posts(
        session,
        auth.require_workspace(),
        auth.principal.mode,
        status=status or None,
        limit=limit,
        cursor=cursor or None,
    )
    return PostList(
        data=[service.post_out(p, items[p.id]) for p in page.items],
        next_cursor=page.next_cursor,
        has_more=page.has_more,
    )


@router.get(
    "/posts/{post_id}",
    operation_id="getPost",
    response_model=PostOut,
    responses=error_responses(401, 403, 404, 429),
)
async def get_post(auth: PostsRead, post_id: str, session: ReadSession) -> PostOut:
    """The post with every item's status, link and error."""
    post, items = await service.get_post(
        session, auth.require_workspace(), auth.principal.mode, post_id
    )
    return service.post_out(post, items)


@router.patch(
    "/posts/{post_id}",
    operation_id="updatePost",
    response_model=PostOut,
    responses=error_responses(400, 401, 403, 404, 409, 429),
)
async def update_post(
    auth: PostsWrite, post_id: str, body: UpdatePostRequest, session: WriteSession
) -> PostOut:
    """Replace a draft's items (only while `draft`, else 409 INVALID_STATE)."""
    post, items = await service.update_post(session, author_of(auth), post_id, body.items)
    return service.post_out(post, items)


@router.delete(
    "/posts/{post_id}",
    operation_id="deletePost",
    response_model=Deleted,
    responses=error_responses(401, 403, 404, 409, 429),
)
async def delete_post(auth: PostsWrite, post_id: str, session: WriteSession) -> Deleted:
    """Delete a draft (only while `draft`, else 409 INVALID_STATE)."""
    await service.delete_post(session, author_of(auth), post_id)
    return Deleted(success=True)

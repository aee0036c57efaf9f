"""Writing styles: a workspace's house voices (list, create, edit, delete), which
`POST /api/v1/content/generate` applies when its body names one in `writing_style_id`."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from powerpost.dashboard import nav
from powerpost.dashboard.deps import CheckedViewer, CurrentViewer, Form, PageRead, PageWrite
from powerpost.dashboard.deps import field as form_field
from powerpost.dashboard.deps import fields as form_fields
from powerpost.dashboard.errors import PageNotFound
from powerpost.dashboard.rendering import render
from powerpost.dashboard.routes.common import chosen_workspace, redirect, reload_page
from powerpost.dashboard.sessions import Viewer
from powerpost.generation import styles
from powerpost.kit.errors import Conflict, NotFound
from powerpost.workspaces import service as workspaces

router = APIRouter(include_in_schema=False)
PAGE = "/writing-styles"
DONE = {
    "created": "Writing style created. Use its ID as writing_style_id when generating captions.",
    "saved": "Writing style saved. New generations use the changes.",
    "deleted": "Writing style deleted. Captions already written with it are kept.",
}

nav.register(nav.NavItem("Writing styles", PAGE, 20, section="Content"))


def _draft(form: FormData) -> dict[str, object]:
    """The form as typed, to show it again next to its errors."""
    examples = form_fields(form, "example_post")[: styles.EXAMPLES_MAX]
    return {
        "name": form_field(form, "name"),
        "tone": form_field(form, "tone"),
        "emoji_use": form_field(form, "emoji_use"),
        "hashtag_count": form_field(form, "hashtag_count"),
        "example_posts": examples + [""] * (styles.EXAMPLES_MAX - len(examples)),
    }


def _checked(form: FormData) -> styles.StyleInput:
    return styles.check_style(
        name=form_field(form, "name"),
        tone=form_field(form, "tone"),
        emoji_use=form_field(form, "emoji_use"),
        hashtag_count=form_field(form, "hashtag_count"),
        # more boxes than allowed means a crafted form: let the check name it
        example_posts=form_fields(form, "example_post"),
    )


async def _page(
    request: Request,
    session: AsyncSession,
    viewer: Viewer,
    workspace_raw: str | None,
    *,
    status: int = 200,
    editing: str = "",
    deleting: str = "",
    draft: dict[str, object] | None = None,
    errors: dict[str, str] | None = None,
    form_error: str = "",
) -> Response:
    listing = await workspaces.list_workspaces(session, viewer.account_id)
    workspace = chosen_workspace(listing, workspace_raw)
    rows = await styles.list_styles(session, workspace.id)
    blank = {
        "name": "",
        "tone": "",
        "emoji_use": "light",
        "hashtag_count": "3",
        "example_posts": [""] * styles.EXAMPLES_MAX,
    }
    return render(
        request,
        "writing_styles/styles.html",
        viewer=viewer,
        status=status,
        title=f"Writing styles · {workspace.name}",
        workspaces=listing,
        workspace=workspace,
        styles=rows,
        editing=editing,
        deleting=deleting,
        # the create form shows the draft only when the failed post was a create
        new_draft=draft if draft is not None and not editing else blank,
        edit_draft=draft if draft is not None and editing else None,
        errors=errors or {},
        form_error=form_error,
        done=DONE.get(request.query_params.get("done", ""), ""),
        examples_max=styles.EXAMPLES_MAX,
        hashtags_max=styles.HASHTAGS_MAX,
        limits={
            "name": styles.NAME_MAX,
            "tone": styles.TONE_MAX,
            "example": styles.EXAMPLE_MAX_CHARS,
        },
    )


@router.get(PAGE)
async def styles_page(request: Request, viewer: CurrentViewer, session: PageRead) -> Response:
    params = request.query_params
    return await _page(
        request,
        session,
        viewer,
        params.get("workspace"),
        editing=params.get("edit", ""),
        deleting=params.get("delete", ""),
    )


@router.post(PAGE)
async def create_style(
    request: Request, viewer: CheckedViewer, session: PageWrite, form: Form
) -> Response:
    listing = await workspaces.list_workspaces(session, viewer.account_id)
    workspace = chosen_workspace(listing, form_field(form, "workspace") or None)
    try:
        await styles.create_style(session, viewer.account_id, workspace.id, _checked(form))
    except styles.StyleInvalid as invalid:
        return await _page(
            request, session, viewer, workspace.id, status=400, draft=_draft(form),
            errors=invalid.errors,
        )  # fmt: skip
    except Conflict as refused:
        return await _page(
            request, session, viewer, workspace.id, status=400, draft=_draft(form),
            form_error=refused.message,
        )  # fmt: skip
    return redirect(f"{PAGE}?workspace={workspace.id}&done=created")


@router.post(PAGE + "/{style_id}/edit")
async def edit_style(
    request: Request, style_id: str, viewer: CheckedViewer, session: PageWrite, form: Form
) -> Response:
    listing = await workspaces.list_workspaces(session, viewer.account_id)
    workspace = chosen_workspace(listing, form_field(form, "workspace") or None)
    try:
        existing = await styles.get_style(session, workspace.id, style_id)
        await styles.update_style(session, workspace.id, existing.id, _checked(form))
    except NotFound:
        raise PageNotFound() from None
    except styles.StyleInvalid as invalid:
        return await _page(
            request, session, viewer, workspace.id, status=400, editing=style_id,
            draft=_draft(form), errors=invalid.errors,
        )  # fmt: skip
    return reload_page(request, f"{PAGE}?workspace={workspace.id}&done=saved")


@router.post(PAGE + "/{style_id}/delete")
async def delete_style(
    request: Request, style_id: str, viewer: CheckedViewer, session: PageWrite, form: Form
) -> Response:
    listing = await workspaces.list_workspaces(session, viewer.account_id)
    workspace = chosen_workspace(listing, form_field(form, "workspace") or None)
    try:
        await styles.delete_style(session, workspace.id, style_id)
    except NotFound:
        raise PageNotFound() from None
    return redirect(f"{PAGE}?workspace={workspace.id}&done=deleted")

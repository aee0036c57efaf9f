"""Settings → Webhooks: a workspace's endpoints (add with the secret shown once, rotate,
enable/disable, send a test event, delete) and each endpoint's delivery log with its
attempts, filters and Redeliver. The rules are the webhook service's, as in the API."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.dashboard import nav
from powerpost.dashboard.deps import CheckedViewer, CurrentViewer, Form, PageRead, PageWrite
from powerpost.dashboard.deps import field as form_field
from powerpost.dashboard.deps import fields as form_fields
from powerpost.dashboard.errors import PageNotFound
from powerpost.dashboard.rendering import render
from powerpost.dashboard.routes.common import chosen_workspace, redirect
from powerpost.dashboard.sessions import Viewer
from powerpost.kit.actor import LIVE, TEST
from powerpost.kit.errors import NotFound, ValidationError
from powerpost.models import Workspace
from powerpost.webhooks import service
from powerpost.webhooks.events import TEST_EVENT, WEBHOOK_EVENTS
from powerpost.webhooks.schemas import EndpointCreate
from powerpost.workspaces import service as workspaces

router = APIRouter(include_in_schema=False)
PAGE = "/settings/webhooks"
DONE = {
    "disabled": "Endpoint disabled: nothing more is sent to it.",
    "enabled": "Endpoint enabled: new events are sent to it again.",
    "tested": "Test event queued. Its delivery shows in the endpoint's log.",
    "deleted": "Endpoint deleted with its delivery log.",
    "redelivered": "Redelivery queued: one more attempt, with the same webhook-id.",
}

nav.register(nav.NavItem("Webhooks", PAGE, 25))


async def _workspace(session: AsyncSession, viewer: Viewer, raw: str | None) -> Workspace:
    listing = await workspaces.list_workspaces(session, viewer.account_id)
    return chosen_workspace(listing, raw)


async def _list_page(
    request: Request,
    session: AsyncSession,
    viewer: Viewer,
    workspace_raw: str | None,
    *,
    status: int = 200,
    secret: str = "",
    secret_for: str = "",
    draft: dict[str, object] | None = None,
    error: str = "",
    error_field: str = "",
) -> Response:
    listing = await workspaces.list_workspaces(session, viewer.account_id)
    workspace = chosen_workspace(listing, workspace_raw)
    scope = service.Scope(viewer.account_id, workspace.id)
    endpoints = await service.list_endpoints(session, scope)
    rates = await service.success_rates(session, endpoints)
    return render(
        request,
        "settings/webhooks.html",
        viewer=viewer,
        status=status,
        title=f"Webhooks · {workspace.name}",
        workspaces=listing,
        workspace=workspace,
        endpoints=endpoints,
        rates=rates,
        flagged=[e for e in endpoints if e.disabled_reason in ("failing", "gone")],
        all_events=WEBHOOK_EVENTS,
        draft=draft or {"url": "", "description": "", "events": list(WEBHOOK_EVENTS), "mode": LIVE},
        secret=secret,
        secret_for=secret_for,
        error=error,
        error_field=error_field,
        done=DONE.get(request.query_params.get("done", ""), ""),
        limit=request.app.state.settings.webhooks.max_endpoints,
    )


@router.get(PAGE)
async def webhooks_page(request: Request, viewer: CurrentViewer, session: PageRead) -> Response:
    return await _list_page(request, session, viewer, request.query_params.get("workspace"))


@router.post(PAGE)
async def add_endpoint(
    request: Request, viewer: CheckedViewer, session: PageWrite, form: Form
) -> Response:
    workspace = await _workspace(session, viewer, form_field(form, "workspace") or None)
    mode = TEST if form_field(form, "mode") == TEST else LIVE
    scope = service.Scope(viewer.account_id, workspace.id, new_mode=mode)
    draft: dict[str, object] = {
        "url": form_field(form, "url"),
        "description": form_field(form, "description"),
        "events": form_fields(form, "events"),
        "mode": mode,
    }
    try:
        body = EndpointCreate(
            url=str(draft["url"]),
            events=list(form_fields(form, "events")),
            description=str(draft["description"]) or None,
        )
        endpoint, secret = await service.create_endpoint(
            session, scope, body, request.app.state.settings
        )
    except ValidationError as refused:
        details = refused.extra.get("details") or [{}]
        return await _list_page(
            request, session, viewer, workspace.id, status=400, draft=draft,
            error=refused.message, error_field=str(details[0].get("field", "")),
        )  # fmt: skip
    # Shown on this answer only: the page is not a redirect target, so a reload asks
    # to resubmit rather than showing the secret again.
    return await _list_page(
        request, session, viewer, workspace.id, secret=secret, secret_for=endpoint.id
    )


async def _endpoint_action(
    request: Request, session: AsyncSession, viewer: Viewer, form_workspace: str, endpoint_id: str
) -> tuple[Workspace, service.Scope]:
    workspace = await _workspace(session, viewer, form_workspace or None)
    scope = service.Scope(viewer.account_id, workspace.id)
    try:
        await service.get_endpoint(session, scope, endpoint_id)
    except NotFound:
        raise PageNotFound() from None
    return workspace, scope


@router.post(PAGE + "/{endpoint_id}/rotate")
async def rotate(
    request: Request, endpoint_id: str, viewer: CheckedViewer, session: PageWrite, form: Form
) -> Response:
    workspace, scope = await _endpoint_action(
        request, session, viewer, form_field(form, "workspace"), endpoint_id
    )
    endpoint, secret = await service.rotate_secret(
        session, scope, endpoint_id, request.app.state.settings
    )
    return await _list_page(
        request, session, viewer, workspace.id, secret=secret, secret_for=endpoint.id
    )


@router.post(PAGE + "/{endpoint_id}/{action}")
async def endpoint_action(
    request: Request,
    endpoint_id: str,
    action: str,
    viewer: CheckedViewer,
    session: PageWrite,
    form: Form,
) -> Response:
    if action not in ("enable", "disable", "test", "delete"):
        raise PageNotFound()
    workspace, scope = await _endpoint_action(
        request, session, viewer, form_field(form, "workspace"), endpoint_id
    )
    if action == "test":
        await service.send_test(session, scope, endpoint_id)
        return redirect(f"{PAGE}/{endpoint_id}?workspace={workspace.id}&done=tested")
    if action == "delete":
        await service.delete_endpoint(session, scope, endpoint_id)
        return redirect(f"{PAGE}?workspace={workspace.id}&done=deleted")
    endpoint = await service.get_endpoint(session, scope, endpoint_id, for_update=True)
    service.set_enabled(endpoint, action == "enable")
    return redirect(f"{PAGE}?workspace={workspace.id}&done={action}d")


@router.get(PAGE + "/{endpoint_id}")
async def delivery_log(
    request: Request, endpoint_id: str, viewer: CurrentViewer, session: PageRead
) -> Response:
    params = request.query_params
    listing = await workspaces.list_workspaces(session, viewer.account_id)
    workspace = chosen_workspace(listing, params.get("workspace"))
    scope = service.Scope(viewer.account_id, workspace.id)
    status = params.get("status") or None
    event = params.get("event") or None
    try:
        endpoint = await service.get_endpoint(session, scope, endpoint_id)
        page, attempts = await service.list_deliveries(
            session,
            scope,
            endpoint_id,
            status=status if status in service.DELIVERY_STATUSES else None,
            event=event if event in (*WEBHOOK_EVENTS, TEST_EVENT) else None,
            limit=50,
            cursor=params.get("cursor") or None,
        )
    except NotFound:
        raise PageNotFound() from None
    rates = await service.success_rates(session, [endpoint])
    return render(
        request,
        "settings/webhook_log.html",
        viewer=viewer,
        title=f"Deliveries · {endpoint.url}",
        workspace=workspace,
        endpoint=endpoint,
        rate=rates[endpoint.id],
        deliveries=page.items,
        attempts=attempts,
        next_cursor=page.next_cursor,
        status_filter=status or "",
        event_filter=event or "",
        all_events=(*WEBHOOK_EVENTS, TEST_EVENT),
        done=DONE.get(params.get("done", ""), ""),
    )


@router.post(PAGE + "/{endpoint_id}/deliveries/{delivery_id}/redeliver")
async def redeliver(
    request: Request,
    endpoint_id: str,
    delivery_id: str,
    viewer: CheckedViewer,
    session: PageWrite,
    form: Form,
) -> Response:
    workspace, scope = await _endpoint_action(
        request, session, viewer, form_field(form, "workspace"), endpoint_id
    )
    try:
        await service.redeliver(session, scope, endpoint_id, delivery_id)
    except NotFound:
        raise PageNotFound() from None
    return redirect(f"{PAGE}/{endpoint_id}?workspace={workspace.id}&done=redelivered")

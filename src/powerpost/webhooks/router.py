from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from powerpost.auth.capabilities import RequestAuth, WebhooksRead, WebhooksWrite
from powerpost.kit.deps import AppSettings, ReadSession, WriteSession
from powerpost.kit.openapi import error_responses
from powerpost.kit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam
from powerpost.kit.routing import ApiRoute, Idempotent
from powerpost.webhooks import service
from powerpost.webhooks.schemas import (
    Deleted,
    DeliveryList,
    DeliveryOut,
    EndpointCreate,
    EndpointList,
    EndpointOut,
    EndpointUpdate,
    EndpointWithSecret,
)

router = APIRouter(route_class=ApiRoute, tags=["Webhooks"])


def _scope(auth: RequestAuth) -> service.Scope:
    return service.Scope(
        account_id=auth.account_id,
        workspace_id=auth.require_workspace(),
        mode=auth.principal.mode,
    )


def _with_secret(endpoint: EndpointOut, secret: str) -> EndpointWithSecret:
    return EndpointWithSecret(**endpoint.model_dump(), secret=secret)


@router.get(
    "/webhooks",
    operation_id="listWebhooks",
    response_model=EndpointList,
    responses=error_responses(400, 401, 403, 429),
)
async def list_webhooks(auth: WebhooksRead, session: ReadSession) -> EndpointList:
    """The workspace's webhook endpoints, oldest first (secrets are never shown again)."""
    endpoints = await service.list_endpoints(session, _scope(auth))
    return EndpointList(data=[service.out(e) for e in endpoints])


@router.post(
    "/webhooks",
    operation_id="createWebhook",
    dependencies=[Idempotent],
    response_model=EndpointWithSecret,
    responses=error_responses(400, 401, 403, 409, 429),
)
async def create_webhook(
    auth: WebhooksWrite, body: EndpointCreate, session: WriteSession, settings: AppSettings
) -> EndpointWithSecret:
    """Add an endpoint; the answer carries its `secret`, shown this once."""
    endpoint, secret = await service.create_endpoint(session, _scope(auth), body, settings)
    return _with_secret(service.out(endpoint), secret)


@router.get(
    "/webhooks/{webhook_id}",
    operation_id="getWebhook",
    response_model=EndpointOut,
    responses=error_responses(401, 403, 404, 429),
)
async def get_webhook(auth: WebhooksRead, webhook_id: str, session: ReadSession) -> EndpointOut:
    """One endpoint."""
    return service.out(await service.get_endpoint(session, _scope(auth), webhook_id))


@router.patch(
    "/webhooks/{webhook_id}",
    operation_id="updateWebhook",
    response_model=EndpointOut,
    responses=error_responses(400, 401, 403, 404, 429),
)
async def update_webhook(
    auth: WebhooksWrite,
    webhook_id: str,
    body: EndpointUpdate,
    session: WriteSession,
    settings: AppSettings,
) -> EndpointOut:
    """Change the URL, events or description, or enable/disable the endpoint."""
    endpoint = await service.update_endpoint(session, _scope(auth), webhook_id, body, settings)
    return service.out(endpoint)


@router.delete(
    "/webhooks/{webhook_id}",
    operation_id="deleteWebhook",
    response_model=Deleted,
    responses=error_responses(401, 403, 404, 429),
)
async def delete_webhook(auth: WebhooksWrite, webhook_id: str, session: WriteSession) -> Deleted:
    """Remove an endpoint with its delivery log; nothing more is sent to it."""
    await service.delete_endpoint(session, _scope(auth), webhook_id)
    return Deleted(success=True)


@router.post(
    "/webhooks/{webhook_id}/rotate",
    operation_id="rotateWebhookSecret",
    dependencies=[Idempotent],
    response_model=EndpointWithSecret,
    responses=error_responses(401, 403, 404, 429),
)
async def rotate_webhook(
    auth: WebhooksWrite, webhook_id: str, session: WriteSession, settings: AppSettings
) -> EndpointWithSecret:
    """A new secret, shown this once; the old one keeps signing beside it for a while
    (`previous_secret_expires_at`)."""
    endpoint, secret = await service.rotate_secret(session, _scope(auth), webhook_id, settings)
    return _with_secret(service.out(endpoint), secret)


@router.post(
    "/webhooks/{webhook_id}/test",
    operation_id="sendWebhookTest",
    dependencies=[Idempotent],
    response_model=DeliveryOut,
    responses=error_responses(401, 403, 404, 429),
)
async def test_webhook(auth: WebhooksWrite, webhook_id: str, session: WriteSession) -> DeliveryOut:
    """Queue a `webhook.test` event to this endpoint (one attempt); watch its delivery."""
    delivery, attempts = await service.send_test(session, _scope(auth), webhook_id)
    return service.delivery_out(delivery, attempts)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    operation_id="listWebhookDeliveries",
    response_model=DeliveryList,
    responses=error_responses(400, 401, 403, 404, 429),
)
async def list_deliveries(
    auth: WebhooksRead,
    webhook_id: str,
    session: ReadSession,
    status: Annotated[str | None, Query(description="pending, succeeded or failed")] = None,
    event: Annotated[str | None, Query(description="Only this event type")] = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> DeliveryList:
    """The endpoint's deliveries, newest first, each with its attempts (kept 30 days)."""
    page, attempts = await service.list_deliveries(
        session,
        _scope(auth),
        webhook_id,
        status=status or None,
        event=event or None,
        limit=limit,
        cursor=cursor or None,
    )
    return DeliveryList(
        data=[service.delivery_out(d, attempts[d.id]) for d in page.items],
        next_cursor=page.next_cursor,
        has_more=page.has_more,
    )


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    operation_id="redeliverWebhook",
    dependencies=[Idempotent],
    response_model=DeliveryOut,
    responses=error_responses(401, 403, 404, 429),
)
async def redeliver(
    auth: WebhooksWrite, webhook_id: str, delivery_id: str, session: WriteSession
) -> DeliveryOut:
    """Send this delivery's event again now (same `webhook-id`), one attempt."""
    delivery, attempts = await service.redeliver(session, _scope(auth), webhook_id, delivery_id)
    return service.delivery_out(delivery, attempts)

"""Webhook endpoints and their delivery log: the rules, in one place, for the API, the
dashboard and the operator CLI alike.

Decisions (the contract leaves them open):
- At most `settings.webhooks.max_endpoints` (10) endpoints per workspace, exact under
  concurrency (creations in a workspace are serialised); the eleventh is a 400 on `url`.
- A URL is checked when saved: shape (https unless the operator allows http, no
  credentials, port 1-65535) and every address its name resolves to (none private,
  loopback, link-local or reserved unless the operator allows loopback). A name that does
  not resolve (yet) is accepted; every delivery checks again at connect time anyway.
- `events` left out means all nine; an empty list or an unknown name is a 400.
- Rotation: the new secret signs at once; the previous one keeps signing beside it for
  `rotation_overlap_hours`, so receivers can switch without losing a message.
- "Send test event" and "Redeliver" make one attempt each, even on a disabled endpoint
  (they are how an operator checks a receiver before enabling it again).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.config import Settings
from powerpost.kit.actor import LIVE
from powerpost.kit.clock import iso_z, utcnow
from powerpost.kit.errors import NotFound, ValidationError
from powerpost.kit.ids import new_id, parse_uuid
from powerpost.kit.netguard import Resolver, UnsafeURL, check_url_shape, resolve_public
from powerpost.kit.pagination import Page, paginate
from powerpost.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from powerpost.webhooks import repository, signing
from powerpost.webhooks.deliveries import create_delivery, queue_job
from powerpost.webhooks.events import WEBHOOK_EVENTS, test_event
from powerpost.webhooks.schemas import (
    AttemptOut,
    DeliveryOut,
    EndpointCreate,
    EndpointOut,
    EndpointUpdate,
)

MAX_DESCRIPTION = 200
DELIVERY_STATUSES = ("pending", "succeeded", "failed")


@dataclass(frozen=True)
class Scope:
    """Whose endpoints: a key acts in its own mode; a person (dashboard, operator CLI)
    owns both (`mode=None`) and picks one when adding an endpoint (`new_mode`)."""

    account_id: str
    workspace_id: str
    mode: str | None = None
    new_mode: str = LIVE

    @property
    def creating_mode(self) -> str:
        return self.mode or self.new_mode


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError(message, details=[{"field": field, "message": message}])


async def check_url(url: str, settings: Settings, resolver: Resolver | None = None) -> str:
    policy = signing.address_policy(settings)
    try:
        parsed = check_url_shape(url, policy)
    except UnsafeURL as exc:
        raise _invalid("url", f"'url' is refused: {exc}") from None
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        await resolve_public(parsed.host, port, policy, resolver)
    except UnsafeURL as exc:
        raise _invalid("url", f"'url' is refused: {exc}") from None
    except OSError:
        pass  # not resolvable now; checked again at every delivery
    return url


def check_events(events: Sequence[str] | None) -> list[str]:
    if events is None:
        return list(WEBHOOK_EVENTS)
    if not events:
        raise _invalid("events", "'events' needs at least one event (leave it out for all)")
    unknown = [name for name in events if name not in WEBHOOK_EVENTS]
    if unknown:
        raise _invalid(
            "events", f"Unknown event '{unknown[0]}'; use any of {', '.join(WEBHOOK_EVENTS)}"
        )
    return list(dict.fromkeys(events))


def _description(value: str | None) -> str | None:
    if value is not None and len(value) > MAX_DESCRIPTION:
        raise _invalid("description", f"'description' must be at most {MAX_DESCRIPTION} characters")
    return value or None


def out(endpoint: WebhookEndpoint) -> EndpointOut:
    expires = endpoint.previous_secret_expires_at
    return EndpointOut(
        webhook_id=endpoint.id,
        mode=endpoint.mode,
        url=endpoint.url,
        description=endpoint.description,
        events=list(endpoint.events),
        enabled=endpoint.enabled,
        disabled_reason=endpoint.disabled_reason,
        failing_since=iso_z(endpoint.failing_since),
        previous_secret_expires_at=iso_z(expires) if endpoint.previous_secret else None,
        created_at=iso_z(endpoint.created_at) or "",
        updated_at=iso_z(endpoint.updated_at) or "",
    )


def delivery_out(delivery: WebhookDelivery, attempts: Sequence[WebhookAttempt]) -> DeliveryOut:
    return DeliveryOut(
        delivery_id=delivery.id,
        event_id=delivery.event_id,
        event=delivery.event,
        status=delivery.status,
        attempt_count=delivery.attempts,
        next_attempt_at=iso_z(delivery.next_attempt_at),
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        created_at=iso_z(delivery.created_at) or "",
        finished_at=iso_z(delivery.finished_at),
        attempts=[
            AttemptOut(
                attempted_at=iso_z(a.attempted_at) or "",
                status_code=a.status_code,
                latency_ms=a.latency_ms,
                response_body=a.response_body,
                error=a.error,
            )
            for a in attempts
        ],
    )


async def list_endpoints(session: AsyncSession, scope: Scope) -> Sequence[WebhookEndpoint]:
    return await repository.endpoints(session, scope.workspace_id, scope.mode)


async def get_endpoint(
    session: AsyncSession, scope: Scope, endpoint_id: str, *, for_update: bool = False
) -> WebhookEndpoint:
    canonical = parse_uuid(endpoint_id)
    endpoint = (
        None
        if canonical is None
        else await repository.endpoint(
            session, scope.workspace_id, scope.mode, canonical, for_update=for_update
        )
    )
    if endpoint is None:
        raise NotFound("Webhook endpoint not found")
    return endpoint


async def create_endpoint(
    session: AsyncSession,
    scope: Scope,
    body: EndpointCreate,
    settings: Settings,
    *,
    resolver: Resolver | None = None,
) -> tuple[WebhookEndpoint, str]:
    """The new endpoint and its secret (the only time the secret is handed out)."""
    events = check_events(body.events)
    description = _description(body.description)
    url = await check_url(body.url, settings, resolver)
    await repository.lock_workspace(session, scope.workspace_id)
    limit = settings.webhooks.max_endpoints
    if await repository.count_endpoints(session, scope.workspace_id) >= limit:
        raise _invalid(
            "url", f"This workspace already has {limit} webhook endpoints; delete one first"
        )
    now = utcnow()
    secret = signing.new_secret()
    endpoint = WebhookEndpoint(
        id=new_id(),
        account_id=scope.account_id,
        workspace_id=scope.workspace_id,
        mode=scope.creating_mode,
        url=url,
        description=description,
        events=events,
        secret=secret,
        previous_secret=None,
        previous_secret_expires_at=None,
        enabled=True,
        disabled_reason=None,
        disabled_at=None,
        failing_since=None,
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    await session.flush()
    return endpoint, secret


async def update_endpoint(
    session: AsyncSession,
    scope: Scope,
    endpoint_id: str,
    body: EndpointUpdate,
    settings: Settings,
    *,
    resolver: Resolver | None = None,
) -> WebhookEndpoint:
    given = body.model_fields_set
    if not given:
        raise _invalid("body", "Send at least one field to change")
    changes: dict[str, object] = {}
    if "url" in given:
        if body.url is None:
            raise _invalid("url", "'url' cannot be null")
        changes["url"] = await check_url(body.url, settings, resolver)
    if "events" in given:
        changes["events"] = check_events(body.events if body.events is not None else [])
    if "description" in given:
        changes["description"] = _description(body.description)
    if "enabled" in given and body.enabled is None:
        raise _invalid("enabled", "'enabled' must be true or false")
    endpoint = await get_endpoint(session, scope, endpoint_id, for_update=True)
    for name, value in changes.items():
        setattr(endpoint, name, value)
    if body.enabled is not None:
        set_enabled(endpoint, body.enabled)
    endpoint.updated_at = utcnow()
    await session.flush()
    return endpoint


def set_enabled(endpoint: WebhookEndpoint, enabled: bool) -> None:
    """Enabling clears the reason and the failure clock; disabling by hand says `manual`."""
    endpoint.updated_at = utcnow()
    if enabled and not endpoint.enabled:
        endpoint.enabled = True
        endpoint.disabled_reason = None
        endpoint.disabled_at = None
        endpoint.failing_since = None  # a fresh start: the 3-day clock restarts
    elif not enabled and endpoint.enabled:
        endpoint.enabled = False
        endpoint.disabled_reason = "manual"
        endpoint.disabled_at = utcnow()


async def rotate_secret(
    session: AsyncSession, scope: Scope, endpoint_id: str, settings: Settings
) -> tuple[WebhookEndpoint, str]:
    endpoint = await get_endpoint(session, scope, endpoint_id, for_update=True)
    now = utcnow()
    secret = signing.new_secret()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + timedelta(
        hours=settings.webhooks.rotation_overlap_hours
    )
    endpoint.secret = secret
    endpoint.updated_at = now
    await session.flush()
    return endpoint, secret


async def delete_endpoint(session: AsyncSession, scope: Scope, endpoint_id: str) -> None:
    endpoint = await get_endpoint(session, scope, endpoint_id)
    await repository.remove_endpoint(session, endpoint.id)


async def send_test(
    session: AsyncSession, scope: Scope, endpoint_id: str
) -> tuple[WebhookDelivery, list[WebhookAttempt]]:
    endpoint = await get_endpoint(session, scope, endpoint_id)
    event = test_event(workspace_id=scope.workspace_id, mode=endpoint.mode, endpoint_id=endpoint.id)
    session.add(event)
    await session.flush()
    delivery = await create_delivery(session, endpoint, event, now=event.created_at, retries=False)
    await session.flush()
    return delivery, []


async def redeliver(
    session: AsyncSession, scope: Scope, endpoint_id: str, delivery_id: str
) -> tuple[WebhookDelivery, list[WebhookAttempt]]:
    """One more attempt now, whatever the delivery's state; a pending delivery's waiting
    job steps aside (it no longer holds `job_id`)."""
    endpoint = await get_endpoint(session, scope, endpoint_id)
    canonical = parse_uuid(delivery_id)
    delivery = (
        None
        if canonical is None
        else await repository.delivery_of(session, scope.workspace_id, endpoint.id, canonical)
    )
    if delivery is None:
        raise NotFound("Delivery not found")
    now = utcnow()
    await queue_job(session, delivery, endpoint.account_id, delay=0, now=now, retries=False)
    await session.flush()
    return delivery, list(await repository.attempts_of(session, [delivery.id]))


async def list_deliveries(
    session: AsyncSession,
    scope: Scope,
    endpoint_id: str,
    *,
    status: str | None,
    event: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[Page[WebhookDelivery], dict[str, list[WebhookAttempt]]]:
    """A page of the endpoint's deliveries, newest first, with every attempt of each."""
    if status is not None and status not in DELIVERY_STATUSES:
        raise _invalid("status", f"'status' must be one of {', '.join(DELIVERY_STATUSES)}")
    if event is not None and event not in (*WEBHOOK_EVENTS, "webhook.test"):
        raise _invalid("event", f"Unknown event '{event}'")
    endpoint = await get_endpoint(session, scope, endpoint_id)
    stmt = repository.deliveries_query(scope.workspace_id, endpoint.id, status=status, event=event)
    page = await paginate(
        session,
        stmt,
        WebhookDelivery.created_at,
        WebhookDelivery.id,
        limit=limit,
        cursor=cursor,
        key=lambda d: (d.created_at, d.id),
    )
    attempts: dict[str, list[WebhookAttempt]] = {d.id: [] for d in page.items}
    for attempt in await repository.attempts_of(session, list(attempts)):
        attempts[attempt.delivery_id].append(attempt)
    return page, attempts


async def success_rates(
    session: AsyncSession, endpoints: Sequence[WebhookEndpoint]
) -> dict[str, float | None]:
    """Share of successful attempts over the last 24 h per endpoint (None: no attempts)."""
    counts = await repository.success_counts(
        session, [e.id for e in endpoints], utcnow() - timedelta(hours=24)
    )
    rates: dict[str, float | None] = {}
    for endpoint in endpoints:
        ok, total = counts.get(endpoint.id, (0, 0))
        rates[endpoint.id] = ok / total if total else None
    return rates

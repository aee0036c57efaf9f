"""Settings → API: the key list, create (shown once), roll, revoke, and usage per key."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.api_keys import scopes as key_scopes
from powerpost.api_keys import service as keys
from powerpost.dashboard import service
from powerpost.dashboard.deps import CheckedViewer, CurrentViewer, Form, PageRead, PageWrite
from powerpost.dashboard.deps import field as form_field
from powerpost.dashboard.deps import fields as form_fields
from powerpost.dashboard.errors import PageNotFound
from powerpost.dashboard.rendering import render
from powerpost.dashboard.routes.common import recent_login_gate, redirect
from powerpost.dashboard.sessions import Viewer
from powerpost.kit.numbers import whole_number
from powerpost.kit.security import KeyHasher

log = logging.getLogger("powerpost.dashboard")
router = APIRouter(include_in_schema=False)

KEY_TYPES = ("read_write", "read_draft", "read_only", "custom")
TYPE_HELP = {
    "read_write": "Every endpoint, including publishing.",
    "read_draft": "Every endpoint except publishing: generate, upload, write drafts, read.",
    "read_only": "Reads only: credits, workspaces, generations, posts, calendar, analytics.",
    "custom": "Only the scopes you tick below.",
}
EXPIRY_CHOICES = [
    ("", "Never"),
    ("7", "7 days"),
    ("30", "30 days"),
    ("90", "90 days"),
    ("365", "1 year"),
]
DEFAULT_GRACE_HOURS = 24


@dataclass
class CreateForm:
    name: str = ""
    key_type: str = ""
    scopes: list[str] = dataclass_field(default_factory=list)
    expires: str = ""
    test_mode: bool = False


@dataclass(frozen=True)
class Revealed:
    """A key's secret for the one response that shows it."""

    secret: str
    key: service.KeyView
    rolled_from: service.KeyView | None = None


def _hasher(request: Request) -> KeyHasher:
    hasher: KeyHasher = request.app.state.hasher
    return hasher


async def _page(
    request: Request,
    session: AsyncSession,
    viewer: Viewer,
    *,
    status: int = 200,
    form: CreateForm | None = None,
    error: str = "",
    revealed: Revealed | None = None,
    confirm: str = "",
    confirm_id: str = "",
    panel_error: str = "",
) -> Response:
    listing = await service.key_list(session, viewer.account_id, viewer.now)
    return render(
        request,
        "settings/api_keys.html",
        viewer=viewer,
        status=status,
        title="API keys",
        listing=listing,
        form=form or CreateForm(),
        error=error,
        revealed=revealed,
        confirm=confirm,
        confirm_id=confirm_id,
        panel_error=panel_error,
        key_types=KEY_TYPES,
        type_labels=key_scopes.PRESET_LABELS,
        type_help=TYPE_HELP,
        scopes=key_scopes.SCOPES,
        scope_endpoints=key_scopes.SCOPE_ENDPOINTS,
        expiry_choices=EXPIRY_CHOICES,
        grace_hours=DEFAULT_GRACE_HOURS,
        max_grace_hours=keys.MAX_GRACE_HOURS,
    )


@router.get("/settings/api")
async def api_keys_page(request: Request, viewer: CurrentViewer, session: PageRead) -> Response:
    confirm, confirm_id = "", ""
    for action in ("revoke", "roll"):
        if wanted := request.query_params.get(action):
            confirm, confirm_id = action, wanted
    return await _page(request, session, viewer, confirm=confirm, confirm_id=confirm_id)


def _read_create_form(form: Form) -> CreateForm:
    return CreateForm(
        name=form_field(form, "name").strip(),
        key_type=form_field(form, "type"),
        scopes=[s for s in form_fields(form, "scopes") if s in key_scopes.SCOPES],
        expires=form_field(form, "expires_in_days").strip(),
        test_mode=form_field(form, "mode") == "test",
    )


def _expiry_days(raw: str) -> int | None:
    if not raw:
        return None
    days = whole_number(raw)
    if days is None:
        raise keys.KeyRefused("Expiry must be a number of days")
    return days


@router.post("/settings/api/keys")
async def create_key(
    request: Request, viewer: CheckedViewer, session: PageWrite, form: Form
) -> Response:
    prompt = await recent_login_gate(request, session, viewer, form, action="create an API key")
    if prompt is not None:
        return prompt
    wanted = _read_create_form(form)
    try:
        if wanted.key_type not in KEY_TYPES:
            raise keys.KeyRefused("Choose a key type")
        if wanted.key_type == "custom" and not wanted.scopes:
            raise keys.KeyRefused("Tick at least one scope for a custom key")
        issued = await keys.create_key(
            session,
            _hasher(request),
            account_id=viewer.account_id,
            name=wanted.name,
            key_type=wanted.key_type,
            scope_list=wanted.scopes if wanted.key_type == "custom" else None,
            mode="test" if wanted.test_mode else "live",
            expires_in_days=_expiry_days(wanted.expires),
            created_by="dashboard",
        )
    except keys.KeyRefused as refused:
        return await _page(request, session, viewer, status=400, form=wanted, error=str(refused))
    log.info("api key %s created in the dashboard", issued.record.id)
    revealed = Revealed(secret=issued.secret, key=service.key_view(issued.record, viewer.now))
    return await _page(request, session, viewer, revealed=revealed)


def _grace_hours(raw: str) -> float:
    try:
        hours = float(raw)
    except ValueError:
        raise keys.KeyRefused("The grace period must be a number of hours") from None
    if not math.isfinite(hours):
        raise keys.KeyRefused("The grace period must be a number of hours")
    return hours


@router.post("/settings/api/keys/{key_id}/roll")
async def roll_key(
    request: Request, key_id: str, viewer: CheckedViewer, session: PageWrite, form: Form
) -> Response:
    old = await service.find_key(session, viewer.account_id, key_id, viewer.now)
    if old is None:
        raise PageNotFound()
    prompt = await recent_login_gate(
        request, session, viewer, form, action=f"roll the API key “{old.name}”"
    )
    if prompt is not None:
        return prompt
    try:
        issued = await keys.roll_key(
            session,
            _hasher(request),
            account_id=viewer.account_id,
            key_id=key_id,
            grace_hours=_grace_hours(form_field(form, "grace_hours").strip()),
            created_by="dashboard",
        )
    except keys.KeyRefused as refused:
        return await _page(
            request,
            session,
            viewer,
            status=400,
            confirm="roll",
            confirm_id=key_id,
            panel_error=str(refused),
        )
    log.info("api key %s rolled to %s in the dashboard", key_id, issued.record.id)
    rolled = await service.find_key(session, viewer.account_id, key_id, viewer.now)
    revealed = Revealed(
        secret=issued.secret,
        key=service.key_view(issued.record, viewer.now),
        rolled_from=rolled,
    )
    return await _page(request, session, viewer, revealed=revealed)


@router.post("/settings/api/keys/{key_id}/revoke")
async def revoke_key(
    request: Request, key_id: str, viewer: CheckedViewer, session: PageWrite, form: Form
) -> Response:
    key = await service.find_key(session, viewer.account_id, key_id, viewer.now)
    if key is None:
        raise PageNotFound()
    prompt = await recent_login_gate(
        request, session, viewer, form, action=f"revoke the API key “{key.name}”"
    )
    if prompt is not None:
        return prompt
    await keys.revoke_key(
        session, account_id=viewer.account_id, key_id=key_id, reason="revoked in the dashboard"
    )
    log.info("api key %s revoked in the dashboard", key_id)
    return redirect("/settings/api?notice=key-revoked")


@router.get("/settings/api/keys/{key_id}")
async def key_usage_page(
    request: Request, key_id: str, viewer: CurrentViewer, session: PageRead
) -> Response:
    key = await service.find_key(session, viewer.account_id, key_id, viewer.now)
    if key is None:
        raise PageNotFound()
    today: datetime = viewer.now
    usage = await service.key_usage(session, key.id, today.date())
    return render(
        request,
        "settings/api_key.html",
        viewer=viewer,
        title=f"Usage of {key.name}",
        key=key,
        usage=usage,
        chart=usage.chart,
        scope_endpoints=key_scopes.SCOPE_ENDPOINTS,
    )

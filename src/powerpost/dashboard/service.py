"""What the pages show, assembled from the feature services (keys, usage, workspaces,
credits). No rules of those features are re-implemented here; this module only shapes
their records for display and combines them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.api_keys import scopes as key_scopes
from powerpost.api_keys import service as keys
from powerpost.api_keys import usage
from powerpost.credits import service as credits
from powerpost.dashboard.charts import BarChart, daily_bar_chart
from powerpost.models import ApiKey, ApiRequest
from powerpost.workspaces import service as workspaces

LEDGER_PAGE_SIZE = 25
USAGE_DAYS = 30


@dataclass(frozen=True)
class KeyView:
    id: str
    name: str
    hint: str
    key_type: str
    type_label: str
    mode: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    last_used_ip: str | None
    expires_at: datetime | None
    revoked_at: datetime | None
    status: str

    @property
    def can_roll(self) -> bool:
        return self.status == "active"

    @property
    def can_revoke(self) -> bool:
        return self.status in ("active", "rolling")


def key_view(key: ApiKey, now: datetime) -> KeyView:
    granted = key_scopes.deserialize(key.scopes)
    return KeyView(
        id=key.id,
        name=key.name,
        hint=f"{key.display_prefix}…{key.display_suffix}",
        key_type=key.type,
        type_label=key_scopes.PRESET_LABELS.get(key.type, key.type),
        mode=key.mode,
        scopes=[s for s in key_scopes.SCOPES if s in granted],
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        last_used_ip=key.last_used_ip,
        expires_at=key.expires_at,
        revoked_at=key.revoked_at,
        status=keys.status_of(key, now),
    )


@dataclass(frozen=True)
class KeyList:
    keys: list[KeyView]
    active: int  # the ones that count toward the limit

    @property
    def limit(self) -> int:
        return keys.MAX_ACTIVE_KEYS

    @property
    def at_limit(self) -> bool:
        return self.active >= keys.MAX_ACTIVE_KEYS


async def key_list(session: AsyncSession, account_id: str, now: datetime) -> KeyList:
    views = [key_view(k, now) for k in await keys.list_keys(session, account_id)]
    # "active" and "rolling" are exactly the service's notion of counting toward the limit:
    # the key still authenticates (not revoked, not expired).
    return KeyList(keys=views, active=sum(1 for v in views if v.status in ("active", "rolling")))


async def find_key(
    session: AsyncSession, account_id: str, key_id: str, now: datetime
) -> KeyView | None:
    for key in await keys.list_keys(session, account_id):
        if key.id == key_id:
            return key_view(key, now)
    return None


@dataclass(frozen=True)
class KeyUsage:
    chart: BarChart
    requests: list[ApiRequest]


async def key_usage(session: AsyncSession, key_id: str, today: date) -> KeyUsage:
    since = today - timedelta(days=USAGE_DAYS - 1)
    counts = await usage.daily_counts(session, key_id, since)
    recent = await usage.recent_requests(session, key_id, limit=usage.KEEP_REQUESTS_PER_KEY)
    return KeyUsage(chart=daily_bar_chart(counts, today, USAGE_DAYS), requests=recent)


@dataclass(frozen=True)
class LedgerRow:
    created_at: datetime
    amount: int
    reason: str
    workspace: str
    key: str
    balance_after: int


@dataclass(frozen=True)
class LedgerPage:
    balance: int
    rows: list[LedgerRow]
    page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def _labels(
    workspace_rows: Sequence[tuple[str, str]], key_rows: Sequence[ApiKey]
) -> tuple[dict[str, str], dict[str, str]]:
    by_workspace = dict(workspace_rows)
    by_key = {k.id: f"{k.name} ({k.display_prefix}…{k.display_suffix})" for k in key_rows}
    return by_workspace, by_key


async def ledger_page(session: AsyncSession, account_id: str, page: int) -> LedgerPage:
    page = max(1, page)
    offset = (page - 1) * LEDGER_PAGE_SIZE
    # One extra row says whether a next page exists without a COUNT(*).
    entries = list(
        await credits.ledger(session, account_id, limit=LEDGER_PAGE_SIZE + 1, offset=offset)
    )
    live_workspaces = await workspaces.list_workspaces(session, account_id)
    names, key_names = _labels(
        [(w.id, w.name) for w in live_workspaces], await keys.list_keys(session, account_id)
    )
    rows = [
        LedgerRow(
            created_at=e.created_at,
            amount=e.amount,
            reason=e.reason,
            workspace=(
                ""
                if e.workspace_id is None
                else names.get(e.workspace_id, f"Deleted workspace {e.workspace_id[:8]}")
            ),
            key="" if e.api_key_id is None else key_names.get(e.api_key_id, e.api_key_id[:8]),
            balance_after=e.balance_after,
        )
        for e in entries[:LEDGER_PAGE_SIZE]
    ]
    return LedgerPage(
        balance=await credits.balance(session, account_id),
        rows=rows,
        page=page,
        has_next=len(entries) > LEDGER_PAGE_SIZE,
    )


async def delete_workspace(session: AsyncSession, account_id: str, workspace_id: str) -> None:
    """Every account keeps at least one workspace, so the last one cannot go."""
    remaining = await workspaces.list_workspaces(session, account_id)
    if len(remaining) <= 1 and any(w.id == workspace_id for w in remaining):
        raise workspaces.WorkspaceRefused(
            "This is your only workspace. Create another one before deleting it."
        )
    await workspaces.delete_workspace(session, account_id, workspace_id)

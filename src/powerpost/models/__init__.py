"""One SQLAlchemy model per file; importing this package registers them all on Base."""

from powerpost.models.account import Account
from powerpost.models.api_key import ApiKey
from powerpost.models.api_request import ApiKeyDailyUsage, ApiRequest
from powerpost.models.credit import CreditHold, CreditLedgerEntry
from powerpost.models.dashboard_session import DashboardSession
from powerpost.models.job import Job
from powerpost.models.media import Media
from powerpost.models.webhook_event import WebhookEvent
from powerpost.models.workspace import Workspace

__all__ = [
    "Account",
    "ApiKey",
    "ApiKeyDailyUsage",
    "ApiRequest",
    "CreditHold",
    "CreditLedgerEntry",
    "DashboardSession",
    "Job",
    "Media",
    "WebhookEvent",
    "Workspace",
]

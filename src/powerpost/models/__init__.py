"""One SQLAlchemy model per file; importing this package registers them all on Base."""

from powerpost.models.account import Account
from powerpost.models.api_key import ApiKey
from powerpost.models.api_request import ApiKeyDailyUsage, ApiRequest
from powerpost.models.calendar_entry import CalendarEntry
from powerpost.models.credit import CreditHold, CreditLedgerEntry
from powerpost.models.dashboard_session import DashboardSession
from powerpost.models.generation import Generation
from powerpost.models.idempotency_key import IdempotencyKey
from powerpost.models.image_generation import ImageGeneration, ImageGenerationImage
from powerpost.models.job import Job
from powerpost.models.media import Media
from powerpost.models.media_reservation import MediaReservation
from powerpost.models.paid_row import PaidJobRow
from powerpost.models.post import Post, PostItem, PublishAttempt, PublishRound, SandboxPost
from powerpost.models.video_generation import VideoGeneration
from powerpost.models.webhook_endpoint import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from powerpost.models.webhook_event import WebhookEvent
from powerpost.models.workspace import Workspace
from powerpost.models.writing_style import WritingStyleRow

__all__ = [
    "Account",
    "ApiKey",
    "ApiKeyDailyUsage",
    "ApiRequest",
    "CalendarEntry",
    "CreditHold",
    "CreditLedgerEntry",
    "DashboardSession",
    "Generation",
    "IdempotencyKey",
    "ImageGeneration",
    "ImageGenerationImage",
    "Job",
    "Media",
    "MediaReservation",
    "PaidJobRow",
    "Post",
    "PostItem",
    "PublishAttempt",
    "PublishRound",
    "SandboxPost",
    "VideoGeneration",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "Workspace",
    "WritingStyleRow",
]

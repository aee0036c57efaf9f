"""The public shapes of webhook endpoints and their delivery log (§14 extension). Field
rules beyond JSON types live in the service, which names the field in its 400."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from powerpost.kit.schemas import RequestModel


class EndpointCreate(RequestModel):
    url: str = Field(description="HTTPS URL of the receiver (public address)")
    events: list[str] | None = Field(
        default=None, description="Events to receive; all nine of §12 when left out"
    )
    description: str | None = Field(default=None, description="At most 200 characters")


class EndpointUpdate(RequestModel):
    """At least one field; `enabled: true` re-enables a disabled endpoint."""

    url: str | None = None
    events: list[str] | None = None
    description: str | None = None
    enabled: bool | None = None


class EndpointOut(BaseModel):
    webhook_id: str
    mode: Literal["live", "test"] = Field(
        description="Live endpoints get live events, test endpoints test-mode events"
    )
    url: str
    description: str | None
    events: list[str]
    enabled: bool
    disabled_reason: Literal["manual", "gone", "failing"] | None
    failing_since: str | None
    # During a rotation's overlap: when the previous secret stops signing.
    previous_secret_expires_at: str | None
    created_at: str
    updated_at: str


class EndpointWithSecret(EndpointOut):
    secret: str = Field(description="`whsec_…`; shown only now, store it safely")


class EndpointList(BaseModel):
    data: list[EndpointOut]


class AttemptOut(BaseModel):
    attempted_at: str
    status_code: int | None
    latency_ms: int
    response_body: str | None
    error: str | None


class DeliveryOut(BaseModel):
    delivery_id: str
    event_id: str = Field(description="Also the `webhook-id` header of every attempt")
    event: str
    status: Literal["pending", "succeeded", "failed"]
    attempt_count: int
    next_attempt_at: str | None
    last_status_code: int | None
    last_error: str | None
    created_at: str
    finished_at: str | None
    attempts: list[AttemptOut]


class DeliveryList(BaseModel):
    data: list[DeliveryOut]
    next_cursor: str | None
    has_more: bool


class Deleted(BaseModel):
    success: Literal[True]

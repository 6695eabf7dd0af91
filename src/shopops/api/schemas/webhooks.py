"""Webhook schemas. URLs and event types are checked by the webhooks context, so one
response lists every field error with its code (`webhooks.invalid_url`, ...)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shopops.contexts.webhooks import EVENT_TYPES

_TYPES = ", ".join(f"`{t}`" for t in EVENT_TYPES)
_SUBSCRIPTION_EXAMPLE: dict[str, Any] = {
    "url": "https://erp.example.com/hooks/shopops",
    "event_types": ["order.paid", "order.shipped"],
    "description": "ERP order sync",
    "is_active": True,
}


class WebhookSubscriptionCreate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_SUBSCRIPTION_EXAMPLE]})

    url: str = Field(description="Absolute http(s) URL that receives the POSTs.")
    event_types: list[str] = Field(
        description=f"Any of {_TYPES}, or `*` for all of them (including types added later)."
    )
    description: str = Field(default="", max_length=500)
    is_active: bool = True


class WebhookSubscriptionUpdate(BaseModel):
    """Only the fields sent change."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"event_types": ["*"], "is_active": False}]}
    )

    url: str | None = None
    event_types: list[str] | None = None
    description: str | None = Field(default=None, max_length=500)
    is_active: bool | None = None


class WebhookSubscriptionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    description: str
    event_types: list[str]
    is_active: bool
    previous_secret_expires_at: datetime | None = Field(
        description="While set, requests carry a second signature made with the old secret."
    )
    created_at: datetime
    updated_at: datetime


class WebhookSubscriptionWithSecret(WebhookSubscriptionRead):
    secret: str = Field(
        description="The signing secret (`whsec_...`). Shown only now: store it safely.",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )


class WebhookAttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: int = Field(description="1 for the first attempt of the message, and so on.")
    worker: str
    url: str
    outcome: str = Field(
        examples=["succeeded"], description="in_flight, succeeded, failed or abandoned"
    )
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int | None
    response_status: int | None
    response_excerpt: str | None = Field(description="The first 1 KiB of the receiver's reply.")
    error: str | None


class WebhookMessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    subscription_id: int
    webhook_id: str = Field(
        examples=["msg_1042_3"], description="The `webhook-id` header: the same on every retry."
    )
    event_id: int | None = Field(description="The outbox event; null for test messages.")
    event_type: str
    status: str = Field(examples=["pending"], description="pending, delivered or failed (dead)")
    attempts: int = Field(description="Attempts since queued or last retried by hand.")
    total_attempts: int
    next_attempt_at: datetime
    last_response_status: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


class WebhookMessageDetail(WebhookMessageRead):
    payload: dict[str, Any] = Field(description="The body sent: `{type, timestamp, data}`.")
    delivery_log: list[WebhookAttemptRead] = Field(description="Every attempt, oldest first.")

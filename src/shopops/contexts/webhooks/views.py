"""What the webhooks context returns: plain dataclasses, secrets and excerpts decrypted."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shopops.contexts.webhooks.models import WebhookAttempt, WebhookMessage, WebhookSubscription
from shopops.kernel.pii import PiiCipher


@dataclass(frozen=True)
class SubscriptionView:
    id: int
    url: str
    description: str
    event_types: list[str]
    is_active: bool
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class SubscriptionWithSecret:
    """Returned by create and rotate: the only time the signing secret is shown."""

    subscription: SubscriptionView
    secret: str


@dataclass(frozen=True)
class SubscriptionPage:
    items: list[SubscriptionView]
    next_after_id: int | None


@dataclass(frozen=True)
class MessageView:
    id: int
    subscription_id: int
    webhook_id: str
    event_id: int | None
    event_type: str
    status: str
    attempts: int
    total_attempts: int
    next_attempt_at: datetime
    last_response_status: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class MessagePage:
    items: list[MessageView]
    next_before_id: int | None


@dataclass(frozen=True)
class AttemptView:
    id: int
    number: int
    worker: str
    url: str
    outcome: str
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int | None
    response_status: int | None
    response_excerpt: str | None
    error: str | None


@dataclass(frozen=True)
class MessageDetail:
    message: MessageView
    payload: dict[str, Any]
    attempts: list[AttemptView]


def subscription_view(row: WebhookSubscription) -> SubscriptionView:
    return SubscriptionView(
        id=row.id,
        url=row.url,
        description=row.description,
        event_types=list(row.event_types),
        is_active=row.is_active,
        previous_secret_expires_at=row.previous_secret_expires_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def message_view(row: WebhookMessage) -> MessageView:
    return MessageView(
        id=row.id,
        subscription_id=row.subscription_id,
        webhook_id=row.webhook_id,
        event_id=row.event_id,
        event_type=row.event_type,
        status=row.status,
        attempts=row.attempts,
        total_attempts=row.total_attempts,
        next_attempt_at=row.next_attempt_at,
        last_response_status=row.last_response_status,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
        created_at=row.created_at,
    )


def attempt_view(row: WebhookAttempt, pii: PiiCipher) -> AttemptView:
    excerpt = None
    if row.response_excerpt_encrypted is not None:
        excerpt = pii.decrypt_bytes(row.response_excerpt_encrypted).decode()
    return AttemptView(
        id=row.id,
        number=row.number,
        worker=row.worker,
        url=row.url,
        outcome=row.outcome,
        started_at=row.started_at,
        finished_at=row.finished_at,
        duration_ms=row.duration_ms,
        response_status=row.response_status,
        response_excerpt=excerpt,
        error=row.error,
    )


def message_detail(
    row: WebhookMessage, attempts: list[WebhookAttempt], pii: PiiCipher
) -> MessageDetail:
    payload: dict[str, Any] = json.loads(row.body)
    return MessageDetail(message_view(row), payload, [attempt_view(a, pii) for a in attempts])

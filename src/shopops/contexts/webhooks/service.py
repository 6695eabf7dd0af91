"""Use cases for webhook subscriptions and messages. Nothing here commits.

Every function needs ``webhooks.manage``; changes are audited without the secret,
which is returned only by create and rotate. Messages are sent by the dispatcher
(``shopops worker``), never from these functions: no network call happens inside
a unit of work.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from shopops.auth.permissions import Permission
from shopops.contexts.webhooks import repository, rules
from shopops.contexts.webhooks.commands import (
    CreateSubscription,
    ListMessages,
    UpdateSubscription,
)
from shopops.contexts.webhooks.errors import WebhookError
from shopops.contexts.webhooks.models import WebhookMessage, WebhookSubscription
from shopops.contexts.webhooks.views import (
    MessageDetail,
    MessagePage,
    MessageView,
    SubscriptionPage,
    SubscriptionView,
    SubscriptionWithSecret,
    message_detail,
    message_view,
    subscription_view,
)
from shopops.kernel.errors import Conflict, FieldErrorCollector, NotFound
from shopops.uow import UnitOfWork

ENTITY = "webhook_subscription"
MAX_PAGE = 500


def _seal(uow: UnitOfWork, secret: str) -> bytes:
    sealed = uow.pii.encrypt(secret)
    assert sealed is not None
    return sealed


def _snapshot(row: WebhookSubscription) -> dict[str, Any]:
    return {
        "url": row.url,
        "event_types": list(row.event_types),
        "description": row.description,
        "is_active": row.is_active,
    }


def _subscription(uow: UnitOfWork, subscription_id: int, *, lock: bool) -> WebhookSubscription:
    get = repository.get_subscription_for_update if lock else repository.get_subscription
    row = get(uow.session, subscription_id)
    if row is None:
        raise NotFound(
            WebhookError.SUBSCRIPTION_NOT_FOUND, f"webhook subscription {subscription_id} not found"
        )
    return row


def create_subscription(uow: UnitOfWork, command: CreateSubscription) -> SubscriptionWithSecret:
    uow.require(Permission.WEBHOOKS_MANAGE)
    errors = FieldErrorCollector()
    url = rules.validate_url(command.url, errors)
    event_types = rules.normalize_event_types(command.event_types, errors)
    description = rules.validate_description(command.description, errors)
    errors.raise_if_any(message="the webhook subscription is not valid")
    secret = rules.generate_secret()
    now = uow.now()
    row = WebhookSubscription(
        url=url,
        description=description,
        event_types=event_types,
        is_active=command.is_active,
        secret_encrypted=_seal(uow, secret),
        created_at=now,
        updated_at=now,
    )
    uow.session.add(row)
    uow.session.flush()
    uow.audit("webhooks.subscription_created", ENTITY, row.id, after=_snapshot(row))
    return SubscriptionWithSecret(subscription_view(row), secret)


def update_subscription(uow: UnitOfWork, command: UpdateSubscription) -> SubscriptionView:
    uow.require(Permission.WEBHOOKS_MANAGE)
    row = _subscription(uow, command.subscription_id, lock=True)
    errors = FieldErrorCollector()
    url = None if command.url is None else rules.validate_url(command.url, errors)
    event_types = (
        None
        if command.event_types is None
        else rules.normalize_event_types(command.event_types, errors)
    )
    description = (
        None
        if command.description is None
        else rules.validate_description(command.description, errors)
    )
    errors.raise_if_any(message="the webhook subscription is not valid")
    before = _snapshot(row)
    if url is not None:
        row.url = url
    if event_types is not None:
        row.event_types = event_types
    if description is not None:
        row.description = description
    if command.is_active is not None:
        row.is_active = command.is_active
    after = _snapshot(row)
    if after != before:
        row.updated_at = uow.now()
        uow.audit("webhooks.subscription_updated", ENTITY, row.id, before=before, after=after)
    return subscription_view(row)


def delete_subscription(uow: UnitOfWork, subscription_id: int) -> None:
    """Deletes the subscription with its messages and their delivery log."""
    uow.require(Permission.WEBHOOKS_MANAGE)
    row = _subscription(uow, subscription_id, lock=True)
    uow.audit("webhooks.subscription_deleted", ENTITY, row.id, before=_snapshot(row))
    uow.session.delete(row)
    uow.session.flush()


def rotate_secret(uow: UnitOfWork, subscription_id: int) -> SubscriptionWithSecret:
    """A new secret; the old one keeps signing alongside it for ``PREVIOUS_SECRET_GRACE``."""
    uow.require(Permission.WEBHOOKS_MANAGE)
    row = _subscription(uow, subscription_id, lock=True)
    secret = rules.generate_secret()
    now = uow.now()
    row.previous_secret_encrypted = row.secret_encrypted
    row.previous_secret_expires_at = now + rules.PREVIOUS_SECRET_GRACE
    row.secret_encrypted = _seal(uow, secret)
    row.updated_at = now
    uow.audit(
        "webhooks.secret_rotated",
        ENTITY,
        row.id,
        after={"previous_secret_expires_at": row.previous_secret_expires_at.isoformat()},
    )
    return SubscriptionWithSecret(subscription_view(row), secret)


def get_subscription(uow: UnitOfWork, subscription_id: int) -> SubscriptionView:
    uow.require(Permission.WEBHOOKS_MANAGE)
    return subscription_view(_subscription(uow, subscription_id, lock=False))


def list_subscriptions(
    uow: UnitOfWork, *, after_id: int | None = None, limit: int = 50
) -> SubscriptionPage:
    uow.require(Permission.WEBHOOKS_MANAGE)
    limit = max(1, min(limit, MAX_PAGE))
    rows = repository.list_subscriptions(uow.session, after_id=after_id, limit=limit + 1)
    next_after = rows[limit - 1].id if len(rows) > limit else None
    return SubscriptionPage([subscription_view(r) for r in rows[:limit]], next_after)


def send_test_event(uow: UnitOfWork, subscription_id: int) -> MessageView:
    """Queue a ``webhook.test`` message for this subscription alone, whatever its filter."""
    uow.require(Permission.WEBHOOKS_MANAGE)
    row = _subscription(uow, subscription_id, lock=False)
    if not row.is_active:
        raise Conflict(
            WebhookError.SUBSCRIPTION_INACTIVE,
            f"webhook subscription {subscription_id} is inactive; activate it first",
        )
    now = uow.now()
    data = {"subscription_id": row.id, "message": "a test event from shopops"}
    message = WebhookMessage(
        subscription_id=row.id,
        event_id=None,
        webhook_id=rules.probe_message_id(),
        event_type=rules.TEST_EVENT_TYPE,
        body=rules.envelope(rules.TEST_EVENT_TYPE, now, data),
        status=rules.MessageStatus.PENDING,
        attempts=0,
        total_attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    uow.session.add(message)
    uow.session.flush()
    uow.audit("webhooks.test_sent", ENTITY, row.id, after={"webhook_id": message.webhook_id})
    return message_view(message)


def list_messages(uow: UnitOfWork, query: ListMessages) -> MessagePage:
    uow.require(Permission.WEBHOOKS_MANAGE)
    if query.status is not None and query.status not in set(rules.MessageStatus):
        errors = FieldErrorCollector()
        errors.add(
            "status",
            WebhookError.UNKNOWN_STATUS,
            f"status is one of {', '.join(rules.MessageStatus)}",
        )
        errors.raise_if_any()
    limit = max(1, min(query.limit, MAX_PAGE))
    rows = repository.list_messages(uow.session, replace(query, limit=limit + 1))
    next_before = rows[limit - 1].id if len(rows) > limit else None
    return MessagePage([message_view(r) for r in rows[:limit]], next_before)


def _message(uow: UnitOfWork, message_id: int, *, lock: bool) -> WebhookMessage:
    get = repository.get_message_for_update if lock else repository.get_message
    row = get(uow.session, message_id)
    if row is None:
        raise NotFound(WebhookError.MESSAGE_NOT_FOUND, f"webhook message {message_id} not found")
    return row


def get_message(uow: UnitOfWork, message_id: int) -> MessageDetail:
    """The message, its payload and its delivery log (every attempt, oldest first)."""
    uow.require(Permission.WEBHOOKS_MANAGE)
    row = _message(uow, message_id, lock=False)
    return message_detail(row, list(repository.list_attempts(uow.session, row.id)), uow.pii)


def retry_message(uow: UnitOfWork, message_id: int) -> MessageView:
    """Queue the message for delivery now with a fresh retry budget (same ``webhook-id``).

    Works on failed (dead) and delivered messages, and on pending ones waiting out a
    backoff; a message a worker is sending right now is a conflict.
    """
    uow.require(Permission.WEBHOOKS_MANAGE)
    row = _message(uow, message_id, lock=True)
    now = uow.now()
    if row.lease_expires_at is not None and row.lease_expires_at > now:
        raise Conflict(
            WebhookError.MESSAGE_IN_FLIGHT,
            f"webhook message {message_id} is being delivered right now; try again shortly",
        )
    subscription = _subscription(uow, row.subscription_id, lock=False)
    if not subscription.is_active:
        raise Conflict(
            WebhookError.SUBSCRIPTION_INACTIVE,
            f"webhook subscription {subscription.id} is inactive; activate it first",
        )
    before = {"status": row.status, "attempts": row.attempts}
    row.status = rules.MessageStatus.PENDING
    row.attempts = 0
    row.next_attempt_at = now
    row.lease_owner = None
    row.lease_expires_at = None
    uow.audit(
        "webhooks.message_retried",
        "webhook_message",
        row.id,
        before=before,
        after={"status": row.status, "attempts": 0, "webhook_id": row.webhook_id},
    )
    return message_view(row)

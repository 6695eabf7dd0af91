"""Fan-out: each committed event becomes one message per active subscription that wants it.

The relay runs ``fan_out`` after the event's transaction committed, inside a fresh
unit of work that also marks the outbox delivery done, so each event fans out
exactly once. It only writes rows: the HTTP requests are the dispatcher's job.
"""

from __future__ import annotations

from shopops.contexts.webhooks import repository, rules
from shopops.contexts.webhooks.models import WebhookMessage
from shopops.uow import DeliveredEvent as CommittedEvent
from shopops.uow import HandlerRegistrar, UnitOfWork

HANDLER_NAME = "webhooks.fan_out"


def fan_out(uow: UnitOfWork, event: CommittedEvent) -> None:
    session = uow.session
    done = repository.subscription_ids_with_event(session, event.id)
    body: str | None = None
    now = uow.now()
    for subscription in repository.list_active_subscriptions(session):
        if subscription.id in done or not subscription.wants(event.event_type):
            continue
        body = body or rules.envelope(event.event_type, event.occurred_at, event.payload)
        session.add(
            WebhookMessage(
                subscription_id=subscription.id,
                event_id=event.id,
                webhook_id=rules.message_id(event.id, subscription.id),
                event_type=event.event_type,
                body=body,
                status=rules.MessageStatus.PENDING,
                attempts=0,
                total_attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    session.flush()


def register_handlers(registry: HandlerRegistrar) -> None:
    """Subscribes the fan-out to the webhook event catalogue (not to every event type:
    other events could never match a subscription, so they get no outbox delivery)."""
    registry.register(HANDLER_NAME, rules.EVENT_TYPES, fan_out)

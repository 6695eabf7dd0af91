"""Webhooks: subscriptions by event type, signed deliveries from the outbox, retries,
a delivery log per attempt and manual retry (Standard Webhooks specification).

``register_handlers`` plugs the fan-out into the outbox relay; ``WebhookDispatcher``
sends the messages (run by ``shopops worker``).
"""

from shopops.contexts.webhooks.commands import CreateSubscription, ListMessages, UpdateSubscription
from shopops.contexts.webhooks.dispatcher import (
    DeliveryResult,
    LeasedMessage,
    WebhookDispatcher,
    signature_headers,
)
from shopops.contexts.webhooks.errors import WebhookError
from shopops.contexts.webhooks.handlers import HANDLER_NAME, fan_out, register_handlers
from shopops.contexts.webhooks.rules import (
    ALL_EVENT_TYPES,
    EVENT_TYPES,
    RETRY_SCHEDULE,
    TEST_EVENT_TYPE,
    AttemptOutcome,
    MessageStatus,
)
from shopops.contexts.webhooks.service import (
    create_subscription,
    delete_subscription,
    get_message,
    get_subscription,
    list_messages,
    list_subscriptions,
    retry_message,
    rotate_secret,
    send_test_event,
    update_subscription,
)
from shopops.contexts.webhooks.views import (
    AttemptView,
    MessageDetail,
    MessagePage,
    MessageView,
    SubscriptionPage,
    SubscriptionView,
    SubscriptionWithSecret,
)

__all__ = [
    "ALL_EVENT_TYPES",
    "EVENT_TYPES",
    "HANDLER_NAME",
    "RETRY_SCHEDULE",
    "TEST_EVENT_TYPE",
    "AttemptOutcome",
    "AttemptView",
    "CreateSubscription",
    "DeliveryResult",
    "LeasedMessage",
    "ListMessages",
    "MessageDetail",
    "MessagePage",
    "MessageStatus",
    "MessageView",
    "SubscriptionPage",
    "SubscriptionView",
    "SubscriptionWithSecret",
    "UpdateSubscription",
    "WebhookDispatcher",
    "WebhookError",
    "create_subscription",
    "delete_subscription",
    "fan_out",
    "get_message",
    "get_subscription",
    "list_messages",
    "list_subscriptions",
    "register_handlers",
    "retry_message",
    "rotate_secret",
    "send_test_event",
    "signature_headers",
    "update_subscription",
]

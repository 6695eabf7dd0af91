"""Pure webhook policies: the event catalogue, URL and secret rules, payloads, retry timing."""

from __future__ import annotations

import base64
import json
import random
import secrets
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from shopops.contexts.webhooks.errors import WebhookError
from shopops.kernel.errors import FieldErrorCollector

# The event types a subscription may ask for: the outbox ``event_type`` of each. Their
# payloads carry ids, numbers, amounts and statuses, never personal data (names,
# e-mail addresses, phone numbers, street addresses): an event whose payload held any
# would have to stay off this list. New types go at the end (clients may rely on the
# order of ``GET /webhooks/event-types``).
EVENT_TYPES: tuple[str, ...] = (
    "order.placed",
    "order.paid",
    "order.shipped",
    "order.delivered",
    "order.cancelled",
    "order.closed",
    "order.completed",
    "refund.issued",
    "return.updated",
    "stock.low",
    "stock.out",
    "order.deposit_paid",
    "order.deposit_forfeited",
    "group_buy.joined",
    "group_buy.succeeded",
    "group_buy.failed",
    "payment.captured",
    "payment.failed",
    "refund.failed",
    "shipment.created",
    "shipment.delivered",
    "shipment.exception",
    "points.earned",
    "points.redeemed",
    "points.expired",
    "points.reversed",
    "tier.changed",
)
# A subscription to "*" receives every type in EVENT_TYPES (including ones added later).
ALL_EVENT_TYPES = "*"
# Sent by "send test event" to one subscription, whatever its filter.
TEST_EVENT_TYPE = "webhook.test"

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # Standard Webhooks: between 24 and 64 bytes
MAX_URL_LENGTH = 2000
MAX_DESCRIPTION_LENGTH = 500
EXCERPT_BYTES = 1024
# A rotated-out secret keeps signing (next to the new one) this long, so receivers can switch.
PREVIOUS_SECRET_GRACE = timedelta(hours=24)

# The Standard Webhooks retry schedule: after the first attempt fails, wait these delays;
# a message that fails the attempt after the last delay is dead (8 attempts in ~28 hours).
RETRY_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)


class MessageStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # dead: retries exhausted; a manual retry re-queues it


class AttemptOutcome(StrEnum):
    IN_FLIGHT = "in_flight"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABANDONED = "abandoned"  # its worker lost the lease (crashed) before recording a result


def generate_secret() -> str:
    """A new signing secret in the Standard Webhooks format ``whsec_<base64>``."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def message_id(event_id: int, subscription_id: int) -> str:
    """The ``webhook-id`` of one event for one subscription: the same on every retry."""
    return f"msg_{event_id}_{subscription_id}"


def probe_message_id() -> str:
    """The ``webhook-id`` of a "send test event" message."""
    return f"msg_test_{secrets.token_hex(12)}"


def subscribes_to(event_types: Sequence[str], event_type: str) -> bool:
    if event_type in event_types:
        return True
    return ALL_EVENT_TYPES in event_types and event_type in EVENT_TYPES


def envelope(event_type: str, occurred_at: datetime, data: dict[str, Any]) -> str:
    """The body ``{type, timestamp, data}``: stored once, so every retry sends the same bytes."""
    timestamp = occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    document = {"type": event_type, "timestamp": timestamp, "data": data}
    return json.dumps(document, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def excerpt(body: bytes) -> str:
    return body[:EXCERPT_BYTES].decode("utf-8", errors="replace")


def is_success(status_code: int) -> bool:
    return 200 <= status_code < 300


def retry_delay(
    failed_attempts: int,
    schedule: Sequence[timedelta] = RETRY_SCHEDULE,
    *,
    jitter: float = 0.0,
    rng: random.Random | None = None,
) -> timedelta | None:
    """How long to wait after the ``failed_attempts``-th failure; None once retries are spent.

    ``jitter`` stretches each delay by up to that fraction so that messages that failed
    together (a receiver outage) do not all come back in the same second.
    """
    if failed_attempts < 1:
        raise ValueError("failed_attempts counts from 1")
    if failed_attempts > len(schedule):
        return None
    delay = schedule[failed_attempts - 1]
    if jitter > 0:
        delay *= 1 + jitter * (rng or random).random()
    return delay


def validate_url(url: str, errors: FieldErrorCollector, field: str = "url") -> str:
    """An absolute http(s) URL with a host and no credentials; returns it stripped."""
    value = url.strip()
    if len(value) > MAX_URL_LENGTH:
        errors.add(field, WebhookError.URL_TOO_LONG, f"at most {MAX_URL_LENGTH} characters")
        return value
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        parts, port_ok = None, False
    if parts is None or not port_ok or not parts.hostname or any(c.isspace() for c in value):
        errors.add(field, WebhookError.INVALID_URL, f"'{value}' is not an absolute URL")
    elif parts.scheme not in {"http", "https"}:
        errors.add(
            field,
            WebhookError.UNSUPPORTED_SCHEME,
            f"only http and https URLs are allowed, not '{parts.scheme}'",
        )
    elif parts.username is not None or parts.password is not None:
        errors.add(
            field,
            WebhookError.URL_HAS_CREDENTIALS,
            "put no credentials in the URL; receivers verify the signature instead",
        )
    elif parts.fragment:
        errors.add(field, WebhookError.INVALID_URL, "a webhook URL has no #fragment")
    return value


def normalize_event_types(
    event_types: Iterable[str], errors: FieldErrorCollector, field: str = "event_types"
) -> list[str]:
    """Known types (or "*"), deduplicated and sorted; every unknown one is reported."""
    given = [t.strip() for t in event_types]
    if not given:
        errors.add(field, WebhookError.NO_EVENT_TYPES, "subscribe to at least one event type")
    for index, event_type in enumerate(given):
        if event_type != ALL_EVENT_TYPES and event_type not in EVENT_TYPES:
            errors.add(
                f"{field}.{index}",
                WebhookError.UNKNOWN_EVENT_TYPE,
                f"unknown event type '{event_type}'; known: {', '.join(EVENT_TYPES)} or '*'",
            )
    if ALL_EVENT_TYPES in given:
        return [ALL_EVENT_TYPES]
    return sorted(set(given))


def validate_description(description: str, errors: FieldErrorCollector) -> str:
    value = description.strip()
    if len(value) > MAX_DESCRIPTION_LENGTH:
        errors.add(
            "description",
            WebhookError.DESCRIPTION_TOO_LONG,
            f"at most {MAX_DESCRIPTION_LENGTH} characters",
        )
    return value

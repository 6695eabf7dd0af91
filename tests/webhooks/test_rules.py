"""Pure webhook rules: URLs, event types, secrets, payloads, retry timing, signatures."""

from __future__ import annotations

import base64
import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks import Webhook, WebhookVerificationError

from shopops.contexts.webhooks import rules, signature_headers
from shopops.kernel.errors import FieldErrorCollector


def url_errors(url: str) -> list[str]:
    errors = FieldErrorCollector()
    rules.validate_url(url, errors)
    return [e.code for e in errors.items]


@pytest.mark.parametrize(
    "url",
    [
        "https://erp.example.com/hooks/shopops",
        "http://127.0.0.1:8080/hooks?source=shopops",
        "  https://example.com  ",
    ],
)
def test_http_and_https_urls_are_accepted(url: str) -> None:
    assert url_errors(url) == []


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.com/hooks", "webhooks.unsupported_scheme"),
        ("file:///etc/passwd", "webhooks.invalid_url"),
        ("javascript://example.com/%0aalert(1)", "webhooks.unsupported_scheme"),
        ("not a url", "webhooks.invalid_url"),
        ("example.com/hooks", "webhooks.invalid_url"),
        ("https://", "webhooks.invalid_url"),
        ("https://example.com:99999/", "webhooks.invalid_url"),
        ("https://user:pw@example.com/", "webhooks.url_has_credentials"),
        ("https://example.com/#top", "webhooks.invalid_url"),
        ("https://example.com/" + "a" * 2000, "webhooks.url_too_long"),
    ],
)
def test_bad_urls_are_refused_with_a_code(url: str, code: str) -> None:
    assert url_errors(url) == [code]


def test_event_types_are_checked_deduplicated_and_sorted() -> None:
    errors = FieldErrorCollector()
    assert rules.normalize_event_types(["order.paid", "stock.out", "order.paid"], errors) == [
        "order.paid",
        "stock.out",
    ]
    assert not errors
    assert rules.normalize_event_types(["order.paid", "*"], errors) == ["*"]
    assert not errors


def test_unknown_and_missing_event_types_are_reported_each() -> None:
    errors = FieldErrorCollector()
    rules.normalize_event_types(["order.paid", "order.teleported", "customer.registered"], errors)
    assert [(e.field, e.code) for e in errors.items] == [
        ("event_types.1", "webhooks.unknown_event_type"),
        ("event_types.2", "webhooks.unknown_event_type"),
    ]
    empty = FieldErrorCollector()
    rules.normalize_event_types([], empty)
    assert [e.code for e in empty.items] == ["webhooks.no_event_types"]


def test_the_wildcard_matches_catalogue_types_only() -> None:
    assert rules.subscribes_to(["*"], "refund.issued")
    assert not rules.subscribes_to(["*"], "customer.registered")
    assert rules.subscribes_to(["order.paid"], "order.paid")
    assert not rules.subscribes_to(["order.paid"], "order.placed")


def test_secrets_follow_the_standard_webhooks_format_and_differ() -> None:
    first, second = rules.generate_secret(), rules.generate_secret()
    assert first != second
    for secret in (first, second):
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32


def test_message_ids_are_stable_per_event_and_subscription() -> None:
    assert rules.message_id(1042, 3) == "msg_1042_3"
    assert rules.probe_message_id() != rules.probe_message_id()


def test_the_envelope_is_compact_json_with_a_utc_timestamp() -> None:
    moment = datetime(2026, 1, 1, 20, 0, tzinfo=UTC).astimezone()
    body = rules.envelope("order.paid", moment, {"order_id": 7, "note": "café"})
    assert body == (
        '{"data":{"note":"café","order_id":7},'
        '"timestamp":"2026-01-01T20:00:00Z","type":"order.paid"}'
    )


def test_the_retry_schedule_is_the_standard_one_and_ends() -> None:
    delays = [rules.retry_delay(n) for n in range(1, 9)]
    assert delays == [
        timedelta(seconds=5),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=5),
        timedelta(hours=10),
        timedelta(hours=10),
        None,
    ]
    with pytest.raises(ValueError):
        rules.retry_delay(0)


@given(st.integers(min_value=1, max_value=7), st.floats(min_value=0, max_value=1))
def test_jitter_only_stretches_a_delay_by_at_most_its_fraction(attempt: int, jitter: float) -> None:
    base = rules.RETRY_SCHEDULE[attempt - 1]
    delay = rules.retry_delay(attempt, jitter=jitter, rng=random.Random(attempt))
    assert delay is not None
    assert base <= delay <= base * (1 + jitter)


def test_signature_headers_verify_with_the_reference_library() -> None:
    secret, old = rules.generate_secret(), rules.generate_secret()
    body = rules.envelope("order.paid", datetime.now(UTC), {"order_id": 1})
    headers = signature_headers("msg_1_1", body, [secret, old], datetime.now(UTC))
    assert headers["webhook-id"] == "msg_1_1"
    assert headers["webhook-timestamp"].isdigit()
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert Webhook(secret).verify(body, headers) == json.loads(body)
    assert Webhook(old).verify(body, headers) == json.loads(body)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace('"order_id":1', '"order_id":2'), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(rules.generate_secret()).verify(body, headers)
    stale = signature_headers("msg_1_1", body, [secret], datetime.now(UTC) - timedelta(hours=1))
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, stale)

"""The webhooks API: subscriptions, secrets, validation problems, messages, log, retry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from standardwebhooks import Webhook

from shopops.auth.permissions import Role
from shopops.bootstrap import Container
from shopops.contexts.webhooks.models import WebhookMessage, WebhookSubscription
from shopops.kernel.time import FrozenClock
from tests.conftest import ClientOn, Staff
from tests.webhooks.conftest import (
    DispatcherFactory,
    OrderPaid,
    OrderPlaced,
    emit,
    messages,
)
from tests.webhooks.receiver import Receiver

BASE = "/v1/webhooks"


@pytest.fixture
def owner(container: Container, staff_on: Callable[..., Staff], client_on: ClientOn) -> TestClient:
    return client_on(container, staff_on(container, Role.OWNER).token)


def create(client: TestClient, url: str, *event_types: str) -> dict[str, object]:
    response = client.post(f"{BASE}/subscriptions", json={"url": url, "event_types": event_types})
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def count(container: Container, model: type) -> int:
    with container.session_factory() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_subscriptions_crud_shows_the_secret_only_on_create_and_rotate(
    owner: TestClient, receiver: Receiver
) -> None:
    created = create(owner, receiver.url, "order.paid", "order.placed", "order.paid")
    secret = created.pop("secret")
    assert isinstance(secret, str)
    assert secret.startswith("whsec_")
    subscription_id = created["id"]
    assert created["event_types"] == ["order.paid", "order.placed"]
    assert created["is_active"] is True

    shown = owner.get(f"{BASE}/subscriptions/{subscription_id}").json()
    assert shown == created
    assert "secret" not in shown

    changed = owner.patch(
        f"{BASE}/subscriptions/{subscription_id}",
        json={"event_types": ["*"], "description": "ERP", "is_active": False},
    ).json()
    assert (changed["event_types"], changed["description"], changed["is_active"]) == (
        ["*"],
        "ERP",
        False,
    )

    rotated = owner.post(f"{BASE}/subscriptions/{subscription_id}/rotate-secret").json()
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != secret
    assert rotated["previous_secret_expires_at"] == "2026-01-02T12:00:00Z"

    assert owner.delete(f"{BASE}/subscriptions/{subscription_id}").status_code == 204
    missing = owner.get(f"{BASE}/subscriptions/{subscription_id}")
    assert missing.status_code == 404
    assert missing.json()["code"] == "webhooks.subscription_not_found"


def test_subscriptions_are_listed_by_cursor(owner: TestClient, receiver: Receiver) -> None:
    ids = [create(owner, receiver.url, "stock.out")["id"] for _ in range(3)]
    first = owner.get(f"{BASE}/subscriptions", params={"limit": 2}).json()
    assert [s["id"] for s in first["items"]] == ids[:2]
    rest = owner.get(
        f"{BASE}/subscriptions", params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert [s["id"] for s in rest["items"]] == ids[2:]
    assert rest["next_cursor"] is None


def test_invalid_subscriptions_are_problems_listing_every_field(
    owner: TestClient, container: Container
) -> None:
    response = owner.post(
        f"{BASE}/subscriptions",
        json={"url": "ftp://example.com/hooks", "event_types": ["order.paid", "order.teleported"]},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation.failed"
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [
        ("url", "webhooks.unsupported_scheme"),
        ("event_types.1", "webhooks.unknown_event_type"),
    ]
    bad_url = owner.post(
        f"{BASE}/subscriptions", json={"url": "not a url", "event_types": ["order.paid"]}
    )
    assert [e["code"] for e in bad_url.json()["errors"]] == ["webhooks.invalid_url"]
    none = owner.post(f"{BASE}/subscriptions", json={"url": "https://x.example", "event_types": []})
    assert [e["code"] for e in none.json()["errors"]] == ["webhooks.no_event_types"]
    assert count(container, WebhookSubscription) == 0


def test_staff_without_webhooks_manage_are_refused_and_nothing_changes(
    container: Container,
    staff_on: Callable[..., Staff],
    client_on: ClientOn,
    owner: TestClient,
    receiver: Receiver,
) -> None:
    subscription_id = create(owner, receiver.url, "order.paid")["id"]
    analyst = client_on(container, staff_on(container, Role.ANALYST).token)
    attempts = [
        analyst.get(f"{BASE}/subscriptions"),
        analyst.post(f"{BASE}/subscriptions", json={"url": receiver.url, "event_types": ["*"]}),
        analyst.patch(f"{BASE}/subscriptions/{subscription_id}", json={"is_active": False}),
        analyst.delete(f"{BASE}/subscriptions/{subscription_id}"),
        analyst.post(f"{BASE}/subscriptions/{subscription_id}/rotate-secret"),
        analyst.post(f"{BASE}/subscriptions/{subscription_id}/test"),
        analyst.get(f"{BASE}/messages"),
    ]
    assert [(r.status_code, r.json()["code"]) for r in attempts] == [
        (403, "auth.permission_denied")
    ] * len(attempts)
    (only,) = owner.get(f"{BASE}/subscriptions").json()["items"]
    assert (only["id"], only["is_active"], only["updated_at"]) == (
        subscription_id,
        True,
        only["created_at"],
    )
    assert count(container, WebhookMessage) == 0


def test_the_test_event_reaches_the_receiver_signed(
    owner: TestClient,
    container: Container,
    receiver: Receiver,
    make_dispatcher: DispatcherFactory,
) -> None:
    created = create(owner, receiver.url, "order.paid")
    receiver.secret = str(created["secret"])
    queued = owner.post(f"{BASE}/subscriptions/{created['id']}/test")
    assert queued.status_code == 202
    assert (queued.json()["event_type"], queued.json()["status"]) == ("webhook.test", "pending")
    assert queued.json()["webhook_id"].startswith("msg_test_")

    make_dispatcher(container).drain()
    (request,) = receiver.requests
    assert request.verified
    assert request.webhook_id == queued.json()["webhook_id"]
    payload = Webhook(str(created["secret"])).verify(request.body, request.headers)
    assert payload["type"] == "webhook.test"
    assert payload["data"]["subscription_id"] == created["id"]


def test_messages_filter_page_and_show_the_delivery_log_and_retry_delivers(
    owner: TestClient,
    container: Container,
    clock: FrozenClock,
    receiver: Receiver,
    make_dispatcher: DispatcherFactory,
) -> None:
    paid = create(owner, receiver.url, "order.paid")["id"]
    placed = create(owner, receiver.url, "order.placed")["id"]
    emit(container, OrderPaid(1), OrderPlaced(2), OrderPaid(3))
    receiver.default_status = 500
    dispatcher = make_dispatcher(container, retry_schedule=[timedelta(seconds=5)])
    dispatcher.dispatch()
    clock.advance(timedelta(seconds=5))
    dispatcher.dispatch()  # all three dead after 2 attempts

    listed = owner.get(f"{BASE}/messages", params={"subscription_id": paid, "limit": 1}).json()
    newest = listed["items"][0]
    rest = owner.get(
        f"{BASE}/messages",
        params={"subscription_id": paid, "limit": 1, "cursor": listed["next_cursor"]},
    ).json()
    assert [m["event_type"] for m in listed["items"] + rest["items"]] == ["order.paid"] * 2
    assert newest["id"] > rest["items"][0]["id"]  # newest first
    assert rest["next_cursor"] is None
    by_type = owner.get(f"{BASE}/messages", params={"event_type": "order.placed"}).json()
    assert [m["subscription_id"] for m in by_type["items"]] == [placed]
    dead = owner.get(f"{BASE}/messages", params={"status": "failed"}).json()["items"]
    assert len(dead) == 3
    assert owner.get(f"{BASE}/messages", params={"status": "delivered"}).json()["items"] == []
    wrong = owner.get(f"{BASE}/messages", params={"status": "lost"})
    assert (wrong.status_code, wrong.json()["code"]) == (422, "validation.failed")

    detail = owner.get(f"{BASE}/messages/{newest['id']}").json()
    assert detail["payload"]["type"] == "order.paid"
    assert detail["payload"]["data"] == {"order_id": 3}
    assert [
        (a["number"], a["outcome"], a["response_status"], a["error"])
        for a in detail["delivery_log"]
    ] == [
        (1, "failed", 500, "receiver answered HTTP 500"),
        (2, "failed", 500, "receiver answered HTTP 500"),
    ]
    assert detail["delivery_log"][0]["response_excerpt"].startswith('{"status": 500')

    receiver.default_status = 200
    retried = owner.post(f"{BASE}/messages/{newest['id']}/retry")
    assert retried.status_code == 200
    assert (retried.json()["status"], retried.json()["attempts"]) == ("pending", 0)
    (result,) = dispatcher.dispatch()
    assert (result.message_id, result.status) == (newest["id"], "delivered")
    log = owner.get(f"{BASE}/messages/{newest['id']}").json()["delivery_log"]
    assert [a["outcome"] for a in log] == ["failed", "failed", "succeeded"]
    assert receiver.ids()[-1] == newest["webhook_id"]
    assert receiver.ids().count(newest["webhook_id"]) == 3

    missing = owner.post(f"{BASE}/messages/999999/retry")
    assert (missing.status_code, missing.json()["code"]) == (404, "webhooks.message_not_found")
    assert {m.status for m in messages(container)} == {"failed", "delivered"}


def test_the_event_catalogue_is_published(owner: TestClient) -> None:
    assert owner.get(f"{BASE}/event-types").json() == [
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
    ]

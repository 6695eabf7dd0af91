"""Fan-out from the outbox and signed delivery to a real receiver on loopback."""

from __future__ import annotations

import json
import socket
import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from standardwebhooks import Webhook, WebhookVerificationError

from shopops.bootstrap import Container
from shopops.contexts import webhooks
from shopops.db.outbox import OutboxDelivery
from shopops.kernel.errors import Conflict
from shopops.kernel.time import FrozenClock
from shopops.relay import DeliveredEvent
from tests.webhooks.conftest import (
    SYSTEM,
    T0,
    CustomerRegistered,
    DispatcherFactory,
    OrderPaid,
    OrderPlaced,
    StockLow,
    attempts,
    emit,
    messages,
    subscribe,
)
from tests.webhooks.receiver import Receiver


def test_events_fan_out_once_to_each_active_subscription_that_wants_them(
    container: Container, receiver: Receiver
) -> None:
    placed_only, _ = subscribe(container, receiver.url, "order.placed")
    paid_and_low, _ = subscribe(container, receiver.url, "order.paid", "stock.low")
    everything, _ = subscribe(container, receiver.url, "*")
    subscribe(container, receiver.url, "*", is_active=False)

    placed, paid, low, other = emit(
        container, OrderPlaced(1), OrderPaid(1), StockLow("SKU-1"), CustomerRegistered(9)
    )
    container.relay.drain()  # a second drain finds nothing to fan out again

    assert [
        (m.subscription_id, m.event_id, m.webhook_id, m.event_type) for m in messages(container)
    ] == [
        (placed_only, placed, f"msg_{placed}_{placed_only}", "order.placed"),
        (everything, placed, f"msg_{placed}_{everything}", "order.placed"),
        (paid_and_low, paid, f"msg_{paid}_{paid_and_low}", "order.paid"),
        (everything, paid, f"msg_{paid}_{everything}", "order.paid"),
        (paid_and_low, low, f"msg_{low}_{paid_and_low}", "stock.low"),
        (everything, low, f"msg_{low}_{everything}", "stock.low"),
    ]
    assert {m.status for m in messages(container)} == {"pending"}
    with container.session_factory() as session:
        rows = session.execute(
            select(OutboxDelivery.event_id, OutboxDelivery.handler, OutboxDelivery.status)
            .where(OutboxDelivery.handler == webhooks.HANDLER_NAME)
            .order_by(OutboxDelivery.event_id)
        ).all()
    # Events outside the catalogue get no fan-out delivery at all.
    assert [tuple(r) for r in rows] == [
        (placed, webhooks.HANDLER_NAME, "done"),
        (paid, webhooks.HANDLER_NAME, "done"),
        (low, webhooks.HANDLER_NAME, "done"),
    ]
    assert other not in {r[0] for r in rows}


def test_deliveries_are_signed_and_verify_and_a_tampered_body_does_not(
    container: Container, receiver: Receiver, make_dispatcher: DispatcherFactory
) -> None:
    subscription_id, secret = subscribe(container, receiver.url, "order.placed")
    receiver.secret = secret
    (event_id,) = emit(container, OrderPlaced(42, total_minor=9900))

    results = make_dispatcher(container).drain()

    assert [(r.webhook_id, r.status, r.response_status) for r in results] == [
        (f"msg_{event_id}_{subscription_id}", "delivered", 200)
    ]
    (request,) = receiver.requests
    assert request.verified
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == f"msg_{event_id}_{subscription_id}"
    assert request.headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(request.body, request.headers) == {
        "type": "order.placed",
        "timestamp": "2026-01-01T12:00:00Z",
        "data": {"order_id": 42, "total_minor": 9900},
    }
    tampered = request.body.replace(b"9900", b"1")
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(tampered, request.headers)
    # The receiver itself refuses the tampered copy.
    signed = {k: v for k, v in request.headers.items() if k.startswith("webhook-")}
    refused = httpx.post(receiver.url, content=tampered, headers=signed)
    assert refused.status_code == 401

    (message,) = messages(container)
    assert (message.status, message.attempts, message.delivered_at) == ("delivered", 1, T0)
    assert message.lease_owner is None
    (attempt,) = attempts(container, message.id)
    assert (attempt.number, attempt.outcome, attempt.response_status, attempt.error) == (
        1,
        "succeeded",
        200,
        None,
    )
    with container.uow(SYSTEM) as uow:
        detail = webhooks.get_message(uow, message.id)
    assert json.loads(detail.attempts[0].response_excerpt or "") == {
        "status": 200,
        "received": message.webhook_id,
    }


def test_a_failing_receiver_is_retried_with_growing_delays_until_the_message_is_dead(
    container: Container,
    clock: FrozenClock,
    receiver: Receiver,
    make_dispatcher: DispatcherFactory,
) -> None:
    subscribe(container, receiver.url, "order.paid")
    emit(container, OrderPaid(5))
    receiver.default_status = 500
    dispatcher = make_dispatcher(container)

    def attempt() -> tuple[str, int, timedelta]:
        (result,) = dispatcher.dispatch()
        (message,) = messages(container)
        return result.status, message.attempts, message.next_attempt_at - clock.now()

    schedule = [attempt()]
    for delay in (10, 20, 40):
        clock.advance(timedelta(seconds=delay - 1))
        assert dispatcher.dispatch() == []  # not due yet
        clock.advance(timedelta(seconds=1))
        schedule.append(attempt())

    assert schedule == [
        ("pending", 1, timedelta(seconds=10)),
        ("pending", 2, timedelta(seconds=20)),
        ("pending", 3, timedelta(seconds=40)),
        ("failed", 4, timedelta(0)),
    ]
    clock.advance(timedelta(days=2))
    assert dispatcher.dispatch() == []  # dead: never sent again by itself
    (message,) = messages(container)
    assert (message.status, message.last_response_status) == ("failed", 500)
    assert message.last_error == "receiver answered HTTP 500"
    log = attempts(container, message.id)
    assert [(a.number, a.outcome, a.response_status) for a in log] == [
        (n, "failed", 500) for n in (1, 2, 3, 4)
    ]
    # Every retry is the same message: same id, same bytes.
    assert {r.webhook_id for r in receiver.requests} == {message.webhook_id}
    assert len({r.body for r in receiver.requests}) == 1
    assert len(receiver.requests) == 4


def test_timeouts_redirects_and_refused_connections_are_failed_attempts(
    container: Container,
    clock: FrozenClock,
    receiver: Receiver,
    make_dispatcher: DispatcherFactory,
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    subscribe(container, receiver.url, "order.placed")
    subscribe(container, f"http://127.0.0.1:{closed_port}/hooks", "order.placed")
    emit(container, OrderPlaced(1))
    receiver.delay = 1.0
    results = make_dispatcher(container, timeout_seconds=0.2).dispatch()

    slow, refused = sorted(results, key=lambda r: r.message_id)
    assert (slow.status, slow.response_status) == ("pending", None)
    assert slow.error is not None
    assert slow.error.startswith("timed out after 0.2s")
    assert (refused.status, refused.response_status) == ("pending", None)
    assert refused.error is not None
    assert refused.error.startswith("ConnectError")

    receiver.delay = 0
    receiver.statuses.append(307)  # a redirect is not followed and not a success
    clock.advance(timedelta(seconds=10))
    dispatcher = make_dispatcher(container)
    first, _ = sorted(dispatcher.dispatch(), key=lambda r: r.message_id)
    assert (first.status, first.response_status, first.error) == (
        "pending",
        307,
        "receiver answered HTTP 307",
    )
    clock.advance(timedelta(seconds=20))
    first, _ = sorted(dispatcher.dispatch(), key=lambda r: r.message_id)
    assert first.status == "delivered"
    assert [(a.outcome, a.response_status) for a in attempts(container, first.message_id)] == [
        ("failed", None),
        ("failed", 307),
        ("succeeded", 200),
    ]


def test_manual_retry_requeues_a_dead_message_under_the_same_id(
    container: Container,
    clock: FrozenClock,
    receiver: Receiver,
    make_dispatcher: DispatcherFactory,
) -> None:
    subscribe(container, receiver.url, "stock.low")
    emit(container, StockLow("SKU-9"))
    receiver.default_status = 503
    dispatcher = make_dispatcher(container, retry_schedule=[timedelta(seconds=1)])
    dispatcher.dispatch()
    clock.advance(timedelta(seconds=1))
    dispatcher.dispatch()
    (message,) = messages(container)
    assert (message.status, message.attempts) == ("failed", 2)

    receiver.default_status = 204
    with container.uow(SYSTEM) as uow:
        view = webhooks.retry_message(uow, message.id)
        uow.commit()
    assert (view.status, view.attempts, view.total_attempts) == ("pending", 0, 2)
    (result,) = dispatcher.dispatch()
    assert result.status == "delivered"
    assert [a.number for a in attempts(container, message.id)] == [1, 2, 3]
    assert receiver.ids() == [message.webhook_id] * 3
    # A delivered message may be sent again on request, too.
    with container.uow(SYSTEM) as uow:
        webhooks.retry_message(uow, message.id)
        uow.commit()
    assert [r.status for r in dispatcher.dispatch()] == ["delivered"]
    assert len(receiver.requests) == 4


def test_a_message_being_sent_cannot_be_retried_by_hand(
    container: Container, receiver: Receiver, make_dispatcher: DispatcherFactory
) -> None:
    subscribe(container, receiver.url, "order.placed")
    emit(container, OrderPlaced(1))
    (leased,) = make_dispatcher(container).claim()
    with container.uow(SYSTEM) as uow, pytest.raises(Conflict) as denied:
        webhooks.retry_message(uow, leased.message_id)
    assert denied.value.code == "webhooks.message_in_flight"


def test_an_expired_lease_lets_another_worker_resend_under_the_same_id(
    container: Container,
    clock: FrozenClock,
    receiver: Receiver,
    make_dispatcher: DispatcherFactory,
) -> None:
    subscribe(container, receiver.url, "order.placed")
    emit(container, OrderPlaced(1))
    crashed = make_dispatcher(container, worker_id="worker-a", lease_seconds=30)
    other = make_dispatcher(container, worker_id="worker-b", lease_seconds=30)
    (stale,) = crashed.claim()  # worker-a stalls before sending
    assert other.claim() == []
    clock.advance(timedelta(seconds=31))

    (result,) = other.dispatch()
    assert result.status == "delivered"
    # worker-a wakes up and sends too: the receiver sees the same webhook-id twice.
    late = crashed.deliver(stale)
    assert late.status == "lease_lost"
    assert receiver.ids() == [stale.webhook_id, stale.webhook_id]
    (message,) = messages(container)
    assert (message.status, message.total_attempts) == ("delivered", 2)
    assert [(a.number, a.worker, a.outcome) for a in attempts(container, message.id)] == [
        (1, "worker-a", "succeeded"),  # first marked abandoned by worker-b, then recorded
        (2, "worker-b", "succeeded"),
    ]


def test_a_dead_workers_attempt_is_logged_as_abandoned(
    container: Container,
    clock: FrozenClock,
    receiver: Receiver,
    make_dispatcher: DispatcherFactory,
) -> None:
    subscribe(container, receiver.url, "order.placed")
    emit(container, OrderPlaced(1))
    make_dispatcher(container, worker_id="worker-a").claim()  # and never reports back
    clock.advance(timedelta(seconds=31))
    make_dispatcher(container, worker_id="worker-b").dispatch()
    (message,) = messages(container)
    log = attempts(container, message.id)
    assert [(a.worker, a.outcome, a.finished_at) for a in log] == [
        ("worker-a", "abandoned", None),
        ("worker-b", "succeeded", clock.now()),
    ]


def test_a_rotated_secret_signs_next_to_the_new_one_for_a_day(
    container: Container,
    clock: FrozenClock,
    receiver: Receiver,
    make_dispatcher: DispatcherFactory,
) -> None:
    subscription_id, old = subscribe(container, receiver.url, "order.placed")
    with container.uow(SYSTEM) as uow:
        new = webhooks.rotate_secret(uow, subscription_id).secret
        uow.commit()
    assert new != old
    emit(container, OrderPlaced(1))
    dispatcher = make_dispatcher(container)
    dispatcher.dispatch()
    clock.advance(timedelta(hours=24, seconds=1))
    emit(container, OrderPlaced(2))
    dispatcher.dispatch()

    during, after = receiver.requests
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(during.body, during.headers)
    Webhook(new).verify(during.body, during.headers)
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(after.body, after.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(after.body, after.headers)


def test_an_inactive_subscription_holds_its_messages_until_reactivated(
    container: Container, receiver: Receiver, make_dispatcher: DispatcherFactory
) -> None:
    subscription_id, _ = subscribe(container, receiver.url, "order.placed")
    emit(container, OrderPlaced(1))
    with container.uow(SYSTEM) as uow:
        webhooks.update_subscription(
            uow, webhooks.UpdateSubscription(subscription_id, is_active=False)
        )
        uow.commit()
    dispatcher = make_dispatcher(container)
    assert dispatcher.dispatch() == []
    emit(container, OrderPlaced(2))  # no new message while inactive
    assert len(messages(container)) == 1
    with container.uow(SYSTEM) as uow:
        webhooks.update_subscription(
            uow, webhooks.UpdateSubscription(subscription_id, is_active=True)
        )
        uow.commit()
    assert [r.status for r in dispatcher.dispatch()] == ["delivered"]
    assert len(receiver.requests) == 1


def test_a_batch_is_sent_in_parallel_and_each_outcome_recorded(
    container: Container, receiver: Receiver, make_dispatcher: DispatcherFactory
) -> None:
    subscribe(container, receiver.url, "order.placed")
    emit(container, *(OrderPlaced(n) for n in range(1, 11)))
    receiver.delay = 0.3
    dispatcher = make_dispatcher(container, concurrency=10)
    started = time.monotonic()
    results = dispatcher.dispatch()
    elapsed = time.monotonic() - started
    assert sorted(r.status for r in results) == ["delivered"] * 10
    assert elapsed < 2.0  # one after the other would take 3 seconds
    log = [a for m in messages(container) for a in attempts(container, m.id)]
    assert len(log) == 10
    assert all(a.duration_ms is not None and a.duration_ms >= 300 for a in log)


def test_fanning_out_the_same_event_twice_adds_nothing(
    container: Container, receiver: Receiver
) -> None:
    subscribe(container, receiver.url, "order.paid")
    (event_id,) = emit(container, OrderPaid(3))
    event = DeliveredEvent(event_id, "order.paid", "order", "3", {"order_id": 3}, T0)
    with container.uow(SYSTEM) as uow:
        webhooks.fan_out(uow, event)
        uow.commit()
    assert len(messages(container)) == 1


def test_an_inactive_subscription_gets_no_test_event_and_no_manual_retry(
    container: Container, receiver: Receiver
) -> None:
    subscription_id, _ = subscribe(container, receiver.url, "order.paid")
    emit(container, OrderPaid(3))
    with container.uow(SYSTEM) as uow:
        webhooks.update_subscription(
            uow, webhooks.UpdateSubscription(subscription_id, is_active=False)
        )
        uow.commit()
    (message,) = messages(container)
    with container.uow(SYSTEM) as uow:
        with pytest.raises(Conflict) as test_refused:
            webhooks.send_test_event(uow, subscription_id)
        with pytest.raises(Conflict) as retry_refused:
            webhooks.retry_message(uow, message.id)
    assert test_refused.value.code == retry_refused.value.code == "webhooks.subscription_inactive"

"""Paying and refunding orders through the sandbox gateway, on a real database."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shopops import bootstrap
from shopops.adapters.payments import Operation
from shopops.auth.permissions import Role, permissions_for
from shopops.bootstrap import Container
from shopops.contexts import inventory, orders, payments
from shopops.kernel.errors import Conflict, DomainError, PermissionDenied
from shopops.kernel.events import Actor
from shopops.kernel.time import FrozenClock
from tests.commerce import SYSTEM, stock_of
from tests.payments.shop import Shop, count, events, open_shop, snapshot

TOTAL = 2 * 2000 + 1250  # TEE x2 + MUG
FEE = 152 + 30  # 2.9% of 52.50 (half-even) + 0.30


@pytest.fixture
def shop(container: Container) -> Shop:
    return open_shop(container)


def role(name: Role) -> Actor:
    return Actor("user", 77, f"{name.value}@staff", frozenset(map(str, permissions_for(name))))


def test_pay_order_captures_and_marks_the_order_paid(shop: Shop) -> None:
    order_id = shop.place(("TEE", 2), ("MUG", 1))
    payment = shop.pay(order_id)
    assert (payment.status, payment.amount_minor, payment.captured_minor, payment.fee_minor) == (
        "captured",
        TOTAL,
        TOTAL,
        FEE,
    )
    assert payment.gateway_reference
    assert payment.gateway_reference.startswith("sbx_ch_")
    order = shop.order(order_id)
    assert (order.status, order.payment_status, order.captured_minor) == ("paid", "paid", TOTAL)
    assert shop.timeline(order_id) == [
        "placed",
        "payment_started",
        "payment_captured",
        "status_changed",
    ]
    [captured] = events(shop.container, "payment.captured")
    assert (captured["payment_id"], captured["amount_minor"], captured["fee_minor"]) == (
        payment.id,
        TOTAL,
        FEE,
    )
    assert len(events(shop.container, "order.paid")) == 1
    assert shop.container.payment_gateway.checked == ["authorize", "capture"]  # type: ignore[attr-defined]


def test_paying_twice_is_refused(shop: Shop) -> None:
    order_id = shop.place(("MUG", 1))
    shop.pay(order_id)
    before = snapshot(shop.container)
    with pytest.raises(Conflict) as caught:
        shop.pay(order_id)
    assert caught.value.code == "payments.already_paid"
    assert snapshot(shop.container) == before


def test_gateway_decline_leaves_the_order_unpaid(shop: Shop) -> None:
    order_id = shop.place(("MUG", 1))
    failed = shop.pay(order_id, source="tok_declined")
    assert (failed.status, failed.error_code, failed.captured_minor) == (
        "failed",
        "card_declined",
        0,
    )
    order = shop.order(order_id)
    assert (order.status, order.payment_status, order.captured_minor) == (
        "pending_payment",
        "unpaid",
        0,
    )
    assert shop.timeline(order_id)[-1] == "payment_failed"
    assert [e["error_code"] for e in events(shop.container, "payment.failed")] == ["card_declined"]
    assert events(shop.container, "payment.captured") == []
    retried = shop.pay(order_id)  # a new attempt with a good card
    assert retried.id != failed.id
    assert retried.status == "captured"
    assert shop.order(order_id).status == "paid"


def test_amount_rule_declines_in_the_sandbox(shop: Shop) -> None:
    shop.sandbox.configure(decline_amount_endings=("50",))
    order_id = shop.place(("MUG", 1))  # 12.50
    assert shop.pay(order_id).status == "failed"
    assert shop.order(order_id).payment_status == "unpaid"


def test_partial_then_full_refund(shop: Shop) -> None:
    order_id = shop.place(("TEE", 2), ("MUG", 1))
    shop.pay(order_id)
    tee, mug = shop.lines(order_id)
    first = shop.refund(order_id, amount_minor=1000, reason="late delivery")
    assert (first.status, first.amount_minor) == ("succeeded", 1000)
    assert first.lines == [
        {"order_line_id": tee.id, "amount_minor": 762},
        {"order_line_id": mug.id, "amount_minor": 238},
    ]
    order = shop.order(order_id)
    assert (order.refunded_minor, order.payment_status, order.status) == (
        1000,
        "partially_refunded",
        "paid",
    )
    assert [line.refunded_minor for line in shop.lines(order_id)] == [762, 238]
    [issued] = events(shop.container, "refund.issued")
    assert (issued["refund_id"], issued["amount_minor"], issued["order_id"]) == (
        first.id,
        1000,
        order_id,
    )

    rest = shop.refund(order_id, amount_minor=TOTAL - 1000)
    assert rest.status == "succeeded"
    assert [line.refunded_minor for line in shop.lines(order_id)] == [4000, 1250]
    order = shop.order(order_id)
    assert (order.refunded_minor, order.payment_status) == (TOTAL, "refunded")
    with shop.container.uow(SYSTEM) as uow:
        [payment] = payments.payments_of_order(uow.session, order_id)
        assert (payment.status, payment.refunded_minor, payment.refund_pending_minor) == (
            "refunded",
            TOTAL,
            0,
        )
    assert shop.timeline(order_id)[-4:] == [
        "refund_requested",
        "refund_issued",
        "refund_requested",
        "refund_issued",
    ]


def test_explicit_line_amounts(shop: Shop) -> None:
    order_id = shop.place(("TEE", 2), ("MUG", 1))
    shop.pay(order_id)
    _, mug = shop.lines(order_id)
    refund = shop.refund(order_id, line_amounts={mug.id: 1250}, reason="broken mug")
    assert refund.lines == [{"order_line_id": mug.id, "amount_minor": 1250}]
    assert [line.refunded_minor for line in shop.lines(order_id)] == [0, 1250]


def test_refund_above_captured_is_refused_and_changes_nothing(shop: Shop) -> None:
    order_id = shop.place(("TEE", 2), ("MUG", 1))
    shop.pay(order_id)
    shop.refund(order_id, amount_minor=5000)
    before = snapshot(shop.container)
    with pytest.raises(Conflict) as caught:
        shop.refund(order_id, amount_minor=TOTAL - 5000 + 1)
    assert caught.value.code == "payments.refund_exceeds_captured"
    assert caught.value.details == {"requested_minor": 251, "refundable_minor": 250}
    assert snapshot(shop.container) == before
    _, mug = shop.lines(order_id)
    with pytest.raises(Conflict) as line_caught:  # within captured, above the line's amount
        shop.refund(order_id, line_amounts={mug.id: 250 + 1})
    assert line_caught.value.code == "payments.refund_exceeds_captured"
    assert snapshot(shop.container) == before


def test_refund_above_a_lines_paid_amount_is_refused(shop: Shop) -> None:
    order_id = shop.place(("TEE", 2), ("MUG", 1))
    shop.pay(order_id)
    _, mug = shop.lines(order_id)
    before = snapshot(shop.container)
    with pytest.raises(Conflict) as caught:
        shop.refund(order_id, line_amounts={mug.id: 1251})
    assert caught.value.code == "payments.refund_exceeds_line"
    assert snapshot(shop.container) == before


def test_refund_of_an_unpaid_order_and_without_permission(shop: Shop) -> None:
    order_id = shop.place(("MUG", 1))
    before = snapshot(shop.container)
    with pytest.raises(Conflict) as caught:
        shop.refund(order_id, amount_minor=100)
    assert caught.value.code == "payments.nothing_captured"
    assert snapshot(shop.container) == before
    shop.pay(order_id)
    before = snapshot(shop.container)
    with pytest.raises(PermissionDenied):
        shop.refund(order_id, actor=role(Role.CS_AGENT), amount_minor=100)
    assert snapshot(shop.container) == before
    assert shop.refund(order_id, actor=role(Role.FINANCE), amount_minor=100).status == "succeeded"


def test_gateway_refund_failure_releases_the_held_amount(shop: Shop) -> None:
    order_id = shop.place(("MUG", 1))
    shop.pay(order_id)
    shop.sandbox.configure(fail_refund_amount_endings=("13",))
    failed = shop.refund(order_id, amount_minor=513)
    assert (failed.status, failed.error_code) == ("failed", "refund_failed")
    order = shop.order(order_id)
    assert (order.refunded_minor, order.payment_status) == (0, "paid")
    assert shop.timeline(order_id)[-1] == "refund_failed"
    assert [e["refund_id"] for e in events(shop.container, "refund.failed")] == [failed.id]
    assert shop.refund(order_id, amount_minor=1250).status == "succeeded"


@pytest.fixture
def frozen(make_container: Any) -> tuple[Shop, FrozenClock]:
    clock = FrozenClock(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    return open_shop(make_container(clock=clock)), clock


def _run_retry_job(container: Container) -> object:
    [job] = [j for name, _, j in bootstrap.CONTAINER_JOBS if name == "payments.retry_stuck_refunds"]
    return job(container)


def test_gateway_down_leaves_the_refund_requested_until_the_retry_job(
    frozen: tuple[Shop, FrozenClock],
) -> None:
    shop, clock = frozen
    order_id = shop.place(("MUG", 1))
    shop.pay(order_id)
    shop.sandbox.configure(unavailable=frozenset({Operation.REFUND}))
    pending = shop.refund(order_id, amount_minor=1250)
    assert (pending.status, pending.attempts, pending.error_code) == (
        "requested",
        1,
        "gateway_unavailable",
    )
    assert shop.order(order_id).refunded_minor == 0
    shop.sandbox.configure(unavailable=frozenset())
    assert _run_retry_job(shop.container) == 0  # too recent: the flow may still be running
    clock.advance(timedelta(minutes=3))
    assert _run_retry_job(shop.container) == 1
    order = shop.order(order_id)
    assert (order.refunded_minor, order.payment_status) == (1250, "refunded")
    assert _run_retry_job(shop.container) == 0


def test_crash_between_the_steps_is_recovered_with_the_same_key(
    frozen: tuple[Shop, FrozenClock],
) -> None:
    """The gateway refunded, then the process died before tx2: the retry moves no money twice."""
    shop, clock = frozen
    order_id = shop.place(("TEE", 1))
    shop.pay(order_id)
    real_refund = shop.sandbox.refund

    def refund_then_crash(**kwargs: Any) -> Any:
        real_refund(**kwargs)
        raise SystemExit("worker killed")

    shop.sandbox.refund = refund_then_crash  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        shop.refund(order_id, amount_minor=700)
    shop.sandbox.refund = real_refund  # type: ignore[method-assign]
    with shop.container.uow(SYSTEM) as uow:
        [stuck] = payments.refunds_of_order(uow.session, order_id)
        assert stuck.status == "requested"
        key = stuck.idempotency_key
    assert shop.order(order_id).refunded_minor == 0

    clock.advance(timedelta(minutes=3))
    assert _run_retry_job(shop.container) == 1
    refund_calls = [k for op, k in shop.sandbox.calls if op == Operation.REFUND]
    assert refund_calls == [key, key]
    refund_notes = [n for n in shop.sandbox.notifications if b"refund.succeeded" in n.body]
    assert len(refund_notes) == 1  # the gateway refunded once
    order = shop.order(order_id)
    assert (order.refunded_minor, order.payment_status) == (700, "partially_refunded")
    assert len(events(shop.container, "refund.issued")) == 1


def test_cancelling_a_paid_order_refunds_what_was_captured(shop: Shop) -> None:
    order_id = shop.place(("TEE", 2), ("MUG", 1))
    shop.pay(order_id)
    order, refund = orders.cancel_and_refund(
        shop.tx(), shop.gateway, order_id=order_id, reason="customer changed mind"
    )
    assert order.status == "cancelled"
    assert refund is not None
    assert (refund.status, refund.amount_minor) == ("succeeded", TOTAL)
    order = shop.order(order_id)
    assert (order.refunded_minor, order.payment_status) == (TOTAL, "refunded")
    assert [line.refunded_minor for line in shop.lines(order_id)] == [4000, 1250]
    assert stock_of(shop.container, "TEE")[0][1:] == (100, 0)


def test_plain_cancel_reserves_the_refund_and_the_job_sends_it(
    frozen: tuple[Shop, FrozenClock],
) -> None:
    shop, clock = frozen
    order_id = shop.place(("MUG", 2))
    shop.pay(order_id)
    with shop.container.uow(SYSTEM) as uow:
        orders.cancel_order(uow, order_id, reason="out of stock")
        uow.commit()
    with shop.container.uow(SYSTEM) as uow:
        [reserved] = payments.refunds_of_order(uow.session, order_id)
        assert (reserved.status, reserved.amount_minor) == ("requested", 2500)
    clock.advance(timedelta(minutes=3))
    assert _run_retry_job(shop.container) == 1
    assert shop.order(order_id).payment_status == "refunded"


def test_cancelling_an_unpaid_order_refunds_nothing(shop: Shop) -> None:
    order_id = shop.place(("MUG", 1))
    orders.cancel_and_refund(shop.tx(), shop.gateway, order_id=order_id, reason="duplicate")
    assert count(shop.container, payments.Refund) == 0


def test_capture_for_an_order_closed_meanwhile_is_refunded(shop: Shop) -> None:
    order_id = shop.place(("MUG", 1))
    real_capture = shop.sandbox.capture

    def close_then_capture(**kwargs: Any) -> Any:
        with shop.container.uow(SYSTEM) as uow:  # the close job wins the race
            order = orders.get_order(uow, order_id, for_update=True)
            orders.transition(uow, order, orders.OrderStatus.CLOSED, reason="window expired")
            inventory.release(uow, order.number)
            uow.commit()
        return real_capture(**kwargs)

    shop.sandbox.capture = close_then_capture  # type: ignore[method-assign]
    payment = shop.pay(order_id)
    assert payment.status == "captured"
    order = shop.order(order_id)
    assert (order.status, order.captured_minor, order.refunded_minor, order.payment_status) == (
        "closed",
        1250,
        1250,
        "refunded",
    )
    assert "refund_issued" in shop.timeline(order_id)


def _captured_notification(shop: Shop, order_id: int) -> Any:
    """Pay with the capture's response lost: the order waits for the gateway's notification."""
    shop.sandbox.configure(lose_response=frozenset({Operation.CAPTURE}))
    with pytest.raises(payments.GatewayUnavailableError) as caught:
        shop.pay(order_id)
    assert caught.value.code == "payments.gateway_unavailable"
    shop.sandbox.configure(lose_response=frozenset())
    assert shop.order(order_id).payment_status == "unpaid"
    [note] = [n for n in shop.sandbox.take_notifications() if b"payment.captured" in n.body]
    return note


def _receive(shop: Shop, headers: dict[str, str], body: bytes) -> payments.NotificationOutcome:
    with shop.container.uow(Actor.system("gateway:sandbox")) as uow:
        outcome = orders.receive_notification(uow, shop.gateway, headers=headers, body=body)
        uow.commit()
        return outcome


def test_captured_notification_marks_the_order_paid_once(shop: Shop) -> None:
    order_id = shop.place(("MUG", 1))
    note = _captured_notification(shop, order_id)
    outcome = _receive(shop, note.headers, note.body)
    assert (outcome.duplicate, outcome.notification.outcome) == (False, "captured")
    order = shop.order(order_id)
    assert (order.status, order.payment_status, order.captured_minor) == ("paid", "paid", 1250)
    before = snapshot(shop.container)
    again = _receive(shop, note.headers, note.body)
    assert again.duplicate
    assert again.notification.id == outcome.notification.id
    assert snapshot(shop.container) == before
    assert len(events(shop.container, "payment.captured")) == 1
    assert count(shop.container, payments.PaymentNotification) == 1


def test_tampered_notification_is_refused_and_stores_nothing(shop: Shop) -> None:
    order_id = shop.place(("MUG", 1))
    note = _captured_notification(shop, order_id)
    before = snapshot(shop.container)
    forged = note.body.replace(b'"amount_minor":1250', b'"amount_minor":1')
    assert forged != note.body
    for headers, body in (
        (note.headers, forged),
        ({**note.headers, "x-gateway-signature": "v1=" + "0" * 64}, note.body),
        ({}, note.body),
    ):
        with pytest.raises(payments.InvalidSignature) as caught:
            _receive(shop, headers, body)
        assert caught.value.code == "payments.invalid_signature"
    assert snapshot(shop.container) == before
    assert count(shop.container, payments.PaymentNotification) == 0
    _receive(shop, note.headers, note.body)  # the genuine one still works
    assert shop.order(order_id).payment_status == "paid"


def test_refund_notification_settles_a_stuck_refund(frozen: tuple[Shop, FrozenClock]) -> None:
    shop, _ = frozen
    order_id = shop.place(("MUG", 1))
    shop.pay(order_id)
    shop.sandbox.take_notifications()
    shop.sandbox.configure(lose_response=frozenset({Operation.REFUND}))
    assert shop.refund(order_id, amount_minor=250).status == "requested"
    [note] = shop.sandbox.take_notifications()
    outcome = _receive(shop, note.headers, note.body)
    assert outcome.refund is not None
    assert outcome.refund.status == "succeeded"
    assert shop.order(order_id).refunded_minor == 250
    assert _run_retry_job(shop.container) == 0


@pytest.mark.postgres_only
def test_concurrent_refunds_never_exceed_what_was_captured(make_container: Any) -> None:
    shop = open_shop(make_container(outbox_inline=False, database_pool_size=30))
    shop.container.payment_gateway = shop.sandbox  # the pool guard cannot tell threads apart
    order_id = shop.place(("TEE", 2), ("MUG", 1))
    shop.pay(order_id)
    start = threading.Barrier(20)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def attempt(_: int) -> None:
        start.wait(timeout=30)
        try:
            result = shop.refund(order_id, amount_minor=1000).status
        except DomainError as error:
            result = error.code
        with lock:
            outcomes[result] += 1

    with ThreadPoolExecutor(max_workers=20) as pool:
        list(pool.map(attempt, range(20)))
    assert outcomes == Counter({"succeeded": 5, "payments.refund_exceeds_captured": 15})
    order = shop.order(order_id)
    assert order.refunded_minor == 5000
    assert sum(line.refunded_minor for line in shop.lines(order_id)) == 5000
    with shop.container.uow(SYSTEM) as uow:
        [payment] = payments.payments_of_order(uow.session, order_id)
        assert (payment.refunded_minor, payment.refund_pending_minor) == (5000, 0)

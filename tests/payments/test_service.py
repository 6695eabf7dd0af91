"""The payments context's building blocks, without the gateway flow around them."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select

from shopops.adapters.payments import GatewayResult, Operation, ResultStatus
from shopops.auth.permissions import Role, permissions_for
from shopops.bootstrap import Container
from shopops.contexts import payments
from shopops.kernel.errors import DomainError, PermissionDenied, ValidationFailed
from shopops.kernel.events import Actor
from tests.commerce import SYSTEM
from tests.payments.shop import Shop, count, events, open_shop, snapshot


@pytest.fixture
def shop(container: Container) -> Shop:
    return open_shop(container)


def captured_payment(shop: Shop, amount: int = 5250) -> int:
    order_id = shop.place(("TEE", 2), ("MUG", 1))
    with shop.container.uow(SYSTEM) as uow:
        payment = payments.start_payment(
            uow,
            payments.StartPayment(order_id, amount, "USD", "card", "sandbox", f"k-{order_id}"),
        )
        assert payments.record_capture(
            uow, payment, reference=f"ch_{order_id}", amount_minor=amount, fee_minor=10
        )
        uow.commit()
        return payment.id


def reserve(shop: Shop, payment_id: int, amount: int, key: str) -> payments.Refund:
    with shop.container.uow(SYSTEM) as uow:
        payment = payments.get_payment(uow, payment_id)
        refund = payments.reserve_refund(
            uow, payments.RequestRefund(payment_id, payment.order_id, amount, "test", key)
        )
        uow.commit()
        return refund


def settle(shop: Shop, refund_id: int, status: ResultStatus) -> payments.Refund | None:
    result = GatewayResult(Operation.REFUND, status, f"re_{refund_id}", 0, "USD")
    with shop.container.uow(SYSTEM) as uow:
        settled = payments.settle_refund(uow, refund_id, result)
        uow.commit()
        return settled


def payment_counters(shop: Shop, payment_id: int) -> tuple[str, int, int, int]:
    with shop.container.uow(SYSTEM) as uow:
        p = payments.get_payment(uow, payment_id)
        return p.status, p.captured_minor, p.refunded_minor, p.refund_pending_minor


def test_start_payment_validates_and_stores_nothing_when_refused(shop: Shop) -> None:
    order_id = shop.place(("MUG", 1))
    before = snapshot(shop.container)
    for method, amount, code in (
        ("cheque", 100, "payments.invalid_method"),
        ("card", 0, "payments.invalid_amount"),
    ):
        with shop.container.uow(SYSTEM) as uow, pytest.raises(ValidationFailed) as caught:
            payments.start_payment(
                uow, payments.StartPayment(order_id, amount, "USD", method, "sandbox", "k")
            )
        assert caught.value.code == code
    assert snapshot(shop.container) == before


def test_capture_is_recorded_once(shop: Shop) -> None:
    payment_id = captured_payment(shop)
    with shop.container.uow(SYSTEM) as uow:
        payment = payments.get_payment(uow, payment_id, for_update=True)
        assert not payments.record_capture(
            uow, payment, reference="other", amount_minor=1, fee_minor=1
        )
        uow.commit()
    assert payment_counters(shop, payment_id) == ("captured", 5250, 0, 0)
    assert len(events(shop.container, "payment.captured")) == 1


def test_refund_counters_move_through_the_conditional_update(shop: Shop) -> None:
    payment_id = captured_payment(shop)
    first = reserve(shop, payment_id, 5000, "r1")
    assert payment_counters(shop, payment_id) == ("captured", 5250, 0, 5000)
    with pytest.raises(DomainError) as caught:
        reserve(shop, payment_id, 251, "r2")
    assert caught.value.code == "payments.refund_exceeds_captured"
    assert caught.value.details == {"requested_minor": 251, "refundable_minor": 250}
    assert count(shop.container, payments.Refund) == 1

    settled = settle(shop, first.id, ResultStatus.REFUNDED)
    assert settled is not None
    assert settled.status == "succeeded"
    assert payment_counters(shop, payment_id) == ("partially_refunded", 5250, 5000, 0)
    assert settle(shop, first.id, ResultStatus.REFUNDED) is None  # already settled
    assert payment_counters(shop, payment_id) == ("partially_refunded", 5250, 5000, 0)

    last = reserve(shop, payment_id, 250, "r3")
    failed = settle(shop, last.id, ResultStatus.FAILED)
    assert failed is not None
    assert failed.status == "failed"
    assert payment_counters(shop, payment_id) == ("partially_refunded", 5250, 5000, 0)
    settle(shop, reserve(shop, payment_id, 250, "r4").id, ResultStatus.REFUNDED)
    assert payment_counters(shop, payment_id) == ("refunded", 5250, 5250, 0)
    assert [e["amount_minor"] for e in events(shop.container, "refund.issued")] == [5000, 250]
    assert [e["refund_id"] for e in events(shop.container, "refund.failed")] == [last.id]


def test_reads_need_payments_read(shop: Shop) -> None:
    captured_payment(shop)
    warehouse = Actor("user", 5, "warehouse", frozenset(map(str, permissions_for(Role.WAREHOUSE))))
    with shop.container.uow(warehouse) as uow, pytest.raises(PermissionDenied):
        payments.list_payments(uow, payments.PaymentFilter())
    with shop.container.uow(warehouse) as uow, pytest.raises(PermissionDenied):
        payments.list_refunds(uow, payments.RefundFilter())
    analyst = Actor("user", 6, "analyst", frozenset(map(str, permissions_for(Role.ANALYST))))
    with shop.container.uow(analyst) as uow:
        assert [p.status for p in payments.list_payments(uow, payments.PaymentFilter())] == [
            "captured"
        ]


def test_unknown_and_unhandled_notifications_are_stored_as_processed(shop: Shop) -> None:
    sandbox = shop.sandbox
    for event_id, event_type, data in (
        ("evt_a", "payment.captured", {"merchant_reference": "payment:999", "amount_minor": 5}),
        ("evt_b", "dispute.opened", {}),
        ("evt_c", "refund.succeeded", {"merchant_reference": "refund:999", "amount_minor": 5}),
    ):
        signed = sandbox.signed({"id": event_id, "type": event_type, "created": 0, "data": data})
        with shop.container.uow(SYSTEM) as uow:
            outcome = payments.handle_notification(
                uow, shop.gateway, headers=signed.headers, body=signed.body
            )
            uow.commit()
        assert outcome.notification.processed_at is not None
    with shop.container.session_factory() as session:
        rows = session.scalars(
            select(payments.PaymentNotification).order_by(payments.PaymentNotification.id)
        ).all()
        assert [(n.event_id, n.outcome, n.signature_valid) for n in rows] == [
            ("evt_a", "unknown_payment", True),
            ("evt_b", "ignored", True),
            ("evt_c", "unknown_refund", True),
        ]


@pytest.mark.postgres_only
def test_concurrent_reservations_never_exceed_captured(make_container: Any) -> None:
    """No order lock here: the conditional UPDATE alone keeps refunds within the capture."""
    shop = open_shop(make_container(outbox_inline=False, database_pool_size=30))
    payment_id = captured_payment(shop)
    start = threading.Barrier(24)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def attempt(number: int) -> None:
        start.wait(timeout=30)
        try:
            reserve(shop, payment_id, 700, f"race-{number}")
            result = "reserved"
        except DomainError as error:
            result = error.code
        with lock:
            outcomes[result] += 1

    with ThreadPoolExecutor(max_workers=24) as pool:
        list(pool.map(attempt, range(24)))
    assert outcomes == Counter({"reserved": 7, "payments.refund_exceeds_captured": 17})
    assert payment_counters(shop, payment_id) == ("captured", 5250, 0, 4900)

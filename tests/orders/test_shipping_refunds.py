"""A paid shipping fee can be refunded: cancelling gives everything back, amounts go to
the lines first and to the fee after, and the books reconcile."""

from __future__ import annotations

import pytest

from shopops.api.schemas.orders import OrderRead
from shopops.api.schemas.payments import RefundRead
from shopops.bootstrap import Container
from shopops.contexts import orders, payments
from shopops.kernel.errors import Conflict
from tests.commerce import SYSTEM
from tests.payments.shop import Shop, open_shop, snapshot
from tests.shipping.conftest import add_rate_table

FEE = 800  # the standard rate in China (tests.shipping.conftest), below its threshold


@pytest.fixture
def shop(container: Container) -> Shop:
    opened = open_shop(container)
    add_rate_table(container)
    return opened


def _paid(shop: Shop, *lines: tuple[str, int]) -> orders.Order:
    order_id = shop.place(*lines)
    shop.pay(order_id)
    order = shop.order(order_id)
    assert order.shipping_minor == FEE
    assert order.captured_minor == order.total_minor == order.subtotal_minor + FEE
    return order


def _mismatches(shop: Shop, order_id: int) -> list[str]:
    """The day's settlement report on the order (everything happened today)."""
    with shop.container.uow(SYSTEM) as uow:
        report = orders.settlement_report(uow, uow.now().date())
    return [m.code for m in report.mismatches if m.order_id == order_id]


def test_cancelling_a_paid_order_refunds_the_shipping_fee_too(shop: Shop) -> None:
    order = _paid(shop, ("TEE", 1), ("MUG", 2))
    _, refund = orders.cancel_and_refund(
        shop.tx(), shop.gateway, order_id=order.id, reason="changed my mind"
    )
    assert refund is not None
    assert refund.status == payments.RefundStatus.SUCCEEDED
    assert refund.amount_minor == order.total_minor
    assert refund.shipping_minor == FEE
    assert sum(part["amount_minor"] for part in refund.lines) == order.total_minor - FEE
    after = shop.order(order.id)
    assert (after.refunded_minor, after.shipping_refunded_minor) == (order.total_minor, FEE)
    assert after.payment_status == "refunded"
    assert [line.refunded_minor for line in shop.lines(order.id)] == [
        line.total_minor for line in shop.lines(order.id)
    ]
    assert _mismatches(shop, order.id) == []
    assert RefundRead.of(refund).shipping == "8.00"


def test_an_amount_goes_to_the_lines_first_then_to_the_fee(shop: Shop) -> None:
    order = _paid(shop, ("TEE", 1))  # 20.00 + 8.00
    first = shop.refund(order.id, amount_minor=1500)
    assert (first.amount_minor, first.shipping_minor) == (1500, 0)
    second = shop.refund(order.id, amount_minor=1000)  # 5.00 left on the line
    assert (second.amount_minor, second.shipping_minor) == (1000, 500)
    before = snapshot(shop.container)
    with pytest.raises(Conflict) as refused:
        shop.refund(order.id, amount_minor=301)  # 3.00 is all that is left
    assert refused.value.code == payments.PaymentError.REFUND_EXCEEDS_CAPTURED
    assert snapshot(shop.container) == before
    last = shop.refund(order.id, amount_minor=300)
    assert last.shipping_minor == 300
    after = shop.order(order.id)
    assert (after.refunded_minor, after.shipping_refunded_minor) == (2800, FEE)
    assert _mismatches(shop, order.id) == []


def test_line_refunds_leave_the_fee_and_the_fee_alone_can_follow(shop: Shop) -> None:
    order = _paid(shop, ("TEE", 1))
    (line,) = shop.lines(order.id)
    by_line = shop.refund(order.id, line_amounts={line.id: 2000})
    assert by_line.shipping_minor == 0
    fee = shop.refund(order.id, amount_minor=FEE)
    assert (fee.shipping_minor, fee.lines) == (FEE, [])
    with shop.container.uow(SYSTEM) as uow:
        detail = orders.order_detail(uow, order.id)
        contact = orders.order_contact(uow, detail.order)
        read = OrderRead.of_detail(detail, contact)
    assert (read.refunded, read.shipping_refunded) == ("28.00", "8.00")
    assert _mismatches(shop, order.id) == []

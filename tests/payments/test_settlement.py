"""The daily settlement: hand-computed totals for a store in Shanghai, then every mismatch."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from shopops.adapters.payments import Operation
from shopops.contexts import orders, payments
from shopops.kernel.errors import PermissionDenied, ValidationFailed
from shopops.kernel.events import Actor
from shopops.kernel.time import FrozenClock
from tests.commerce import SYSTEM
from tests.payments.shop import Shop, open_shop

DAY = date(2026, 3, 10)  # in Asia/Shanghai: 2026-03-09T16:00Z .. 2026-03-10T16:00Z


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def world(make_container: Any) -> tuple[Shop, FrozenClock, dict[str, int]]:
    clock = FrozenClock(at("2026-03-09T15:00"))
    shop = open_shop(make_container(clock=clock, store_timezone="Asia/Shanghai"))
    ids: dict[str, int] = {}
    ids["C"] = shop.place(("MUG", 1))  # paid the day before (23:00 local)
    shop.pay(ids["C"])
    clock.set(at("2026-03-09T17:00"))  # 01:00 local on the 10th
    ids["A"] = shop.place(("TEE", 2), ("MUG", 1))
    shop.pay(ids["A"])
    clock.set(at("2026-03-10T03:00"))
    ids["B"] = shop.place(("TEE", 1))
    shop.pay(ids["B"])
    shop.refund(ids["B"], amount_minor=500)
    shop.refund(ids["C"], amount_minor=1250)
    clock.set(at("2026-03-10T16:30"))  # 00:30 local on the 11th
    ids["D"] = shop.place(("CAP", 1))
    shop.pay(ids["D"])
    shop.refund(ids["A"], amount_minor=300)
    return shop, clock, ids


def report(shop: Shop, day: date = DAY, actor: Actor = SYSTEM) -> orders.SettlementReport:
    with shop.container.uow(actor) as uow:
        return orders.settlement_report(uow, day)


def test_totals_per_business_day_in_the_store_time_zone(world: Any) -> None:
    shop, _, _ = world
    found = report(shop)
    assert (found.timezone, found.start, found.end) == (
        "Asia/Shanghai",
        at("2026-03-09T16:00"),
        at("2026-03-10T16:00"),
    )
    # captured: A 52.50 + B 20.00; refunded: B 5.00 + C 12.50 (C was captured the day before)
    # fees: A 1.82 (2.9% of 52.50 = 1.5225 -> 1.52, + 0.30) + B 0.88 (0.58 + 0.30)
    assert found.totals == [orders.CurrencyTotals("USD", 7250, 1750, 270, 5230, 2, 2)]
    assert found.mismatches == []
    next_day = report(shop, date(2026, 3, 11))
    # D 9.99 captured (fee 0.29 + 0.30), A 3.00 refunded
    assert next_day.totals == [orders.CurrencyTotals("USD", 999, 300, 59, 640, 1, 1)]
    assert report(shop, date(2026, 3, 12)).totals == []


def test_every_mismatch_is_listed(world: Any) -> None:
    shop, clock, ids = world
    clock.set(at("2026-03-10T04:00"))
    ids["E"] = shop.place(("MUG", 1))
    ids["F"] = shop.place(("MUG", 1))
    shop.pay(ids["F"])
    ids["H"] = shop.place(("MUG", 1))
    shop.pay(ids["H"])
    shop.sandbox.configure(unavailable=frozenset({Operation.REFUND}))
    stuck = shop.refund(ids["B"], amount_minor=100)
    assert stuck.status == "requested"
    Order, Payment = orders.Order, payments.Payment
    with shop.container.session_factory() as session, session.begin():

        def change(model: Any, row_id: int, **values: Any) -> None:
            session.execute(update(model).where(model.id == row_id).values(**values))

        change(Order, ids["A"], refunded_minor=Order.refunded_minor + 100)
        change(Order, ids["B"], captured_minor=1999)
        change(Order, ids["E"], payment_status="paid", paid_at=clock.now())
        change(Order, ids["F"], status="cancelled", cancelled_at=clock.now())
        change(Order, ids["H"], total_minor=1000)
        [payment_a] = session.scalars(select(Payment.id).where(Payment.order_id == ids["A"]))
        change(Payment, payment_a, refunded_minor=200)
    found = [
        (m.code, m.order_id, m.expected_minor, m.actual_minor) for m in report(shop).mismatches
    ]
    assert found == [
        ("refunded_differs_from_order", ids["A"], 400, 300),
        ("line_refunds_differ_from_order", ids["A"], 400, 300),
        ("payment_refunds_differ", ids["A"], 200, 300),
        ("captured_differs_from_order", ids["B"], 1999, 2000),
        ("refund_not_settled", ids["B"], None, 100),
        ("paid_without_capture", ids["E"], None, None),
        ("captured_on_ended_order", ids["F"], 0, 1250),
        ("captured_differs_from_total", ids["H"], 1000, 1250),
    ]
    [unsettled] = [m for m in report(shop).mismatches if m.code == "refund_not_settled"]
    assert unsettled.refund_id == stuck.id


def test_day_boundaries_follow_daylight_saving_time() -> None:
    start, end = orders.day_range(date(2026, 3, 8), "America/New_York")
    assert end - start == timedelta(hours=23)
    assert start == at("2026-03-08T05:00")
    with pytest.raises(ValidationFailed) as caught:
        orders.day_range(DAY, "Mars/Olympus")
    assert caught.value.code == "payments.invalid_date"


def test_the_report_needs_payments_read(world: Any) -> None:
    shop, _, _ = world
    with pytest.raises(PermissionDenied):
        report(shop, actor=Actor("user", 1, "warehouse", frozenset({"orders.read"})))


def test_a_range_of_days_is_each_day_s_report(world: Any) -> None:
    """The console reads a week at once: the same reports as asking day by day, and an
    order touched on two days (A: paid on the 10th, refunded on the 11th) on both."""
    shop, _, ids = world
    with shop.container.session_factory() as session, session.begin():
        session.execute(  # a mismatch on A, so both days must list it
            update(orders.Order)
            .where(orders.Order.id == ids["A"])
            .values(refunded_minor=orders.Order.refunded_minor + 100)
        )
    first, last = date(2026, 3, 9), date(2026, 3, 12)
    with shop.container.uow(SYSTEM) as uow:
        together = orders.settlement_reports(uow, first, last)
    one_by_one = [report(shop, first + timedelta(days=n)) for n in range(4)]
    assert together == one_by_one
    assert [r.day for r in together] == [first + timedelta(days=n) for n in range(4)]
    listed = [{m.order_id for m in r.mismatches} for r in together]
    assert ids["A"] in listed[1]
    assert ids["A"] in listed[2]
    assert together[0].totals == [orders.CurrencyTotals("USD", 1250, 0, 66, 1184, 1, 0)]

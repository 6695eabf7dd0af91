"""Presales against the database: offers, the deposit, the balance window, forfeiture."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from shopops.contexts import orders, payments, presales
from shopops.kernel.errors import DomainError, NotFound, PermissionDenied
from shopops.kernel.events import Actor
from tests.commerce import SYSTEM, statement_kinds
from tests.presales.conftest import BALANCE_ENDS, DEPOSIT_ENDS, NOW, Shop, sell


def refused(shop: Shop, call: Any) -> DomainError:
    before = shop.counts()
    with pytest.raises(DomainError) as caught:
        call()
    assert shop.counts() == before  # nothing written
    return caught.value


def test_bad_terms_are_all_reported_and_nothing_is_written(shop: Shop) -> None:
    error = refused(
        shop,
        lambda: shop.presale(
            sku="NOPE",
            deposit_starts_at=DEPOSIT_ENDS,
            balance_ends_at=DEPOSIT_ENDS,
            max_quantity=0,
        ),
    )
    assert sorted((e.field, e.code) for e in error.errors) == [
        ("balance_ends_at", "presales.invalid_window"),
        ("deposit_ends_at", "presales.invalid_window"),
        ("max_quantity", "presales.invalid_quantity"),
        ("sku", "presales.unknown_sku"),
    ]
    error = refused(shop, lambda: shop.presale(deposit="300.00", deposit_worth="40.00"))
    assert sorted((e.field, e.code) for e in error.errors) == [
        ("deposit", "presales.deposit_not_below_price"),
        ("deposit_worth", "presales.worth_below_deposit"),
    ]
    error = refused(shop, lambda: shop.presale(deposit_worth="299.00", price="12.345"))
    assert sorted((e.field, e.code) for e in error.errors) == [("price", "presales.invalid_price")]
    error = refused(shop, lambda: shop.presale(deposit_worth="299.00"))
    assert [(e.field, e.code) for e in error.errors] == [
        ("deposit_worth", "presales.worth_not_below_price")
    ]


def test_deposit_now_balance_in_its_window(shop: Shop) -> None:
    presale = shop.presale()
    order = shop.place(presale, quantity=2)
    # 2 x 299.00 = 598.00; a deposit of 50.00 counts for 100.00: 100.00 off, 498.00 in all
    assert (order.subtotal_minor, order.discount_minor, order.total_minor) == (59800, 10000, 49800)
    assert (order.deposit_minor, order.balance_from, order.balance_due_at) == (
        10000,
        DEPOSIT_ENDS,
        BALANCE_ENDS,
    )
    assert order.pricing["offer"] == {
        "reference": f"presale:{presale}",
        "unit_price_minor": 29900,
        "unit_discount_minor": 5000,
        "deposit_minor": 10000,
        "balance_minor": 39800,
    }
    assert order.payment_due_at == NOW + timedelta(minutes=30)
    assert shop.reserved() == (2, 1)

    deposit = shop.pay(order.id)
    assert (deposit.status, deposit.amount_minor) == ("captured", 10000)
    paid = shop.order(order.id)
    assert (paid.status, paid.payment_status, paid.captured_minor) == (
        "pending_payment",
        "deposit_paid",
        10000,
    )
    assert paid.payment_due_at == BALANCE_ENDS
    assert shop.reserved() == (2, 0)  # held without expiry until the balance is due
    assert shop.timeline(order.id)[-1] == (
        "deposit_paid",
        {
            "deposit_minor": 10000,
            "balance_minor": 39800,
            "balance_from": DEPOSIT_ENDS.isoformat(),
            "balance_due_at": BALANCE_ENDS.isoformat(),
        },
    )
    assert [e["balance_minor"] for e in shop.events("order.deposit_paid")] == [39800]
    # the close job leaves it: its balance is not due yet
    shop.clock.advance(timedelta(hours=1))
    assert shop.run(orders.close_unpaid) == 0

    early = refused(shop, lambda: shop.pay(order.id))
    assert early.code == "orders.balance_not_due"
    assert early.details == {
        "balance_from": DEPOSIT_ENDS.isoformat(),
        "balance_due_at": BALANCE_ENDS.isoformat(),
    }

    shop.clock.set(DEPOSIT_ENDS + timedelta(hours=1))
    balance = shop.pay(order.id)
    assert (balance.status, balance.amount_minor) == ("captured", 39800)
    done = shop.order(order.id)
    assert (done.status, done.payment_status, done.captured_minor) == ("paid", "paid", 49800)
    with shop.container.uow(SYSTEM) as uow:
        for day in (NOW.date(), (DEPOSIT_ENDS + timedelta(hours=1)).date()):
            assert orders.settlement_report(uow, day).mismatches == []


def test_a_balance_not_paid_in_time_forfeits_the_deposit(shop: Shop) -> None:
    presale = shop.presale()
    order = shop.place(presale)
    shop.pay(order.id)
    shop.clock.set(BALANCE_ENDS)
    late = refused(shop, lambda: shop.pay(order.id))
    assert late.code == "orders.balance_overdue"
    assert shop.run(orders.close_unpaid) == 1
    closed = shop.order(order.id)
    assert (closed.status, closed.payment_status) == ("closed", "forfeited")
    assert (closed.captured_minor, closed.refunded_minor, closed.forfeited_minor) == (5000, 0, 5000)
    assert shop.reserved() == (0, 0)
    with shop.container.uow(SYSTEM) as uow:
        assert payments.refunds_of_order(uow.session, order.id) == []
        assert orders.settlement_report(uow, BALANCE_ENDS.date()).mismatches == []
    kinds = [kind for kind, _ in shop.timeline(order.id)]
    assert kinds[-3:] == ["deposit_paid", "status_changed", "deposit_forfeited"]
    assert shop.timeline(order.id)[-1][1] == {
        "forfeited_minor": 5000,
        "balance_due_at": BALANCE_ENDS.isoformat(),
    }
    assert shop.events("order.deposit_forfeited") == [
        {"order_id": order.id, "number": order.number, "forfeited_minor": 5000, "currency": "USD"}
    ]
    # the refund and payment jobs find nothing to send
    assert orders.retry_stuck_refunds(shop.tx(), shop.container.payment_gateway) == 0


def test_an_unpaid_deposit_closes_the_order_like_any_unpaid_order(shop: Shop) -> None:
    order = shop.place(shop.presale())
    shop.clock.advance(timedelta(minutes=31))
    assert shop.run(orders.close_unpaid) == 1
    closed = shop.order(order.id)
    assert (closed.status, closed.payment_status, closed.forfeited_minor) == (
        "closed",
        "unpaid",
        0,
    )
    assert shop.events("order.deposit_forfeited") == []


def test_deposits_are_taken_only_in_the_deposit_window_and_within_limits(shop: Shop) -> None:
    later = shop.presale(deposit_starts_at=NOW + timedelta(hours=1))
    assert refused(shop, lambda: shop.place(later)).code == "presales.not_running"
    presale = shop.presale()
    error = refused(shop, lambda: shop.place(presale, quantity=3))
    assert [(e.field, e.code) for e in error.errors] == [("quantity", "presales.invalid_quantity")]
    assert refused(shop, lambda: shop.place(99)).code == "presales.not_found"
    shop.run(lambda uow: presales.end_offer(uow, presale))
    assert refused(shop, lambda: shop.place(presale)).code == "presales.not_running"
    running = shop.presale()
    shop.clock.set(DEPOSIT_ENDS)
    assert refused(shop, lambda: shop.place(running)).code == "presales.not_running"


def test_the_payment_due_date_never_passes_the_deposit_window(shop: Shop) -> None:
    shop.clock.set(DEPOSIT_ENDS - timedelta(minutes=10))
    order = shop.place(shop.presale(deposit_starts_at=NOW))
    assert order.payment_due_at == DEPOSIT_ENDS


def test_a_presale_order_lists_with_its_presale(shop: Shop) -> None:
    presale = shop.presale()
    first, second = shop.place(presale), shop.place(presale, quantity=2)
    with shop.container.uow(SYSTEM) as uow:
        listed = presales.list_orders(uow, presale)
        assert [o.number for o in listed] == [second.number, first.number]


# --- performance ---------------------------------------------------------------------

DEPOSIT, WORTH, PRICE = 5000, 10000, 29900  # per unit, as in TERMS
NOTHING = presales.PresaleFigures(*([0] * 14))


def test_performance_follows_the_orders_through_both_windows(shop: Shop) -> None:
    presale = shop.presale()
    other = shop.presale(name="Other boots")
    assert shop.performance(presale) == NOTHING
    assert NOTHING.conversion_rate is None
    converted = [shop.place(presale), shop.place(presale, quantity=2)]
    forfeited = [shop.place(presale), shop.place(presale, quantity=2)]
    cancelled, never_paid = shop.place(presale), shop.place(presale)
    elsewhere = shop.place(other)  # another presale's order counts only there
    for order in [*converted, *forfeited, cancelled, elsewhere]:
        shop.pay(order.id)
    shop.cancel(cancelled.id)
    shop.clock.advance(timedelta(minutes=31))
    assert shop.run(orders.close_unpaid) == 1  # never_paid: its deposit was due
    assert shop.order(never_paid.id).status == "closed"
    late = shop.place(presale)  # its deposit is due in 30 minutes
    deposit_units = 1 + 2 + 1 + 2 + 1  # converted, forfeited, cancelled
    deposits = presales.PresaleFigures(
        orders_placed=7,
        awaiting_deposit=1,  # late
        cancelled_before_deposit=1,  # never_paid
        deposits_paid=5,
        deposits_paid_minor=DEPOSIT * deposit_units,
        balances_paid=0,
        balances_paid_minor=0,
        open=4,  # converted and forfeited, whose balance is not due yet
        balance_overdue=0,
        forfeited=0,
        forfeited_minor=0,
        cancelled_after_deposit=1,
        discount_minor=0,
        gmv_minor=0,
    )
    assert shop.performance(presale) == deposits
    assert deposits.conversion_rate == 0.0

    shop.clock.set(DEPOSIT_ENDS + timedelta(hours=1))
    for order in converted:
        shop.pay(order.id)
    shop.clock.set(BALANCE_ENDS)  # the balance window is over; the close job has not run
    converted_units = 1 + 2
    overdue = replace(
        deposits,
        open=0,
        balance_overdue=2,  # the two to be forfeited: the close job has not run yet
        balances_paid=2,
        balances_paid_minor=(PRICE - WORTH) * converted_units,
        discount_minor=(WORTH - DEPOSIT) * converted_units,
        gmv_minor=(PRICE - (WORTH - DEPOSIT)) * converted_units,
    )
    assert shop.performance(presale) == overdue

    shop.cancel(late.id)  # by staff, before its deposit (closed by the job: never_paid)
    assert shop.run(orders.close_unpaid) == 3  # forfeited x2, and elsewhere's
    assert (shop.order(late.id).status, shop.order(late.id).payment_status) == (
        "cancelled",
        "unpaid",
    )
    final = replace(
        overdue,
        awaiting_deposit=0,
        cancelled_before_deposit=2,
        balance_overdue=0,
        forfeited=2,
        forfeited_minor=DEPOSIT * (1 + 2),
    )
    assert shop.performance(presale) == final
    assert final.conversion_rate == 0.4
    # the figures add up: every order in one bucket, every deposit in one outcome
    assert final.orders_placed == (
        final.awaiting_deposit + final.cancelled_before_deposit + final.deposits_paid
    )
    assert final.deposits_paid == (
        final.balances_paid
        + final.open
        + final.balance_overdue
        + final.forfeited
        + final.cancelled_after_deposit
    )
    assert final.gmv_minor == final.balances_paid_minor + DEPOSIT * converted_units
    # the other presale saw only its own order
    assert (shop.performance(other).orders_placed, shop.performance(other).forfeited) == (1, 1)


def test_the_sell_history_of_the_api_and_cli_tests(shop: Shop) -> None:
    figures = shop.performance(sell(shop))
    assert figures == presales.PresaleFigures(
        orders_placed=6,
        awaiting_deposit=0,
        cancelled_before_deposit=1,
        deposits_paid=5,
        deposits_paid_minor=35000,
        balances_paid=2,
        balances_paid_minor=59700,
        open=0,
        balance_overdue=0,
        forfeited=2,
        forfeited_minor=15000,
        cancelled_after_deposit=1,
        discount_minor=15000,
        gmv_minor=74700,
    )


def test_performance_reads_in_two_queries_whatever_the_orders(shop: Shop) -> None:
    empty = shop.presale(name="Empty")
    busy = sell(shop)
    before = shop.counts()
    for presale in (empty, busy):
        seen = statement_kinds(shop.container.engine, lambda p=presale: shop.performance(p))
        assert [s for s in seen if s != "BEGIN"] == ["SELECT", "SELECT"]  # offer, aggregate
    assert shop.counts() == before


def test_performance_needs_promotions_read_and_a_presale(shop: Shop) -> None:
    presale = shop.presale()
    with pytest.raises(NotFound) as missing, shop.container.uow(SYSTEM) as uow:
        presales.offer_performance(uow, presale + 1)
    assert missing.value.code == "presales.not_found"
    clerk = Actor("user", 7, "clerk", frozenset({"orders.read", "orders.write"}))
    with pytest.raises(PermissionDenied) as denied, shop.container.uow(clerk) as uow:
        presales.offer_performance(uow, presale)
    assert denied.value.details == {"permission": "promotions.read"}

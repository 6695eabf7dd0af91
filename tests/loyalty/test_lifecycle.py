"""After earning: expiry by lot, reversal on refunds and cancellation, manual adjustments."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from shopops.audit.models import AuditEntry
from shopops.contexts import loyalty, orders
from shopops.kernel.errors import Conflict, PermissionDenied, ValidationFailed
from shopops.kernel.events import Actor
from tests.loyalty.conftest import NOW, Shop

EARN, REDEEM, EXPIRE, REVERSE, ADJUST = "earn", "redeem", "expire", "reverse", "adjust"
CS_AGENT = Actor("user", 7, "cs@staff", frozenset({"customers.read", "customers.write"}))


def redeem(shop: Shop, customer_id: int, points: int, reference: str) -> loyalty.Redemption:
    return shop.run(lambda uow: loyalty.redeem(uow, customer_id, points, reference, 100_000))


def refund(shop: Shop, order_id: int, amount_minor: int) -> None:
    gateway = shop.container.payment_gateway
    orders.refund_order(
        shop.tx(), gateway, order_id=order_id, reason="r", amount_minor=amount_minor
    )


def lot_ids(shop: Shop, customer_id: int) -> list[int]:
    with shop.container.uow(Actor.system()) as uow:
        entries = loyalty.list_ledger(uow, customer_id, limit=500)
        return sorted(e.id for e in entries if e.points > 0)


# ---- expiry ----


def test_expiry_takes_what_is_left_of_each_lot_when_its_time_comes(shop: Shop) -> None:
    buyer = shop.customer()
    shop.buy(buyer, ("TEE", 1))  # 20 points, expiring NOW + 12 months
    shop.clock.advance(timedelta(days=61))
    shop.buy(buyer, ("MUG", 4))  # 50 points, two months later
    redeem(shop, buyer, 5, "SO-A")
    first, second = lot_ids(shop, buyer)
    expire = shop.container.make_scheduler("test").jobs["loyalty.expire_points"].run

    shop.clock.set(NOW.replace(year=2027) - timedelta(seconds=1))
    assert expire() == loyalty.ExpiryRun(0, 0)
    shop.clock.set(NOW.replace(year=2027))
    assert expire() == loyalty.ExpiryRun(1, 15)
    assert expire() == loyalty.ExpiryRun(0, 0)
    assert shop.ledger(buyer)[-1] == (EXPIRE, -15, None, first)
    assert shop.balance(buyer) == 50
    assert shop.events("points.expired") == [
        {"customer_id": buyer, "points": 15, "balance": 35 + 15, "lot_ids": [first]}
    ]
    shop.clock.advance(timedelta(days=70))
    assert expire() == loyalty.ExpiryRun(1, 50)
    assert shop.ledger(buyer)[-1] == (EXPIRE, -50, None, second)
    assert shop.balance(buyer) == 0
    shop.books_agree(buyer)


def test_points_never_expire_when_the_program_says_so(shop: Shop) -> None:
    shop.program(expiry_months=0)
    buyer = shop.customer()
    shop.buy(buyer, ("TEE", 1))
    shop.clock.advance(timedelta(days=3650))
    assert shop.run(loyalty.expire_due) == loyalty.ExpiryRun(0, 0)
    assert shop.account(buyer).next_expiry_at is None
    assert shop.balance(buyer) == 20


# ---- refunds and cancellations ----


def test_refunds_reverse_points_in_proportion(shop: Shop) -> None:
    buyer = shop.customer()
    order = shop.place(buyer, ("TEE", 2), ("MUG", 1))  # 52.50: 52 points
    shop.pay(order.id)
    assert shop.balance(buyer) == 52
    refund(shop, order.id, 2625)
    assert shop.balance(buyer) == 26
    refund(shop, order.id, 1000)
    assert shop.balance(buyer) == 26 - 9  # 52 x 36.25/52.50 = 35.9 -> 35 in all
    refund(shop, order.id, 5250 - 3625)
    assert shop.balance(buyer) == 0
    reversed_events = shop.events("points.reversed")
    assert [(e["points"], e["forgiven"], e["balance"]) for e in reversed_events] == [
        (26, 0, 26),
        (9, 0, 17),
        (17, 0, 0),
    ]
    assert all(e["cause"].startswith("refund:") for e in reversed_events)
    assert shop.failed_deliveries() == []
    shop.books_agree(buyer)


def test_a_refund_never_takes_the_balance_below_zero(shop: Shop) -> None:
    buyer = shop.customer()
    order = shop.place(buyer, ("TEE", 2), ("MUG", 1))
    shop.pay(order.id)
    redeem(shop, buyer, 40, "SO-OTHER")
    refund(shop, order.id, 5250)
    assert shop.balance(buyer) == 0
    [reversal] = shop.events("points.reversed")
    assert (reversal["points"], reversal["forgiven"]) == (12, 40)
    # a repeated event changes nothing
    shop.run(lambda uow: loyalty.reverse_for_refund(uow, order.id, refund_id=1))
    assert len(shop.events("points.reversed")) == 1
    shop.books_agree(buyer)


def test_cancelling_gives_back_redeemed_points_and_takes_back_earned_ones(shop: Shop) -> None:
    buyer = shop.customer()
    shop.buy(buyer, ("TEE", 1))  # 20 points
    paid = shop.buy(buyer, ("MUG", 4))  # 50 points
    pending = shop.place(buyer, ("CAP", 3))
    redeem(shop, buyer, 25, pending.number)  # 20 from the first lot, 5 from the second
    assert shop.balance(buyer) == 45
    first, second = lot_ids(shop, buyer)

    shop.run(lambda uow: orders.cancel_order(uow, pending.id, reason="changed mind"))
    assert shop.balance(buyer) == 70
    assert shop.ledger(buyer)[-2:] == [(REVERSE, 20, 20, None), (REVERSE, 5, 5, None)]
    restored = _entries(shop, buyer)[-2:]
    with shop.container.uow(Actor.system()) as uow:
        origin = {e.id: e.expires_at for e in loyalty.list_ledger(uow, buyer, limit=500)}
    assert [e.expires_at for e in restored] == [origin[first], origin[second]]
    assert shop.events("points.restored") == [
        {"customer_id": buyer, "points": 25, "balance": 70, "order_reference": pending.number}
    ]

    shop.run(lambda uow: orders.cancel_order(uow, paid.id, reason="out of stock"))
    assert shop.balance(buyer) == 20
    assert shop.events("points.reversed")[-1]["cause"] == "cancellation"
    shop.run(lambda uow: loyalty.reverse_for_cancellation(uow, pending.id))  # again: no change
    assert shop.balance(buyer) == 20
    assert shop.failed_deliveries() == []
    shop.books_agree(buyer)


def _entries(shop: Shop, customer_id: int) -> list[loyalty.PointsEntry]:
    with shop.container.uow(Actor.system()) as uow:
        rows = list(reversed(loyalty.list_ledger(uow, customer_id, limit=500)))
        uow.session.expunge_all()
        return rows


# ---- manual adjustments ----


def test_manual_adjustments_are_audited_with_their_reason(shop: Shop) -> None:
    buyer = shop.customer()
    view = shop.run(
        lambda uow: loyalty.adjust_points(uow, loyalty.AdjustPoints(buyer, 100, "goodwill"))
    )
    assert view.balance == 100
    view = shop.run(
        lambda uow: loyalty.adjust_points(uow, loyalty.AdjustPoints(buyer, -30, "correction"))
    )
    assert view.balance == 70
    [lot] = lot_ids(shop, buyer)
    assert shop.ledger(buyer) == [(ADJUST, 100, 70, None), (ADJUST, -30, None, lot)]
    with shop.container.session_factory() as session:
        audits = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "loyalty.points_adjusted")
        ).all()
        assert len(audits) == 2
    assert [e["reason"] for e in shop.events("points.adjusted")] == ["goodwill", "correction"]


def test_bad_adjustments_change_nothing(shop: Shop) -> None:
    buyer, newcomer = shop.customer(), shop.customer()
    shop.buy(buyer, ("TEE", 1))
    before = shop.snapshot()

    def adjust(
        points: int, reason: str, actor: Actor = Actor.system(), customer_id: int = buyer
    ) -> None:
        command = loyalty.AdjustPoints(customer_id, points, reason)
        shop.run(lambda uow: loyalty.adjust_points(uow, command), actor)

    with pytest.raises(Conflict) as insufficient:
        adjust(-21, "too much")
    assert insufficient.value.code == "loyalty.insufficient_points"
    with pytest.raises(Conflict) as no_account:
        adjust(-1, "nothing to take", customer_id=newcomer)
    assert no_account.value.details == {"requested": 1, "balance": 0}
    with pytest.raises(ValidationFailed) as invalid:
        adjust(0, "  ")
    assert [(e.field, e.code) for e in invalid.value.errors] == [
        ("points", "loyalty.invalid_points"),
        ("reason", "loyalty.reason_required"),
    ]
    with pytest.raises(PermissionDenied):
        adjust(5, "not allowed", CS_AGENT)
    with pytest.raises(Exception) as missing:
        shop.run(lambda uow: loyalty.adjust_points(uow, loyalty.AdjustPoints(999, 5, "x")))
    assert getattr(missing.value, "code", None) == "loyalty.customer_not_found"
    assert shop.snapshot() == before

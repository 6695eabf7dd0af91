"""Points on a real database: earning through the outbox, quotes and redemption."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shopops.contexts import loyalty
from shopops.kernel.errors import Conflict, Unprocessable, ValidationFailed
from tests.commerce import SYSTEM
from tests.loyalty.conftest import NOW, Shop

EARN, REDEEM = "earn", "redeem"


def redeem(
    shop: Shop, customer_id: int, points: int, reference: str, total: int = 100_000
) -> loyalty.Redemption:
    return shop.run(lambda uow: loyalty.redeem(uow, customer_id, points, reference, total))


# ---- earning ----


def test_paying_an_order_credits_points_through_the_outbox(shop: Shop) -> None:
    buyer = shop.customer()
    order = shop.buy(buyer, ("TEE", 2), ("MUG", 1))
    assert order.total_minor == 5250
    assert shop.ledger(buyer) == [(EARN, 52, 52, None)]
    account = shop.account(buyer)
    assert (account.balance, account.value_minor, account.currency) == (52, 52, "USD")
    assert (account.next_expiry_at, account.next_expiry_points) == (NOW.replace(year=2027), 52)
    [earned] = shop.events("points.earned")
    assert earned == {
        "customer_id": buyer,
        "points": 52,
        "balance": 52,
        "order_id": order.id,
        "order_reference": order.number,
        "base_points": 52,
        "multipliers": [],
        "expires_at": "2027-03-01T08:00:00+00:00",
    }
    assert shop.failed_deliveries() == []
    shop.books_agree(buyer)


def test_an_order_is_credited_once(shop: Shop) -> None:
    buyer = shop.customer()
    order = shop.buy(buyer, ("TEE", 1))
    again = shop.run(
        lambda uow: loyalty.earn_for_order(
            uow, order.id, trigger=loyalty.CreditOn.PAID, earned_at=NOW
        )
    )
    assert again is None
    assert shop.balance(buyer) == 20


def test_guests_earn_nothing(shop: Shop) -> None:
    shop.buy(None, ("TEE", 3))
    assert shop.snapshot()["accounts"] == []
    assert shop.failed_deliveries() == []


def test_credit_on_delivery_waits_for_the_delivery(shop: Shop) -> None:
    shop.program(credit_on="delivered")
    buyer = shop.customer()
    order = shop.buy(buyer, ("TEE", 2))
    assert shop.balance(buyer) == 0
    shop.deliver(order.id)
    assert shop.ledger(buyer) == [(EARN, 40, 40, None)]
    assert shop.failed_deliveries() == []


def test_tier_multiplier_and_the_best_campaign_apply(shop: Shop) -> None:
    shop.tiers(loyalty.TierSpec("gold", "Gold", 0, points_multiplier_percent=150))
    buyer = shop.customer()
    shop.run(loyalty.recalculate_tiers)  # nothing spent: not tiered yet
    shop.buy(buyer, ("CAP", 1))
    shop.run(loyalty.recalculate_tiers)
    assert shop.account(buyer).tier_code == "gold"
    for multiplier in (150, 200):
        shop.run(
            lambda uow, m=multiplier: loyalty.create_campaign(
                uow,
                loyalty.CreateCampaign(
                    f"x{m}", m, NOW - timedelta(days=1), NOW + timedelta(days=1)
                ),
            )
        )
    order = shop.buy(buyer, ("TEE", 2), ("MUG", 1))  # 52.50 x 1.5 x 2 = 157.5
    earned = shop.events("points.earned")[-1]
    assert (earned["order_id"], earned["base_points"], earned["multipliers"], earned["points"]) == (
        order.id,
        52,
        [150, 200],
        157,
    )


def test_orders_in_another_currency_earn_nothing(shop: Shop) -> None:
    shop.program(currency="EUR")
    buyer = shop.customer()
    shop.buy(buyer, ("TEE", 1))
    assert shop.balance(buyer) == 0
    assert shop.failed_deliveries() == []


# ---- redemption ----


def test_quote_applies_the_balance_and_the_cap(shop: Shop) -> None:
    shop.program(point_value_minor=10, redemption_cap_percent=20)
    buyer = shop.customer()
    shop.buy(buyer, ("TEE", 5))  # 100 points

    def quote(requested: int, total: int) -> tuple[int, int]:
        return shop.run(lambda uow: loyalty.quote_redemption(uow, buyer, requested, total))

    assert quote(500, 100_000) == (100, 1000)  # the balance
    assert quote(500, 2_000) == (40, 400)  # 20% of 20.00 is 4.00: 40 points of 0.10
    assert quote(7, 100_000) == (7, 70)
    assert shop.run(lambda uow: loyalty.quote_redemption(uow, 999, 5, 1000)) == (0, 0)
    eur = shop.run(lambda uow: loyalty.quote_redemption(uow, buyer, 5, 1000, currency="eur"))
    assert eur == (0, 0)
    with pytest.raises(ValidationFailed):
        quote(-1, 100)


def test_redemption_draws_the_oldest_lots_first(shop: Shop) -> None:
    buyer = shop.customer()
    shop.buy(buyer, ("TEE", 1))  # 20 points
    shop.clock.advance(timedelta(days=3))
    shop.buy(buyer, ("MUG", 4))  # 50 points
    result = redeem(shop, buyer, 30, "SO-CHECKOUT-1")
    assert (result.points, result.value_minor, result.balance) == (30, 30, 40)
    first_lot, second_lot = [e.id for e in _entries(shop, buyer) if e.kind == EARN]
    assert shop.ledger(buyer) == [
        (EARN, 20, 0, None),
        (EARN, 50, 40, None),
        (REDEEM, -20, None, first_lot),
        (REDEEM, -10, None, second_lot),
    ]
    assert shop.events("points.redeemed") == [
        {
            "customer_id": buyer,
            "points": 30,
            "value_minor": 30,
            "currency": "USD",
            "balance": 40,
            "order_reference": "SO-CHECKOUT-1",
        }
    ]
    shop.books_agree(buyer)


def _entries(shop: Shop, customer_id: int) -> list[loyalty.PointsEntry]:
    with shop.container.uow(SYSTEM) as uow:
        rows = list(reversed(loyalty.list_ledger(uow, customer_id, limit=500)))
        uow.session.expunge_all()
        return rows


def test_redeeming_more_than_the_balance_is_refused_and_changes_nothing(shop: Shop) -> None:
    buyer = shop.customer()
    shop.buy(buyer, ("TEE", 1))  # 20 points
    before = shop.snapshot()
    with pytest.raises(Conflict) as caught:
        redeem(shop, buyer, 21, "SO-X")
    assert caught.value.code == "loyalty.insufficient_points"
    assert caught.value.details == {"requested": 21, "balance": 20}
    assert shop.snapshot() == before
    stranger = shop.customer()
    with pytest.raises(Conflict) as caught:
        redeem(shop, stranger, 1, "SO-X")
    assert caught.value.details == {"requested": 1, "balance": 0}


def test_redeeming_above_the_cap_or_nothing_is_refused(shop: Shop) -> None:
    buyer = shop.customer()
    shop.buy(buyer, ("TEE", 5))  # 100 points
    before = shop.snapshot()
    with pytest.raises(Unprocessable) as caught:
        redeem(shop, buyer, 51, "SO-X", total=100)  # 50% of 1.00 is 50 points of 0.01
    assert caught.value.code == "loyalty.redemption_cap_exceeded"
    assert caught.value.details == {"requested": 51, "cap_points": 50}
    with pytest.raises(ValidationFailed) as invalid:
        redeem(shop, buyer, 0, "  ")
    assert sorted(e.field for e in invalid.value.errors) == ["order_reference", "points"]
    with pytest.raises(Unprocessable) as other_currency:
        shop.run(lambda uow: loyalty.redeem(uow, buyer, 5, "SO-X", 10_000, currency="JPY"))
    assert other_currency.value.code == "loyalty.currency_mismatch"
    assert shop.snapshot() == before

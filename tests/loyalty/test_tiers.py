"""Tiers by rolling 12-month spend, recalculated by the scheduled job on a frozen clock."""

from __future__ import annotations

from datetime import timedelta

from shopops.contexts import customers, loyalty, orders
from shopops.kernel.events import Actor
from tests.loyalty.conftest import NOW, Shop

LADDER = (
    loyalty.TierSpec("bronze", "Bronze", 0),
    loyalty.TierSpec("silver", "Silver", 10_000, 2, False, 125),
    loyalty.TierSpec("gold", "Gold", 50_000, 5, True, 150),
)


def tier_of(shop: Shop, customer_id: int) -> str | None:
    with shop.container.uow(Actor.system()) as uow:
        return customers.get_customer(uow, customer_id).tier


def test_tiers_follow_the_rolling_twelve_month_spend(shop: Shop) -> None:
    shop.tiers(*LADDER)
    recalculate = shop.container.make_scheduler("test").jobs["loyalty.recalculate_tiers"].run
    big, steady, idle = shop.customer(), shop.customer(), shop.customer()
    shop.buy(big, ("TEE", 30))  # 600.00
    shop.buy(steady, ("TEE", 6))  # 120.00
    shop.buy(None, ("TEE", 50))  # a guest: no tier

    assert recalculate() == loyalty.TierRecalculation(2, 2, 0)
    assert (tier_of(shop, big), tier_of(shop, steady), tier_of(shop, idle)) == (
        "gold",
        "silver",
        None,
    )
    account = shop.account(big)
    assert (account.tier, account.tier_since, account.spend_12m_minor) == (LADDER[2], NOW, 60_000)

    shop.clock.advance(timedelta(days=180))
    # 400.00 more, less the silver member's 2 % (8.00): 512.00 in the window
    order = shop.buy(steady, ("TEE", 20))
    assert (order.discount_minor, order.pricing["applied"][0]["name"]) == (
        800,
        "Silver member 2% off",
    )
    assert recalculate() == loyalty.TierRecalculation(2, 1, 0)
    assert tier_of(shop, steady) == "gold"

    shop.clock.set(NOW.replace(year=2027) + timedelta(days=1))  # the first orders leave the window
    assert recalculate() == loyalty.TierRecalculation(2, 0, 2)
    assert (tier_of(shop, big), tier_of(shop, steady)) == ("bronze", "silver")
    assert shop.account(steady).spend_12m_minor == 39_200

    changes = [
        (e["customer_id"], e["from_tier"], e["to_tier"], e["direction"], e["spend_minor"])
        for e in shop.events("tier.changed")
    ]
    assert changes == [
        (big, None, "gold", "upgrade", 60_000),
        (steady, None, "silver", "upgrade", 12_000),
        (steady, "silver", "gold", "upgrade", 51_200),
        (big, "gold", "bronze", "downgrade", 0),
        (steady, "gold", "silver", "downgrade", 39_200),
    ]
    assert shop.run(lambda uow: loyalty.recalculate_tiers(uow)) == loyalty.TierRecalculation(
        2, 0, 0
    )


def test_tier_benefits_for_pricing(shop: Shop) -> None:
    shop.tiers(*LADDER)
    buyer = shop.customer()
    assert shop.run(lambda uow: loyalty.tier_benefits(uow, buyer)) is None
    shop.buy(buyer, ("TEE", 30))
    shop.run(loyalty.recalculate_tiers)
    gold = shop.run(lambda uow: loyalty.tier_benefits(uow, buyer))
    assert (gold.discount_percent, gold.free_shipping, gold.points_multiplier_percent) == (
        5,
        True,
        150,
    )


def test_a_cancelled_order_does_not_count(shop: Shop) -> None:
    shop.tiers(*LADDER)
    buyer = shop.customer()
    order = shop.buy(buyer, ("TEE", 30))
    shop.run(lambda uow: orders.cancel_order(uow, order.id, reason="fraud"))
    assert shop.run(loyalty.recalculate_tiers) == loyalty.TierRecalculation(0, 0, 0)
    assert tier_of(shop, buyer) is None

"""Orders of loyalty members get their tier's discount: in the total, the lines and the
stored breakdown, alone or in a checkout batch (the ladder read once), never recorded as
a promotion redemption, and refunded line by line net of it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, func, select

from shopops.contexts import loyalty, orders, promotions
from shopops.contexts.customers.models import Customer
from shopops.kernel.errors import DomainError
from shopops.kernel.time import FrozenClock
from tests.commerce import ADDRESS, add_warehouse
from tests.promotions.conftest import NOW, SYSTEM, Shop, build_shop

MEMBER = promotions.MEMBER_DISCOUNT_ID
GOLD_APPLIED = {
    "promotion_id": MEMBER,
    "name": "Gold member 3% off",
    "kind": "member_discount",
    "level": "order",
    "coupon_code": None,
    "units": 0,
}


@pytest.fixture
def shop(make_container: Any) -> Shop:
    built = build_shop(make_container(clock=FrozenClock(NOW)))
    add_warehouse(built.container, "SH1", stock={"TEE": 50, "SHOE": 10, "BAG": 10, "MUG": 10})
    with built.container.uow(SYSTEM) as uow:
        loyalty.replace_tiers(
            uow,
            loyalty.ReplaceTiers(
                (
                    loyalty.TierSpec("bronze", "Bronze", 0),
                    loyalty.TierSpec("gold", "Gold", 500_000, discount_percent=3),
                )
            ),
        )
        customer = Customer(tags=[], tier="bronze", source_channel="web", registered_at=NOW)
        uow.session.add(customer)
        uow.session.flush()
        built.ids["customer:bronze"] = customer.id
        uow.commit()
    return built


def order_for(
    shop: Shop, *lines: tuple[str, int], customer: str | None = None
) -> orders.PlaceOrder:
    return orders.PlaceOrder(
        lines=tuple(orders.OrderLineRequest(sku, q) for sku, q in lines),
        shipping_address=ADDRESS,
        channel="web",
        customer_id=shop.ids[f"customer:{customer}"] if customer else None,
        guest=None if customer else orders.GuestContact("guest@example.com", "Guest"),
        shipping_method="standard",
    )


def place(shop: Shop, command: orders.PlaceOrder) -> orders.Order:
    with shop.container.uow(SYSTEM) as uow:
        order = orders.place_order(uow, command)
        uow.commit()
        return order


def stored(shop: Shop, order_id: int) -> tuple[dict[str, Any], list[tuple[str, int, int]]]:
    with shop.container.uow(SYSTEM) as uow:
        order = orders.get_order(uow, order_id)
        lines = [
            (line.sku, line.discount_minor, line.total_minor)
            for line in orders.lines_of(uow.session, order_id)
        ]
        return dict(order.pricing), lines


def redemption_rows(shop: Shop) -> int:
    with shop.container.session_factory() as session:
        return int(
            session.scalar(select(func.count()).select_from(promotions.PromotionRedemption)) or 0
        )


@contextmanager
def ladder_reads(shop: Shop) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        statement = str(args[2])
        if "FROM loyalty_tiers" in statement:
            seen.append(statement)

    engine = shop.container.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_batch_gives_the_gold_member_the_tier_discount_and_reads_the_ladder_once(
    shop: Shop,
) -> None:
    cart = (("TEE", 2), ("BAG", 1))  # 200.00 + 200.00
    requests = [
        orders.PlacementRequest(order_for(shop, *cart, customer=who), SYSTEM)
        for who in ("gold", "bronze", "plain", None, "gold")
    ]
    with ladder_reads(shop) as reads, shop.container.uow(SYSTEM) as uow:
        results = orders.place_orders(uow, requests)
        uow.commit()
    assert len(reads) == 1
    placed = [r for r in results if isinstance(r, orders.PlacedOrder)]
    assert len(placed) == 5
    assert [(r.discount_minor, r.total_minor) for r in placed] == [
        (1200, 38800),  # gold: 3 % of 400.00
        (0, 40000),  # bronze: a tier without a discount
        (0, 40000),  # no tier
        (0, 40000),  # a guest
        (1200, 38800),
    ]
    pricing, lines = stored(shop, placed[0].id)
    assert pricing["applied"] == [{**GOLD_APPLIED, "discount_minor": 1200}]
    assert pricing["order_discounts"] == [{"promotion_id": MEMBER, "amount_minor": 1200}]
    assert [line["discounts"] for line in pricing["lines"]] == [
        [{"promotion_id": MEMBER, "amount_minor": 600, "level": "order"}],
        [{"promotion_id": MEMBER, "amount_minor": 600, "level": "order"}],
    ]
    assert (pricing["discount_minor"], pricing["total_minor"]) == (1200, 38800)
    assert lines == [("TEE", 600, 19400), ("BAG", 600, 19400)]
    assert stored(shop, placed[1].id)[0]["applied"] == []
    assert redemption_rows(shop) == 0  # the member discount has no promotion row


def test_a_guest_batch_does_not_read_the_ladder(shop: Shop) -> None:
    with ladder_reads(shop) as reads, shop.container.uow(SYSTEM) as uow:
        results = orders.place_orders(
            uow, [orders.PlacementRequest(order_for(shop, ("TEE", 1)), SYSTEM)]
        )
        uow.commit()
    assert reads == []
    assert [r.total_minor for r in results if isinstance(r, orders.PlacedOrder)] == [10000]


def test_the_member_discount_compounds_with_promotions_that_are_redeemed_alone(
    shop: Shop,
) -> None:
    ten = shop.create({"name": "Ten", "kind": "percentage", "params": {"percent": 10}})
    order = place(shop, order_for(shop, ("TEE", 2), ("BAG", 1), customer="gold"))
    # 10 % (40.00), then 3 % of the 360.00 left (10.80)
    assert (order.discount_minor, order.total_minor) == (5080, 34920)
    assert [(a["promotion_id"], a["discount_minor"]) for a in order.pricing["applied"]] == [
        (ten, 4000),
        (MEMBER, 1080),
    ]
    assert stored(shop, order.id)[1] == [("TEE", 2540, 17460), ("BAG", 2540, 17460)]
    with shop.container.session_factory() as session:
        rows = session.execute(
            select(
                promotions.PromotionRedemption.promotion_id,
                promotions.PromotionRedemption.discount_minor,
            )
        ).all()
    assert [tuple(row) for row in rows] == [(ten, 4000)]
    assert shop.run(promotions.promotion_performance, ten).redemptions == 1
    with shop.container.uow(SYSTEM) as uow:
        orders.cancel_order(uow, order.id, reason="changed mind")
        uow.commit()
    assert shop.run(promotions.promotion_performance, ten).redemptions == 0


def test_an_exclusive_promotion_worth_more_replaces_the_member_discount(shop: Shop) -> None:
    exclusive = shop.create(
        {
            "name": "Exclusive 20 off",
            "kind": "fixed_amount",
            "currency": "CNY",
            "params": {"amount": "20"},
            "stacking": {"exclusive": True},
        }
    )
    small = place(shop, order_for(shop, ("TEE", 3), customer="gold"))  # 3 % = 9.00 < 20.00
    large = place(shop, order_for(shop, ("TEE", 10), customer="gold"))  # 3 % = 30.00 > 20.00
    assert [(a["promotion_id"], a["discount_minor"]) for a in small.pricing["applied"]] == [
        (exclusive, 2000)
    ]
    assert [(a["promotion_id"], a["discount_minor"]) for a in large.pricing["applied"]] == [
        (MEMBER, 3000)
    ]
    assert (small.total_minor, large.total_minor) == (28000, 97000)


def test_a_partial_refund_of_a_line_is_net_of_its_share_of_the_member_discount(
    shop: Shop,
) -> None:
    order = place(shop, order_for(shop, ("TEE", 2), ("BAG", 1), customer="gold"))
    orders.pay_order(
        lambda: shop.container.uow(SYSTEM), shop.container.payment_gateway, order_id=order.id
    )
    with shop.container.uow(SYSTEM) as uow:
        tee = orders.lines_of(uow.session, order.id)[0]
        tee_id = tee.id
    # one tee of two: half the line's 194.00, i.e. 100.00 less its 3.00 of the member discount
    with shop.container.uow(SYSTEM) as uow:
        priced = promotions.price_order(
            uow,
            promotions.PricingRequest(
                (promotions.PricingLine("TEE", 2), promotions.PricingLine("BAG", 1)),
                customer_id=shop.ids["customer:gold"],
                member_discounts=orders.member_discounts(uow),
            ),
        )
    share = promotions.refund_units(priced.lines[0], 0, 1)
    assert (share.amount_minor, share.discounts_reversed) == (9700, {MEMBER: 300})
    refund = orders.refund_order(
        lambda: shop.container.uow(SYSTEM),
        shop.container.payment_gateway,
        order_id=order.id,
        reason="one tee back",
        line_amounts={tee_id: share.amount_minor},
    )
    assert (refund.status, refund.amount_minor) == ("succeeded", 9700)
    with shop.container.uow(SYSTEM) as uow:
        assert orders.refundable_by_line(uow, order.id)[tee_id] == 9700
    # the line's paid amount is all there is to refund: not its list price
    with pytest.raises(DomainError) as refused:
        orders.refund_order(
            lambda: shop.container.uow(SYSTEM),
            shop.container.payment_gateway,
            order_id=order.id,
            reason="too much",
            line_amounts={tee_id: 10000},
        )
    assert refused.value.code == "payments.refund_exceeds_line"


def test_member_discounts_come_from_the_ladder(shop: Shop) -> None:
    with shop.container.uow(SYSTEM) as uow:
        assert orders.member_discounts(uow) == (promotions.MemberDiscount("gold", "Gold", 300),)

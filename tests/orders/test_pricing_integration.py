"""Order placement priced through promotions: totals, breakdown, redemption, release."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from shopops.contexts import inventory, orders, promotions
from shopops.contexts.promotions import CouponTerms
from shopops.kernel.errors import Conflict, DomainError
from shopops.kernel.events import Actor
from shopops.kernel.time import FrozenClock
from tests.commerce import ADDRESS, add_warehouse, stock_of
from tests.promotions.conftest import NOW, SYSTEM, Shop, build_shop


@pytest.fixture
def shop(make_container: Any) -> Shop:
    built = build_shop(make_container(clock=FrozenClock(NOW)))
    add_warehouse(built.container, "SH1", stock={"TEE": 20, "SHOE": 10, "BAG": 10, "MUG": 3})
    return built


def order_for(
    shop: Shop,
    *lines: tuple[str, int],
    customer: str | None = None,
    coupons: tuple[str, ...] = (),
) -> orders.PlaceOrder:
    return orders.PlaceOrder(
        lines=tuple(orders.OrderLineRequest(sku, q) for sku, q in lines),
        shipping_address=ADDRESS,
        channel="web",
        customer_id=shop.ids[f"customer:{customer}"] if customer else None,
        guest=None if customer else orders.GuestContact("guest@example.com", "Guest"),
        coupon_codes=coupons,
        shipping_method="standard",
    )


def place(shop: Shop, command: orders.PlaceOrder) -> orders.Order:
    with shop.container.uow(SYSTEM) as uow:
        order = orders.place_order(uow, command)
        uow.commit()
        return order


def lines_of(shop: Shop, order_id: int) -> list[tuple[str, int, int, int, int]]:
    with shop.container.uow(SYSTEM) as uow:
        detail = orders.order_detail(uow, order_id)
        return [
            (line.sku, line.quantity, line.unit_price_minor, line.discount_minor, line.total_minor)
            for line in detail.lines
        ]


def redemptions(shop: Shop, model: Any) -> list[tuple[str, str]]:
    with shop.container.session_factory() as session:
        rows = session.execute(select(model.order_number, model.status).order_by(model.id))
        return [(number, status) for number, status in rows]


def test_without_promotions_an_order_keeps_list_prices(shop: Shop) -> None:
    order = place(shop, order_for(shop, ("TEE", 2), ("MUG", 1)))
    assert (order.subtotal_minor, order.discount_minor, order.total_minor) == (21500, 0, 21500)
    assert lines_of(shop, order.id) == [("TEE", 2, 10000, 0, 20000), ("MUG", 1, 1500, 0, 1500)]
    assert order.pricing["applied"] == []
    assert redemptions(shop, promotions.PromotionRedemption) == []


def test_a_percentage_promotion_is_stored_on_the_order(shop: Shop) -> None:
    ten = shop.create({"name": "Ten", "kind": "percentage", "params": {"percent": 10}})
    order = place(shop, order_for(shop, ("TEE", 2), ("BAG", 1), customer="plain"))
    assert (order.subtotal_minor, order.discount_minor, order.total_minor) == (
        40000,
        4000,
        36000,
    )
    assert lines_of(shop, order.id) == [
        ("TEE", 2, 10000, 2000, 18000),
        ("BAG", 1, 20000, 2000, 18000),
    ]
    pricing = order.pricing
    assert [(a["promotion_id"], a["kind"], a["discount_minor"]) for a in pricing["applied"]] == [
        (ten, "percentage", 4000)
    ]
    assert pricing["total_minor"] == 36000
    assert pricing["lines"][0]["discounts"] == [
        {"promotion_id": ten, "amount_minor": 2000, "level": "item"}
    ]
    assert redemptions(shop, promotions.PromotionRedemption) == [(order.number, "redeemed")]


def test_a_coupon_is_redeemed_at_placement_and_released_on_cancellation(shop: Shop) -> None:
    voucher = shop.create(
        {
            "name": "Voucher",
            "kind": "fixed_amount",
            "currency": "CNY",
            "params": {"amount": "20"},
            "requires_coupon": True,
        }
    )
    shop.run(
        promotions.create_coupon,
        promotions.CreateCoupon(voucher, "TWENTY", CouponTerms(max_uses=1)),
    )
    order = place(shop, order_for(shop, ("SHOE", 1), customer="gold", coupons=("TWENTY",)))
    assert (order.discount_minor, order.total_minor) == (2000, 28000)
    assert order.pricing["applied"][0]["coupon_code"] == "TWENTY"
    assert shop.run(promotions.get_coupon, "TWENTY").used == 1
    assert redemptions(shop, promotions.CouponRedemption) == [(order.number, "redeemed")]

    with shop.container.uow(SYSTEM) as uow:
        orders.cancel_order(uow, order.id, reason="changed mind")
        uow.commit()
    assert shop.run(promotions.get_coupon, "TWENTY").used == 0
    assert redemptions(shop, promotions.CouponRedemption) == [(order.number, "released")]
    assert redemptions(shop, promotions.PromotionRedemption) == [(order.number, "released")]


def test_a_batch_fails_only_the_order_whose_coupon_is_used_up(shop: Shop) -> None:
    voucher = shop.create(
        {
            "name": "Voucher",
            "kind": "fixed_amount",
            "currency": "CNY",
            "params": {"amount": "20"},
            "requires_coupon": True,
        }
    )
    shop.run(
        promotions.create_coupon, promotions.CreateCoupon(voucher, "ONE", CouponTerms(max_uses=1))
    )
    actor: Actor = SYSTEM
    requests = [
        orders.PlacementRequest(order_for(shop, ("SHOE", 1), coupons=("ONE",)), actor),
        orders.PlacementRequest(order_for(shop, ("BAG", 2), coupons=("ONE",)), actor),
        orders.PlacementRequest(order_for(shop, ("TEE", 1)), actor),
    ]
    with shop.container.uow(SYSTEM) as uow:
        results = orders.place_orders(uow, requests)
        uow.commit()
    first, second, third = results
    assert isinstance(first, orders.PlacedOrder)
    assert (first.discount_minor, first.total_minor) == (2000, 28000)
    assert isinstance(second, Conflict)
    assert second.code == "coupons.limit_reached"
    assert isinstance(third, orders.PlacedOrder)
    assert (third.discount_minor, third.total_minor) == (0, 10000)
    assert shop.run(promotions.get_coupon, "ONE").used == 1
    # the failed order holds no stock and has no rows
    assert stock_of(shop.container, "BAG")[0][1:] == (10, 0)
    with shop.container.session_factory() as session:
        numbers = set(session.scalars(select(orders.Order.number)))
        assert numbers == {first.number, third.number}
        assert inventory.ledger_discrepancies(session) == []
    assert redemptions(shop, promotions.CouponRedemption) == [(first.number, "redeemed")]

    # a coupon used up before the batch is refused at pricing, alone
    with shop.container.uow(SYSTEM) as uow:
        again = orders.place_orders(
            uow,
            [
                orders.PlacementRequest(order_for(shop, ("BAG", 1), coupons=("ONE",)), actor),
                orders.PlacementRequest(order_for(shop, ("BAG", 1)), actor),
            ],
        )
        uow.commit()
    assert isinstance(again[0], DomainError)
    assert isinstance(again[1], orders.PlacedOrder)
    assert stock_of(shop.container, "BAG")[0][1:] == (10, 1)


def test_a_spend_threshold_tier_applies_to_the_order(shop: Shop) -> None:
    tiers = shop.create(
        {
            "name": "Spend more, save more",
            "kind": "spend_tiers",
            "currency": "CNY",
            "params": {"tiers": [{"spend": "300", "save": "50"}, {"spend": "500", "save": "100"}]},
        }
    )
    small = place(shop, order_for(shop, ("BAG", 1)))
    assert (small.discount_minor, small.total_minor) == (0, 20000)
    large = place(shop, order_for(shop, ("SHOE", 1), ("BAG", 1)))
    assert (large.subtotal_minor, large.discount_minor, large.total_minor) == (
        50000,
        10000,
        40000,
    )
    assert large.pricing["order_discounts"] == [{"promotion_id": tiers, "amount_minor": 10000}]
    assert sum(line[3] for line in lines_of(shop, large.id)) == 10000
    assert sum(line[4] for line in lines_of(shop, large.id)) == 40000


def test_a_gift_line_is_reserved_and_written_at_no_charge(shop: Shop) -> None:
    gift = shop.create(
        {
            "name": "Mug",
            "kind": "gift",
            "currency": "CNY",
            "params": {"sku": "MUG"},
            "conditions": {"min_spend": "250"},
        }
    )
    with shop.container.uow(SYSTEM) as uow:
        [placed] = orders.place_orders(
            uow, [orders.PlacementRequest(order_for(shop, ("SHOE", 1)), SYSTEM)]
        )
        uow.commit()
    assert isinstance(placed, orders.PlacedOrder)
    assert placed.total_minor == 30000
    assert lines_of(shop, placed.id) == [
        ("SHOE", 1, 30000, 0, 30000),
        ("MUG", 1, 1500, 1500, 0),
    ]
    assert stock_of(shop.container, "MUG")[0][1:] == (3, 1)
    with shop.container.uow(SYSTEM) as uow:
        order = orders.get_order(uow, placed.id)
        assert [line["gift_of"] for line in order.pricing["lines"]] == [None, gift]
    # the single path reserves the gift too
    single = place(shop, order_for(shop, ("SHOE", 1)))
    assert lines_of(shop, single.id)[-1] == ("MUG", 1, 1500, 1500, 0)
    assert stock_of(shop.container, "MUG")[0][1:] == (3, 2)


def test_a_first_order_promotion_applies_once_per_customer(shop: Shop) -> None:
    shop.create(
        {
            "name": "Welcome",
            "kind": "percentage",
            "params": {"percent": 10},
            "conditions": {"first_order_only": True},
        }
    )
    first = place(shop, order_for(shop, ("TEE", 1), customer="plain"))
    assert first.discount_minor == 1000
    second = place(shop, order_for(shop, ("TEE", 1), customer="plain"))
    assert second.discount_minor == 0
    guest = place(shop, order_for(shop, ("TEE", 1)))
    assert guest.discount_minor == 0

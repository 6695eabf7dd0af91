"""Orders pay the shipping fee of the store's rate table: in the total and the stored
breakdown, waived over the rate's threshold, removed by a free-shipping promotion."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, func, select

from shopops.bootstrap import Container
from shopops.contexts import loyalty, orders
from shopops.kernel.errors import DomainError, ValidationFailed
from tests.commerce import ADDRESS, SYSTEM
from tests.promotions.conftest import Shop
from tests.shipping.conftest import add_rate_table, build_store

TIBET = dataclasses.replace(ADDRESS, region="cn-xz", city="Lhasa")
PARIS = dataclasses.replace(ADDRESS, country="FR", region="FR-75", city="Paris")


@pytest.fixture
def store(make_container: Callable[..., Container]) -> Shop:
    return build_store(make_container)


def command(
    *lines: tuple[str, int],
    method: str | None = None,
    address: orders.ShippingAddress = ADDRESS,
) -> orders.PlaceOrder:
    return orders.PlaceOrder(
        lines=tuple(orders.OrderLineRequest(sku, q) for sku, q in lines),
        shipping_address=address,
        channel="web",
        guest=orders.GuestContact("guest@example.com", "Guest"),
        shipping_method=method,
    )


def place(store: Shop, placed: orders.PlaceOrder) -> orders.Order:
    with store.container.uow(SYSTEM) as uow:
        order = orders.place_order(uow, placed)
        uow.commit()
        return order


def amounts(order: orders.Order) -> tuple[int, int, int, int]:
    return (order.subtotal_minor, order.discount_minor, order.shipping_minor, order.total_minor)


def order_count(store: Shop) -> int:
    with store.container.session_factory() as session:
        return session.scalar(select(func.count()).select_from(orders.Order)) or 0


def test_a_store_without_shipping_methods_charges_no_shipping(store: Shop) -> None:
    order = place(store, command(("TEE", 1), method="anything"))
    assert amounts(order) == (10000, 0, 0, 10000)
    assert order.pricing["shipping_method"] == "anything"
    assert "shipping_rate" not in order.pricing
    assert place(store, command(("TEE", 1))).pricing["shipping_method"] == "standard"


def test_the_fee_of_the_rate_for_the_address_lands_in_the_total(store: Shop) -> None:
    add_rate_table(store.container)
    order = place(store, command(("TEE", 1)))  # no method: the first active one
    assert amounts(order) == (10000, 0, 800, 10800)
    assert order.pricing["shipping_minor"] == 800
    assert order.pricing["shipping_method"] == "standard"
    assert order.pricing["shipping_rate"] == {
        "id": 1,
        "country": "CN",
        "region": None,
        "fee_minor": 800,
        "free_over_minor": 15000,
        "free_over_reached": False,
    }
    # the region's own rate beats the country's, anywhere else takes "*"
    assert amounts(place(store, command(("TEE", 1), address=TIBET))) == (10000, 0, 2500, 12500)
    assert amounts(place(store, command(("TEE", 1), address=PARIS))) == (10000, 0, 6000, 16000)
    express = place(store, command(("TEE", 1), method=" EXPRESS "))
    assert amounts(express) == (10000, 0, 2000, 12000)
    assert express.pricing["shipping_method"] == "express"


def test_the_fee_is_waived_when_the_items_reach_the_threshold(store: Shop) -> None:
    add_rate_table(store.container)
    order = place(store, command(("TEE", 1), ("MUG", 4)))  # 160.00 >= 150.00
    assert amounts(order) == (16000, 0, 0, 16000)
    assert order.pricing["shipping_rate"]["free_over_reached"] is True
    assert order.pricing["shipping_rate"]["fee_minor"] == 800
    # the threshold counts the items after item promotions: 160.00 - 10 % = 144.00
    store.create({"name": "Ten", "kind": "percentage", "params": {"percent": 10}})
    discounted = place(store, command(("TEE", 1), ("MUG", 4)))
    assert amounts(discounted) == (16000, 1600, 800, 15200)
    assert discounted.pricing["shipping_rate"]["free_over_reached"] is False


def test_a_free_shipping_promotion_removes_the_fee(store: Shop) -> None:
    add_rate_table(store.container)
    free = store.create(
        {"name": "Free standard", "kind": "free_shipping", "params": {"methods": ["standard"]}}
    )
    order = place(store, command(("TEE", 1)))
    assert amounts(order) == (10000, 800, 800, 10000)
    assert order.pricing["shipping_discount_minor"] == 800
    assert [a["promotion_id"] for a in order.pricing["applied"]] == [free]
    # express is not covered by the promotion
    assert amounts(place(store, command(("TEE", 1), method="express"))) == (10000, 0, 2000, 12000)
    # over the threshold there is no fee: the promotion is not spent on it
    waived = place(store, command(("TEE", 2)))
    assert amounts(waived) == (20000, 0, 0, 20000)
    assert waived.pricing["applied"] == []


def test_unknown_or_inactive_methods_and_destinations_without_a_rate_are_refused(
    store: Shop,
) -> None:
    add_rate_table(store.container)
    cases = [
        (
            command(("TEE", 1), method="drone"),
            [
                (
                    "shipping_method",
                    "shipping.unknown_method",
                    "unknown shipping method 'drone'; allowed: standard, express",
                )
            ],
        ),
        (
            command(("TEE", 1), method="courier"),
            [
                (
                    "shipping_method",
                    "shipping.unknown_method",
                    "shipping method 'courier' is off; allowed: standard, express",
                )
            ],
        ),
        (
            command(("TEE", 1), method="express", address=PARIS),
            [
                (
                    "shipping_address.country",
                    "shipping.no_rate_for_destination",
                    "shipping method 'express' has no CNY rate for FR-75 (FR)",
                )
            ],
        ),
        (  # every problem at once
            command(("NOPE", 1), method="drone"),
            [
                ("lines.0.sku", "orders.unknown_sku", "unknown SKU 'NOPE'"),
                (
                    "shipping_method",
                    "shipping.unknown_method",
                    "unknown shipping method 'drone'; allowed: standard, express",
                ),
            ],
        ),
    ]
    for placed, expected in cases:
        with pytest.raises(ValidationFailed) as caught:
            place(store, placed)
        assert [(e.field, e.code, e.message) for e in caught.value.errors] == expected
    assert order_count(store) == 0


def test_a_checkout_batch_reads_the_table_once_and_prices_each_order(store: Shop) -> None:
    add_rate_table(store.container)
    requests = [
        orders.PlacementRequest(command(("TEE", 1)), SYSTEM),
        orders.PlacementRequest(command(("TEE", 1), address=TIBET), SYSTEM),
        orders.PlacementRequest(command(("TEE", 2)), SYSTEM),
        orders.PlacementRequest(command(("TEE", 1), method="express", address=PARIS), SYSTEM),
        orders.PlacementRequest(command(("TEE", 1), method="express"), SYSTEM),
    ]
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(store.container.engine, "before_cursor_execute", count)
    try:
        with store.container.uow(SYSTEM) as uow:
            results = orders.place_orders(uow, requests)
            uow.commit()
    finally:
        event.remove(store.container.engine, "before_cursor_execute", count)
    assert len([s for s in statements if "FROM shipping_methods" in s]) == 1
    outcomes = [
        r.code
        if isinstance(r, DomainError)
        else (r.subtotal_minor, r.shipping_minor, r.total_minor)
        for r in results
    ]
    assert outcomes == [
        (10000, 800, 10800),
        (10000, 2500, 12500),
        (20000, 0, 20000),
        "validation.failed",
        (10000, 2000, 12000),
    ]
    assert order_count(store) == 4


def test_offer_orders_are_not_charged_shipping(store: Shop) -> None:
    add_rate_table(store.container)
    offer = orders.OfferTerms(reference="group:1", sku="TEE", unit_price_minor=9000)
    with store.container.uow(SYSTEM) as uow:
        order = orders.place_order(uow, command(("TEE", 1), address=PARIS), offer=offer)
        uow.commit()
    assert amounts(order) == (9000, 0, 0, 9000)
    assert "shipping_rate" not in order.pricing


def test_members_of_a_tier_with_free_shipping_pay_no_fee(store: Shop) -> None:
    add_rate_table(store.container)
    with store.container.uow(SYSTEM) as uow:
        loyalty.replace_tiers(
            uow,
            loyalty.ReplaceTiers(
                (
                    loyalty.TierSpec("silver", "Silver", 0),
                    loyalty.TierSpec("gold", "Gold", 500000, free_shipping=True),
                )
            ),
        )
        uow.commit()
    gold = dataclasses.replace(
        command(("TEE", 1), method="express"), guest=None, customer_id=store.ids["customer:gold"]
    )
    plain = dataclasses.replace(gold, customer_id=store.ids["customer:plain"])
    with store.container.uow(SYSTEM) as uow:
        results = orders.place_orders(
            uow, [orders.PlacementRequest(gold, SYSTEM), orders.PlacementRequest(plain, SYSTEM)]
        )
        uow.commit()
    assert [(r.shipping_minor, r.total_minor) for r in results] == [(0, 10000), (2000, 12000)]
    assert [r.id for r in results] == [1, 2]
    with store.container.session_factory() as session:
        stored = session.get(orders.Order, 1)
        assert stored is not None
        assert stored.pricing["shipping_rate"]["free_for_tier"] == "gold"
        assert stored.pricing["shipping_rate"]["free_over_reached"] is False

"""Loyalty points at checkout: priced with the order, debited in its transaction, capped,
refused beyond the balance, and given back on cancellation, closing and refunds."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from shopops.audit.models import AuditEntry
from shopops.auth.permissions import Role
from shopops.bootstrap import Container
from shopops.contexts import inventory, loyalty, orders, promotions
from shopops.db.outbox import OutboxEvent
from shopops.kernel.errors import DomainError
from shopops.kernel.time import FrozenClock
from tests.commerce import ADDRESS, SYSTEM, add_skus, add_warehouse, stock_of
from tests.conftest import ContainerFactory
from tests.loyalty.conftest import NOW, PRICES, Shop


@pytest.fixture
def shop(make_container: ContainerFactory) -> Shop:
    clock = FrozenClock(NOW)
    container = make_container(clock=clock)
    add_skus(container, PRICES)  # TEE 20.00, MUG 12.50, CAP 9.99 (USD, cost 5.00)
    add_warehouse(container, "SH1", stock=dict.fromkeys(PRICES, 100))
    return Shop(container, clock)


def grant(shop: Shop, customer_id: int, points: int) -> None:
    shop.run(
        lambda uow: loyalty.adjust_points(uow, loyalty.AdjustPoints(customer_id, points, "gift"))
    )


def command(customer_id: int | None, *lines: tuple[str, int], points: int = 0) -> orders.PlaceOrder:
    return orders.PlaceOrder(
        lines=tuple(orders.OrderLineRequest(sku, q) for sku, q in lines),
        shipping_address=ADDRESS,
        channel="web",
        customer_id=customer_id,
        guest=None if customer_id else orders.GuestContact("guest@example.com"),
        points_to_redeem=points,
    )


def place(shop: Shop, order: orders.PlaceOrder) -> orders.Order:
    with shop.container.uow(SYSTEM) as uow:
        placed = orders.place_order(uow, order)
        uow.commit()
        return placed


def line_totals(shop: Shop, order_id: int) -> list[tuple[str, int]]:
    with shop.container.uow(SYSTEM) as uow:
        return [(line.sku, line.total_minor) for line in orders.lines_of(uow.session, order_id)]


def state(container: Container) -> dict[str, Any]:
    """What a refused placement must leave as it was."""
    stock = stock_of(container, "TEE")
    with container.session_factory() as session:

        def count(model: Any) -> int:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)

        return {
            "stock": stock,
            "orders": count(orders.Order),
            "reservations": count(inventory.Reservation),
            "ledger": count(loyalty.PointsEntry),
            "redemptions": count(promotions.PromotionRedemption),
            "events": count(OutboxEvent),
            "audit": count(AuditEntry),
            "balances": sorted(
                (a.customer_id, a.balance) for a in session.scalars(select(loyalty.PointsAccount))
            ),
        }


def test_points_pay_part_of_the_order_and_are_debited_with_it(shop: Shop) -> None:
    buyer = shop.customer()
    grant(shop, buyer, 1000)
    order = place(shop, command(buyer, ("TEE", 2), ("MUG", 1), points=500))
    # 52.50 at list price; 500 points of 0.01 pay 5.00, split over the lines by what they cost
    assert (order.subtotal_minor, order.discount_minor, order.total_minor) == (5250, 0, 4750)
    assert (order.pricing["points_redeemed"], order.pricing["points_minor"]) == (500, 500)
    assert [line["points_minor"] for line in order.pricing["lines"]] == [381, 119]
    assert line_totals(shop, order.id) == [("TEE", 3619), ("MUG", 1131)]
    assert shop.balance(buyer) == 500
    assert [entry[:3] for entry in shop.ledger(buyer)] == [
        ("adjust", 1000, 500),
        ("redeem", -500, None),
    ]
    assert shop.events("points.redeemed")[-1]["order_reference"] == order.number
    shop.books_agree(buyer)


def test_the_program_cap_limits_the_points_used(shop: Shop) -> None:
    buyer = shop.customer()
    grant(shop, buyer, 5000)
    order = place(shop, command(buyer, ("TEE", 2), points=3000))  # 50 % of 40.00 = 2000 points
    assert (order.pricing["points_redeemed"], order.total_minor) == (2000, 2000)
    assert shop.balance(buyer) == 3000

    shop.program(redemption_cap_percent=0)  # redemption switched off: nothing is used
    other = place(shop, command(buyer, ("TEE", 1), points=100))
    assert (other.pricing["points_redeemed"], other.total_minor) == (0, 2000)
    assert shop.balance(buyer) == 3000


def test_points_never_take_a_line_below_its_cost(shop: Shop) -> None:
    buyer = shop.customer()
    grant(shop, buyer, 5000)
    shop.program(redemption_cap_percent=100)
    order = place(shop, command(buyer, ("CAP", 1), points=5000))  # 9.99, cost 5.00
    assert (order.pricing["points_redeemed"], order.total_minor) == (499, 500)
    assert shop.balance(buyer) == 4501


def test_more_points_than_the_balance_are_refused_and_nothing_changes(shop: Shop) -> None:
    buyer = shop.customer()
    grant(shop, buyer, 100)
    before = state(shop.container)
    with pytest.raises(DomainError) as refused:
        place(shop, command(buyer, ("TEE", 2), points=101))
    assert refused.value.code == "loyalty.insufficient_points"
    assert refused.value.details == {"requested": 101, "balance": 100}
    assert state(shop.container) == before


def test_bad_point_requests_are_field_errors(shop: Shop) -> None:
    with pytest.raises(DomainError) as refused:
        place(shop, command(None, ("TEE", 1), points=-5))
    assert refused.value.code == "validation.failed"
    assert sorted((e.field, e.code) for e in refused.value.errors) == [
        ("points_to_redeem", "loyalty.invalid_points"),
        ("points_to_redeem", "orders.points_need_customer"),
    ]


def test_cancelling_or_closing_the_order_gives_the_points_back(shop: Shop) -> None:
    buyer = shop.customer()
    grant(shop, buyer, 1000)
    cancelled = place(shop, command(buyer, ("TEE", 1), points=400))
    closed = place(shop, command(buyer, ("TEE", 1), points=300))
    assert shop.balance(buyer) == 300
    shop.run(lambda uow: orders.cancel_order(uow, cancelled.id, reason="changed mind"))
    assert shop.balance(buyer) == 700
    shop.clock.advance(timedelta(minutes=31))
    assert shop.run(orders.close_unpaid) == 1
    assert shop.balance(buyer) == 1000
    assert [e["points"] for e in shop.events("points.restored")] == [400, 300]
    assert [e["order_reference"] for e in shop.events("points.restored")] == [
        cancelled.number,
        closed.number,
    ]
    shop.books_agree(buyer)


def test_refunds_give_back_the_same_share_of_the_points(shop: Shop) -> None:
    buyer = shop.customer()
    grant(shop, buyer, 1000)
    order = place(shop, command(buyer, ("TEE", 2), points=500))  # 40.00 - 5.00 = 35.00 paid
    shop.pay(order.id)
    assert shop.balance(buyer) == 535  # 500 left + 35 earned on 35.00
    refund = orders.refund_order(
        shop.tx(), shop.container.payment_gateway, order_id=order.id, reason="x", amount_minor=1750
    )
    assert refund.status == "succeeded"
    # half the money back: half the redeemed points (250) back, half the earned (17 of 35) taken
    assert shop.balance(buyer) == 535 + 250 - 17
    orders.refund_order(
        shop.tx(), shop.container.payment_gateway, order_id=order.id, reason="x", amount_minor=1750
    )
    assert shop.balance(buyer) == 1000
    assert [e["points"] for e in shop.events("points.restored")] == [250, 250]
    shop.books_agree(buyer)
    # the handler again (a repeated event) changes nothing
    shop.run(lambda uow: loyalty.reverse_for_refund(uow, order.id))
    assert shop.balance(buyer) == 1000


def _batch(shop: Shop, *commands: orders.PlaceOrder) -> list[orders.PlacedOrder | DomainError]:
    with shop.container.uow(SYSTEM) as uow:
        results = orders.place_orders(uow, [orders.PlacementRequest(c, SYSTEM) for c in commands])
        uow.commit()
    return results


def test_a_batch_fails_only_the_order_whose_points_ran_out_and_leaves_no_trace(
    shop: Shop,
) -> None:
    tenth = shop.run(
        lambda uow: promotions.create_promotion(
            uow,
            promotions.CreatePromotion(
                {"name": "Ten", "kind": "percentage", "params": {"percent": 10}}
            ),
        )
    ).id
    shop.run(lambda uow: promotions.activate_promotion(uow, tenth))
    buyer = shop.customer()
    grant(shop, buyer, 600)
    # both orders of the customer were priced against 600 points: the second finds 200 left
    first, second, third = _batch(
        shop,
        command(buyer, ("TEE", 3), points=400),
        command(buyer, ("TEE", 5), points=400),
        command(None, ("TEE", 1)),
    )
    assert isinstance(first, orders.PlacedOrder)
    assert isinstance(second, DomainError)
    assert second.code == "loyalty.insufficient_points"
    assert isinstance(third, orders.PlacedOrder)
    placed = {first.number, third.number}
    # 60.00 - 10 % = 54.00, then 400 points = 50.00
    assert (first.discount_minor, first.total_minor) == (600, 5000)
    assert shop.balance(buyer) == 200
    # stock: 3 + 1 held, the failed order's 5 never reserved; no released rows either
    assert stock_of(shop.container, "TEE") == [(1, 100, 4)]
    with shop.container.session_factory() as session:
        references = session.execute(
            select(inventory.Reservation.reference, inventory.Reservation.status)
        ).all()
        assert sorted(references) == sorted((n, "active") for n in placed)
        assert set(session.scalars(select(orders.Order.number))) == placed
        assert set(session.scalars(select(promotions.PromotionRedemption.order_number))) == placed
        redeemed = session.scalars(
            select(loyalty.PointsEntry.order_reference).where(loyalty.PointsEntry.kind == "redeem")
        ).all()
        assert redeemed == [first.number]
        events = session.execute(
            select(OutboxEvent.event_type, OutboxEvent.payload).where(
                OutboxEvent.event_type.in_(["promotions.redeemed", "order.placed"])
            )
        ).all()
        mentioned = {p.get("order_number") or p.get("number") for _, p in events}
        assert mentioned == placed
        audited = session.scalars(
            select(AuditEntry.entity_id).where(
                AuditEntry.action.in_(["promotions.redeemed", "order.placed"])
            )
        ).all()
        assert len(audited) == 4  # promotion and order audit rows of the two placed orders
        assert inventory.ledger_discrepancies(session) == []
    shop.books_agree(buyer)


def test_a_batch_order_refused_by_a_coupon_limit_leaves_no_reservation_rows(shop: Shop) -> None:
    voucher = shop.run(
        lambda uow: promotions.create_promotion(
            uow,
            promotions.CreatePromotion(
                {
                    "name": "Voucher",
                    "kind": "fixed_amount",
                    "currency": "USD",
                    "params": {"amount": "2"},
                    "requires_coupon": True,
                }
            ),
        )
    ).id
    shop.run(lambda uow: promotions.activate_promotion(uow, voucher))
    shop.run(
        lambda uow: promotions.create_coupon(
            uow, promotions.CreateCoupon(voucher, "ONCE", promotions.CouponTerms(max_uses=1))
        )
    )
    with_coupon = orders.PlaceOrder(
        lines=(orders.OrderLineRequest("MUG", 2),),
        shipping_address=ADDRESS,
        channel="web",
        guest=orders.GuestContact("guest@example.com"),
        coupon_codes=("ONCE",),
    )
    first, second = _batch(shop, with_coupon, with_coupon)
    assert isinstance(first, orders.PlacedOrder)
    assert isinstance(second, DomainError)
    assert second.code == "coupons.limit_reached"
    assert stock_of(shop.container, "MUG") == [(1, 100, 2)]
    with shop.container.session_factory() as session:
        assert session.scalars(select(inventory.Reservation.reference)).all() == [first.number]


def test_the_api_takes_points_to_redeem(container: Container, client_as: Any) -> None:
    add_skus(container, {"TEE": 2000})
    add_warehouse(container, "SH1", stock={"TEE": 10})
    shop = Shop(container, FrozenClock(NOW))
    buyer = shop.customer()
    grant(shop, buyer, 300)
    client = client_as(Role.OPS_MANAGER)
    body = {
        "lines": [{"sku": "TEE", "quantity": 1}],
        "shipping_address": {
            "recipient": "Wang Fang",
            "line1": "88 Nanjing Road",
            "city": "Shanghai",
            "country": "CN",
        },
        "channel": "web",
        "customer_id": buyer,
        "points_to_redeem": 250,
    }
    response = client.post("/v1/orders", json=body)
    assert response.status_code == 201, response.text
    order = response.json()
    assert (order["total"], order["pricing"]["points_redeemed"]) == ("17.50", 250)
    assert order["pricing"]["points"] == "2.50"
    assert shop.balance(buyer) == 50

    refused = client.post("/v1/orders", json={**body, "points_to_redeem": 51})
    assert refused.status_code == 409
    assert refused.json()["code"] == "loyalty.insufficient_points"
    assert shop.balance(buyer) == 50
    with container.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(orders.Order)) == 1


def test_the_cli_places_an_order_with_points(shop: Shop, cli: Any, tmp_path: Path) -> None:
    buyer = shop.customer()
    grant(shop, buyer, 900)
    file = tmp_path / "order.json"
    file.write_text(
        json.dumps(
            {
                "lines": [{"sku": "TEE", "quantity": 1}],
                "shipping_address": {
                    "recipient": "Wang Fang",
                    "line1": "88 Nanjing Road",
                    "city": "Shanghai",
                    "country": "CN",
                },
                "channel": "web",
                "customer_id": buyer,
                "points_to_redeem": 100,
            }
        )
    )
    result = cli(shop.container, "orders", "place", str(file))
    assert result.exit_code == 0, (result.output, result.exception)
    assert "100 points (1.00)" in result.output
    assert shop.balance(buyer) == 800
    result = cli(shop.container, "orders", "place", str(file), "--points", "800")
    assert result.exit_code == 0, (result.output, result.exception)
    assert "800 points (8.00)" in result.output
    assert shop.balance(buyer) == 0
    refused = cli(shop.container, "orders", "place", str(file), "--points", "1")
    assert refused.exit_code != 0
    assert isinstance(refused.exception, DomainError)
    assert refused.exception.code == "loyalty.insufficient_points"

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shopops.bootstrap import Container
from shopops.contexts import inventory, orders
from shopops.kernel.errors import Conflict, InvalidTransition, ValidationFailed
from tests.commerce import SYSTEM, add_skus, add_warehouse, guest_order, stock_of


@pytest.fixture
def store(container: Container) -> Container:
    add_skus(container, {"TEE-S": 1999, "MUG": 1250})
    add_warehouse(container, "SH1", region="CN-SH", priority=10, stock={"TEE-S": 5, "MUG": 2})
    add_warehouse(container, "BJ1", region="CN-BJ", priority=20, stock={"TEE-S": 5})
    return container


def place(container: Container, command: orders.PlaceOrder) -> orders.Order:
    with container.uow(SYSTEM) as uow:
        order = orders.place_order(uow, command)
        uow.commit()
        return order


def test_place_order_snapshots_prices_and_reserves(store: Container) -> None:
    order = place(store, guest_order(("TEE-S", 2), ("MUG", 1)))
    assert order.status == "pending_payment"
    assert order.subtotal_minor == 2 * 1999 + 1250
    assert order.total_minor == order.subtotal_minor
    assert order.number.startswith("SO-")
    assert stock_of(store, "TEE-S")[0][1:] == (5, 2)
    assert stock_of(store, "MUG")[0][1:] == (2, 1)
    with store.uow(SYSTEM) as uow:
        detail = orders.order_detail(uow, order.id)
        assert [(line.sku, line.quantity, line.unit_price_minor) for line in detail.lines] == [
            ("TEE-S", 2, 1999),
            ("MUG", 1, 1250),
        ]
        assert [e.kind for e in detail.timeline] == ["placed"]


def test_split_across_warehouses_when_one_is_short(store: Container) -> None:
    order = place(store, guest_order(("TEE-S", 7)))
    with store.uow(SYSTEM) as uow:
        held = sorted(
            (r.warehouse_id, r.quantity) for r in orders.order_detail(uow, order.id).reservations
        )
    assert [q for _, q in held] == [2, 5] or [q for _, q in held] == [5, 2]
    assert sum(q for _, q in held) == 7


def test_no_split_refuses_when_no_single_warehouse_has_enough(store: Container) -> None:
    with pytest.raises(Conflict) as caught:
        place(store, guest_order(("TEE-S", 7), allow_split=False))
    assert caught.value.code == "inventory.insufficient_stock"
    assert stock_of(store, "TEE-S") == [(w, 5, 0) for w, _, _ in stock_of(store, "TEE-S")]


def test_bad_input_gets_every_error_and_changes_nothing(store: Container) -> None:
    command = orders.PlaceOrder(
        lines=(
            orders.OrderLineRequest("NOPE", 1),
            orders.OrderLineRequest("MUG", 0),
            orders.OrderLineRequest("TEE-S", 1_000_001),
        ),
        shipping_address=orders.ShippingAddress(recipient="", line1="x", city="", country="CHN"),
        channel="fax",
    )
    with pytest.raises(ValidationFailed) as caught:
        place(store, command)
    fields = {(e.field, e.code) for e in caught.value.errors}
    assert ("lines.0.sku", "orders.unknown_sku") in fields
    assert ("lines.1.quantity", "orders.invalid_quantity") in fields
    assert ("lines.2.quantity", "orders.invalid_quantity") in fields
    assert ("shipping_address.recipient", "orders.invalid_address") in fields
    assert ("shipping_address.country", "orders.invalid_address") in fields
    assert ("channel", "orders.unknown_channel") in fields
    assert ("customer_id", "orders.customer_or_guest_required") in fields
    with store.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(orders.Order)) == 0


def test_cancel_releases_stock_and_illegal_transition_is_refused(store: Container) -> None:
    order = place(store, guest_order(("MUG", 2)))
    with store.uow(SYSTEM) as uow:
        orders.cancel_order(uow, order.id, reason="customer changed mind")
        uow.commit()
    assert stock_of(store, "MUG")[0][1:] == (2, 0)
    with store.uow(SYSTEM) as uow, pytest.raises(InvalidTransition) as caught:
        orders.transition(uow, orders.get_order(uow, order.id), orders.OrderStatus.SHIPPED)
    assert caught.value.code == "orders.invalid_transition"


def test_unpaid_orders_close_after_the_window(store: Container, make_container) -> None:
    from datetime import timedelta

    from shopops.kernel.time import FrozenClock, utc_now

    clock = FrozenClock(utc_now())
    frozen = make_container(clock=clock)
    order = place(frozen, guest_order(("MUG", 1)))
    with frozen.uow(SYSTEM) as uow:
        assert orders.close_unpaid(uow) == 0
    clock.advance(timedelta(minutes=31))
    with frozen.uow(SYSTEM) as uow:
        assert orders.close_unpaid(uow) == 1
        uow.commit()
    with frozen.uow(SYSTEM) as uow:
        assert orders.get_order(uow, order.id).status == "closed"
    assert stock_of(frozen, "MUG")[0][1:] == (2, 0)


def test_batch_placement_gives_each_order_its_own_outcome(store: Container) -> None:
    requests = [orders.PlacementRequest(guest_order(("MUG", 1)), SYSTEM) for _ in range(3)]
    requests.append(orders.PlacementRequest(guest_order(("NOPE", 1)), SYSTEM))
    with store.uow(SYSTEM) as uow:
        results = orders.place_orders(uow, requests)
        uow.commit()
    kinds = [type(r).__name__ for r in results]
    assert kinds == ["PlacedOrder", "PlacedOrder", "InsufficientStock", "ValidationFailed"]
    assert stock_of(store, "MUG")[0][1:] == (2, 2)
    with store.session_factory() as session:
        assert inventory.ledger_discrepancies(session) == []

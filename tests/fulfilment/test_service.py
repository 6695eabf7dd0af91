from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shopops.adapters.carriers import CarrierUnavailable, sandbox_tracking_number
from shopops.auth.permissions import Role
from shopops.contexts import fulfilment, inventory, orders
from shopops.db.outbox import OutboxEvent
from shopops.kernel.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from tests.commerce import SYSTEM, stock_of
from tests.fulfilment.conftest import START, Store, role_actor


def shipment_count(store: Store) -> int:
    with store.container.session_factory() as session:
        return session.scalar(select(func.count()).select_from(fulfilment.Shipment)) or 0


def event_types(store: Store) -> list[str]:
    with store.container.session_factory() as session:
        return list(session.scalars(select(OutboxEvent.event_type).order_by(OutboxEvent.id)))


def test_split_shipments_from_two_warehouses(store: Store) -> None:
    order = store.place(("TEE", 7), ("MUG", 1))  # SH1 holds TEE 5 + MUG 1, BJ1 holds TEE 2

    first = store.ship(order, store.sh1)
    assert sorted((line.sku, line.quantity) for line in first.lines) == [("MUG", 1), ("TEE", 5)]
    assert first.status == "label_created"
    assert first.tracking_number.startswith("SBUPS")
    assert first.label_reference == f"sandbox://labels/ups/{first.tracking_number}.pdf"
    assert (first.ship_by, first.deliver_by) == (
        START + timedelta(hours=48),
        START + timedelta(days=5),
    )
    assert store.order(order.id).status == "partially_shipped"
    assert store.lines(order.id) == {"TEE": (7, 5), "MUG": (1, 1)}

    second = store.ship(order, store.bj1, carrier="sf-express", tracking="sf 1234 5678")
    assert second.tracking_number == "SF12345678"
    assert second.label_reference is None
    assert [(line.sku, line.quantity) for line in second.lines] == [("TEE", 2)]
    shipped = store.order(order.id)
    assert (shipped.status, shipped.shipped_at) == ("shipped", START)
    assert store.lines(order.id) == {"TEE": (7, 7), "MUG": (1, 1)}

    entries = [
        (e.from_status, e.to_status, e.data.get("carrier"), e.data.get("tracking_number"))
        for e in store.timeline(order.id)
        if e.kind == "status_changed" and e.to_status in ("partially_shipped", "shipped")
    ]
    assert entries == [
        ("paid", "partially_shipped", "ups", first.tracking_number),
        ("partially_shipped", "shipped", "sf-express", "SF12345678"),
    ]
    assert event_types(store).count("shipment.created") == 2
    assert event_types(store).count("order.shipped") == 1


def test_shipping_consumes_reservations_into_sale_movements(store: Store) -> None:
    order = store.place(("TEE", 7), ("MUG", 1))
    store.ship(order, store.sh1)
    store.ship(order, store.bj1)
    sales = [m for m in store.movements(order.number) if m[2] == "sale"]
    assert sorted(sales) == sorted(
        [
            ("MUG", store.sh1, "sale", -1),
            ("TEE", store.bj1, "sale", -2),
            ("TEE", store.sh1, "sale", -5),
        ]
    )
    assert sorted(stock_of(store.container, "TEE")) == sorted(
        [(store.sh1, 0, 0), (store.bj1, 3, 0)]
    )
    assert sorted(stock_of(store.container, "MUG")) == sorted(
        [(store.sh1, 1, 0), (store.bj1, 3, 0)]
    )
    with store.container.session_factory() as session:
        assert inventory.ledger_discrepancies(session) == []
        held = inventory.reservations_for(session, order.number)
        assert {r.status for r in held} == {"consumed"}


def test_part_of_a_warehouse_can_ship_and_the_rest_later(store: Store) -> None:
    order = store.place(("TEE", 3), ("MUG", 2))  # all held in SH1
    store.ship(order, store.sh1, lines={"TEE": 1})
    assert store.lines(order.id) == {"TEE": (3, 1), "MUG": (2, 0)}
    assert stock_of(store.container, "TEE")[0][1:] == (4, 2)
    rest = store.ship(order, store.sh1)
    assert sorted((line.sku, line.quantity) for line in rest.lines) == [("MUG", 2), ("TEE", 2)]
    assert store.order(order.id).status == "shipped"


def test_shipping_more_than_reserved_is_refused_and_changes_nothing(store: Store) -> None:
    order = store.place(("TEE", 7))  # SH1 holds 5, BJ1 holds 2
    with pytest.raises(Conflict) as caught:
        store.ship(order, store.bj1, lines={"TEE": 3})
    assert caught.value.code == "fulfilment.exceeds_reserved"
    assert caught.value.details == {"shortfall": {"TEE": {"requested": 3, "shippable": 2}}}
    assert store.carrier.calls == []  # refused before any label was bought
    assert shipment_count(store) == 0
    assert store.order(order.id).status == "paid"
    assert sorted(stock_of(store.container, "TEE")) == sorted(
        [(store.sh1, 5, 5), (store.bj1, 5, 2)]
    )


def test_bad_lines_are_reported_together(store: Store) -> None:
    order = store.place(("TEE", 1))
    command = fulfilment.ShipOrder(
        order.id,
        999_999,
        "U P S",
        "x",
        (fulfilment.ShipLine("TEE", 0), fulfilment.ShipLine("", 1)),
    )
    with store.container.uow(SYSTEM) as uow, pytest.raises(ValidationFailed) as caught:
        fulfilment.plan_shipment(uow, command)
    assert {(e.field, e.code) for e in caught.value.errors} == {
        ("carrier", "fulfilment.invalid_carrier"),
        ("tracking_number", "fulfilment.invalid_tracking_number"),
        ("lines.0.quantity", "fulfilment.invalid_quantity"),
        ("lines.1.sku", "validation.required"),
        ("warehouse_id", "fulfilment.unknown_warehouse"),
    }
    with pytest.raises(ValidationFailed) as not_ordered:
        store.ship(order, store.sh1, lines={"MUG": 1})
    assert not_ordered.value.code == "fulfilment.sku_not_in_order"


def test_nothing_held_in_the_warehouse(store: Store) -> None:
    order = store.place(("MUG", 1))  # held in SH1
    with pytest.raises(Conflict) as caught:
        store.ship(order, store.bj1)
    assert caught.value.code == "fulfilment.nothing_to_ship"


@pytest.mark.parametrize("state", ["unpaid", "cancelled", "shipped"])
def test_only_paid_unshipped_orders_ship(store: Store, state: str) -> None:
    order = store.place(("MUG", 1), paid=state != "unpaid")
    if state == "cancelled":
        with store.container.uow(SYSTEM) as uow:
            orders.cancel_order(uow, order.id, reason="customer asked")
            uow.commit()
    if state == "shipped":
        store.ship(order, store.sh1)
    with pytest.raises(InvalidTransition) as caught:
        store.ship(order, store.sh1, tracking="1Z999")
    assert caught.value.code == "fulfilment.order_not_shippable"
    assert shipment_count(store) == (1 if state == "shipped" else 0)


def test_a_tracking_number_belongs_to_one_shipment_per_carrier(store: Store) -> None:
    first = store.place(("MUG", 1))
    second = store.place(("MUG", 1))
    store.ship(first, store.sh1, carrier="dhl", tracking="DHL-1")
    with pytest.raises(Conflict) as caught:
        store.ship(second, store.sh1, carrier="DHL", tracking="dhl-1")
    assert caught.value.code == "fulfilment.tracking_number_taken"
    assert store.ship(second, store.sh1, carrier="ems", tracking="DHL-1").carrier == "ems"


def test_shipping_needs_the_fulfilment_permission(store: Store) -> None:
    order = store.place(("MUG", 1))
    command = fulfilment.ShipOrder(order.id, store.sh1, "ups")
    for role in (Role.ANALYST, Role.CS_AGENT):
        with pytest.raises(PermissionDenied):
            fulfilment.ship(
                lambda r=role: store.container.uow(role_actor(r)), store.carrier, command
            )
    assert store.carrier.calls == []
    assert shipment_count(store) == 0
    warehouse_staff = role_actor(Role.WAREHOUSE)
    view = fulfilment.ship(lambda: store.container.uow(warehouse_staff), store.carrier, command)
    assert view.status == "label_created"


def test_paid_stock_stays_held_past_the_reservation_expiry(store: Store) -> None:
    order = store.place(("MUG", 2))
    store.clock.advance(timedelta(hours=3))
    with store.container.uow(SYSTEM) as uow:
        assert inventory.release_expired(uow) == 0
        uow.commit()
    assert store.ship(order, store.sh1).lines[0].quantity == 2


def test_carrier_outage_records_nothing_and_a_retry_books_once(store: Store) -> None:
    order = store.place(("MUG", 1))
    store.carrier.fail_next("create")
    with pytest.raises(CarrierUnavailable) as caught:
        store.ship(order, store.sh1)
    assert caught.value.code == "carrier.unavailable"
    assert shipment_count(store) == 0
    assert stock_of(store.container, "MUG")[0][1:] == (2, 1)
    view = store.ship(order, store.sh1)
    keys = [key for op, _, key in store.carrier.calls if op == "create"]
    assert len(keys) == 2
    assert keys[0] == keys[1]  # the same parcel asks with the same idempotency key
    assert view.tracking_number == sandbox_tracking_number("ups", keys[0])


def test_the_carrier_is_never_called_inside_a_transaction(store: Store) -> None:
    engine = store.container.engine
    connections_in_use: list[int] = []
    original_create, original_track = store.carrier.create_shipment, store.carrier.track

    def create(*args: object, **kwargs: object) -> object:
        connections_in_use.append(engine.pool.checkedout())  # type: ignore[attr-defined]
        return original_create(*args, **kwargs)  # type: ignore[arg-type]

    def track(*args: object) -> object:
        connections_in_use.append(engine.pool.checkedout())  # type: ignore[attr-defined]
        return original_track(*args)  # type: ignore[arg-type]

    store.carrier.create_shipment = create  # type: ignore[method-assign]
    store.carrier.track = track  # type: ignore[method-assign]
    store.ship(store.place(("MUG", 1)), store.sh1)
    store.clock.advance(timedelta(days=1))
    fulfilment.poll_tracking(lambda: store.container.uow(SYSTEM), store.carrier)
    assert connections_in_use == [0, 0]


def test_tracking_to_delivered_moves_the_order(store: Store) -> None:
    order = store.place(("TEE", 7))
    first = store.ship(order, store.sh1)
    second = store.ship(order, store.bj1)
    store.clock.advance(timedelta(days=3))
    t = START + timedelta(hours=2)
    assert store.track(first.id, "in_transit", t, location="Shanghai").status_changed
    assert store.track(first.id, "delivered", t + timedelta(days=1)).shipment.status == "delivered"
    assert store.order(order.id).status == "shipped"  # one parcel still on the way
    result = store.track(second.id, "delivered", t + timedelta(days=2))
    assert (result.recorded, result.shipment.delivered_at) == (True, t + timedelta(days=2))
    delivered = store.order(order.id)
    assert (delivered.status, delivered.delivered_at) == ("delivered", store.clock.now())
    kinds = [e.kind for e in store.timeline(order.id)]
    assert kinds.count("shipment_delivered") == 2
    assert [e.to_status for e in store.timeline(order.id) if e.to_status][-1] == "delivered"
    types = event_types(store)
    assert types.count("shipment.delivered") == 2
    assert types.count("order.delivered") == 1


def test_duplicate_and_late_arriving_scans(store: Store) -> None:
    shipment = store.ship(store.place(("MUG", 1)), store.sh1)
    t = START + timedelta(hours=5)
    store.clock.set(t)
    assert store.track(shipment.id, "out_for_delivery", t).recorded
    repeat = store.track(shipment.id, "out_for_delivery", t)
    assert (repeat.recorded, repeat.status_changed) == (False, False)
    older = store.track(shipment.id, "in_transit", t - timedelta(hours=3))
    assert (older.recorded, older.status_changed) == (True, False)
    assert older.shipment.status == "out_for_delivery"
    assert [e.status for e in older.shipment.events or []] == ["in_transit", "out_for_delivery"]


def test_exception_scans_are_announced_and_on_the_timeline(store: Store) -> None:
    order = store.place(("MUG", 1))
    shipment = store.ship(order, store.sh1)
    store.clock.advance(timedelta(days=2))
    at = START + timedelta(days=1)
    store.track(shipment.id, "exception", at, location="Hub", description="Address not found")
    assert "shipment.exception" in event_types(store)
    entry = [e for e in store.timeline(order.id) if e.kind == "shipment_exception"]
    assert [e.reason for e in entry] == ["Address not found"]
    assert store.track(shipment.id, "delivered", at + timedelta(days=1)).shipment.status == (
        "delivered"
    )


def test_scan_input_is_checked(store: Store) -> None:
    shipment = store.ship(store.place(("MUG", 1)), store.sh1)
    with pytest.raises(ValidationFailed) as caught:
        store.track(shipment.id, "lost", START + timedelta(days=3), description="x" * 501)
    assert {(e.field, e.code) for e in caught.value.errors} == {
        ("status", "fulfilment.invalid_status"),
        ("occurred_at", "fulfilment.invalid_event_time"),
        ("description", "fulfilment.invalid_text"),
    }


def test_delivered_orders_complete_after_the_configured_days(store: Store) -> None:
    order = store.place(("MUG", 1))
    shipment = store.ship(order, store.sh1)
    store.clock.advance(timedelta(hours=30))
    store.track(shipment.id, "delivered", store.clock.now() - timedelta(hours=1))
    store.clock.advance(timedelta(days=6, hours=23))
    with store.container.uow(SYSTEM) as uow:
        assert fulfilment.complete_delivered(uow) == 0
    store.clock.advance(timedelta(hours=2))
    with store.container.uow(SYSTEM) as uow:
        assert fulfilment.complete_delivered(uow) == 1
        uow.commit()
    completed = store.order(order.id)
    assert (completed.status, completed.completed_at) == ("completed", store.clock.now())


def test_completion_days_come_from_settings(make_container, store: Store) -> None:
    quick = make_container(clock=store.clock, complete_after_days=1)
    order = store.place(("MUG", 1))
    store.track(store.ship(order, store.sh1).id, "delivered", START)
    store.clock.advance(timedelta(days=1, minutes=1))
    with quick.uow(SYSTEM) as uow:
        assert fulfilment.complete_delivered(uow) == 1


def test_polling_the_carrier_follows_the_parcel_to_the_door(store: Store) -> None:
    order = store.place(("MUG", 1))
    shipment = store.ship(order, store.sh1)
    poll = lambda: fulfilment.poll_tracking(lambda: store.container.uow(SYSTEM), store.carrier)  # noqa: E731
    assert poll() == 0
    store.clock.advance(timedelta(days=1))
    assert poll() == 1
    store.clock.advance(timedelta(minutes=10))
    assert poll() == 0  # polled less than 30 minutes ago: not asked again
    assert [c[0] for c in store.carrier.calls].count("track") == 2
    store.clock.advance(timedelta(days=2))
    assert poll() == 2
    with store.container.uow(SYSTEM) as uow:
        view = fulfilment.get_shipment(uow, shipment.id)
    assert [e.status for e in view.events or []] == ["in_transit", "out_for_delivery", "delivered"]
    assert {e.source for e in view.events or []} == {"poll"}
    assert store.order(order.id).status == "delivered"
    store.clock.advance(timedelta(hours=1))
    calls = len(store.carrier.calls)
    assert poll() == 0
    assert len(store.carrier.calls) == calls  # delivered parcels are not polled


def test_a_failing_carrier_skips_that_shipment_only(store: Store) -> None:
    ups = store.ship(store.place(("MUG", 1)), store.sh1, carrier="ups")
    dhl = store.ship(store.place(("MUG", 1)), store.sh1, carrier="dhl")
    store.carrier.unavailable.add("ups")
    store.clock.advance(timedelta(days=1))
    assert fulfilment.poll_tracking(lambda: store.container.uow(SYSTEM), store.carrier) == 1
    with store.container.uow(SYSTEM) as uow:
        assert fulfilment.get_shipment(uow, ups.id).status == "label_created"
        assert fulfilment.get_shipment(uow, dhl.id).status == "in_transit"


def test_jobs_are_scheduled(store: Store) -> None:
    scheduler = store.container.make_scheduler("test")
    assert {"fulfilment.complete_delivered", "fulfilment.poll_tracking"} <= set(scheduler.jobs)
    store.ship(store.place(("MUG", 1)), store.sh1)
    store.clock.advance(timedelta(days=1))
    assert "fulfilment.poll_tracking" in scheduler.run_due()
    with store.container.uow(SYSTEM) as uow:
        page = fulfilment.list_shipments(uow, fulfilment.ShipmentFilter())
    assert [v.status for v in page.items] == ["in_transit"]


def test_lists_filter_and_page(store: Store) -> None:
    orders_ = [store.place(("MUG", 1)) for _ in range(2)] + [store.place(("TEE", 1))]
    views = [
        store.ship(o, store.sh1, carrier=c)
        for o, c in zip(orders_, ["ups", "dhl", "ups"], strict=True)
    ]
    store.clock.advance(timedelta(days=6))  # past every deliver_by (START + 5 days)
    store.track(views[0].id, "delivered", START + timedelta(days=6))  # arrived late
    store.track(views[1].id, "delivered", START + timedelta(days=1))  # on time
    with store.container.uow(SYSTEM) as uow:

        def ids(**filters: object) -> list[int]:
            page = fulfilment.list_shipments(uow, fulfilment.ShipmentFilter(**filters))  # type: ignore[arg-type]
            return [v.id for v in page.items]

        assert ids(carrier="ups") == [views[0].id, views[2].id]
        assert ids(status="label_created") == [views[2].id]
        assert ids(status="delivered", carrier="dhl") == [views[1].id]
        assert ids(order_id=orders_[1].id) == [views[1].id]
        assert ids(warehouse_id=store.bj1) == []
        assert ids(late=True) == [views[0].id, views[2].id]  # arrived late; still on the way
        assert ids(late=False) == [views[1].id]
        first = fulfilment.list_shipments(uow, fulfilment.ShipmentFilter(limit=2))
        assert [v.id for v in first.items] == [views[0].id, views[1].id]
        assert first.next_after_id == views[1].id
        rest = fulfilment.list_shipments(uow, fulfilment.ShipmentFilter(after_id=views[1].id))
        assert ([v.id for v in rest.items], rest.next_after_id) == ([views[2].id], None)
        with pytest.raises(ValidationFailed):
            fulfilment.list_shipments(uow, fulfilment.ShipmentFilter(status="lost"))


def test_late_orders_are_paid_orders_past_ship_by(store: Store) -> None:
    on_time = store.place(("MUG", 1))
    store.clock.advance(timedelta(hours=1))
    partly = store.place(("TEE", 7))
    store.place(("MUG", 1), paid=False)
    store.ship(on_time, store.sh1)
    store.ship(partly, store.sh1)
    with store.container.uow(SYSTEM) as uow:
        assert fulfilment.late_orders(uow, fulfilment.LateOrderFilter()).items == []
    store.clock.advance(timedelta(hours=50))
    with store.container.uow(SYSTEM) as uow:
        page = fulfilment.late_orders(uow, fulfilment.LateOrderFilter())
    assert [(v.number, v.status, v.units_ordered, v.units_shipped) for v in page.items] == [
        (partly.number, "partially_shipped", 7, 5)
    ]
    assert page.items[0].overdue_hours == 2.0

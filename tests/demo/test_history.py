"""The demo store's order history keeps every invariant the live system keeps.

Seeds a small store (200 customers, 60 days) and checks with SQL: the stock
ledger, reservations, money, line quantities, timelines and their order,
statuses, no outbox events; then that the same seed gives the same store and
that the behaviour looks like a shop (repeat buyers, returns, cancellations).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, text

from shopops.bootstrap import Container, build
from shopops.contexts import inventory, orders
from shopops.demo.generator import DemoSize, seed_demo
from tests.conftest import _truncate, make_settings

END = datetime(2026, 3, 1, 12, tzinfo=UTC)
SMALL = DemoSize(customers=200, days=60, seed=7)


def _seed(container: Container, size: DemoSize = SMALL) -> None:
    seed_demo(container, size, now=END)


def _rows(container: Container, sql: str) -> list[Any]:
    with container.engine.connect() as connection:
        return list(connection.execute(text(sql)))


def _aware(moment: Any) -> datetime:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    assert isinstance(moment, datetime)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def store(database_url: str, schema_engine: Engine) -> Iterator[Container]:
    """One seeded store shared by the read-only checks below."""
    _truncate(schema_engine)
    container = build(make_settings(database_url))
    _seed(container)
    yield container
    container.dispose()
    _truncate(schema_engine)


def test_stock_books_balance(store: Container) -> None:
    with store.session_factory() as session:
        assert inventory.ledger_discrepancies(session) == []
    levels = _rows(store, "SELECT sku, warehouse_id, on_hand, reserved FROM stock_levels")
    held = {
        (sku, wh): int(q)
        for sku, wh, q in _rows(
            store,
            "SELECT sku, warehouse_id, SUM(quantity) FROM reservations "
            "WHERE status = 'active' GROUP BY sku, warehouse_id",
        )
    }
    for sku, warehouse_id, on_hand, reserved in levels:
        assert 0 <= reserved <= on_hand, sku
        assert reserved == held.get((sku, warehouse_id), 0), (sku, warehouse_id)
    running: Counter[tuple[str, int]] = Counter()
    kinds = Counter()
    for sku, warehouse_id, kind, quantity in _rows(
        store,
        "SELECT sku, warehouse_id, kind, quantity FROM stock_movements ORDER BY occurred_at, id",
    ):
        running[(sku, warehouse_id)] += quantity
        kinds[kind] += 1
        assert running[(sku, warehouse_id)] >= 0, (sku, warehouse_id)
    assert {"receipt", "sale", "return", "adjustment"} <= set(kinds), kinds
    # Sales are the units shipped; returns the units restocked.
    shipped = _rows(store, "SELECT COALESCE(SUM(quantity), 0) FROM shipment_lines")[0][0]
    sold = _rows(store, "SELECT -SUM(quantity) FROM stock_movements WHERE kind = 'sale'")[0][0]
    assert shipped == sold
    restocked = _rows(
        store, "SELECT SUM(quantity) FROM return_lines WHERE disposition = 'restock'"
    )[0][0]
    back = _rows(store, "SELECT SUM(quantity) FROM stock_movements WHERE kind = 'return'")[0][0]
    assert restocked == back


def test_money_agrees(store: Container) -> None:
    for row in _rows(
        store,
        "SELECT o.id, o.total_minor, o.captured_minor, o.refunded_minor, o.payment_status, "
        "(SELECT COALESCE(SUM(captured_minor), 0) FROM payments p WHERE p.order_id = o.id), "
        "(SELECT COALESCE(SUM(refunded_minor), 0) FROM order_lines l WHERE l.order_id = o.id), "
        "(SELECT COALESCE(SUM(amount_minor), 0) FROM refunds r "
        " WHERE r.order_id = o.id AND r.status = 'succeeded'), "
        "(SELECT COALESCE(SUM(total_minor), 0) FROM order_lines l WHERE l.order_id = o.id) "
        "FROM orders o",
    ):
        order_id, total, captured, refunded, status, paid, line_refunds, refunds, lines = row
        assert total == lines, order_id
        assert captured == paid, order_id
        assert captured in (0, total), order_id
        assert (status == "unpaid") == (captured == 0), order_id
        assert 0 <= refunded <= captured, order_id
        assert refunded == line_refunds == refunds, order_id
    for payment_id, captured, refunded, status, refunds in _rows(
        store,
        "SELECT p.id, p.captured_minor, p.refunded_minor, p.status, "
        "(SELECT COALESCE(SUM(amount_minor), 0) FROM refunds r WHERE r.payment_id = p.id) "
        "FROM payments p",
    ):
        assert 0 <= refunded <= captured, payment_id
        assert refunded == refunds, payment_id
        if refunded:
            assert status == ("refunded" if refunded == captured else "partially_refunded")


def test_lines_match_shipments_and_returns(store: Container) -> None:
    for line_id, quantity, shipped, returned, in_parcels, received in _rows(
        store,
        "SELECT l.id, l.quantity, l.shipped_quantity, l.returned_quantity, "
        "(SELECT COALESCE(SUM(quantity), 0) FROM shipment_lines s WHERE s.order_line_id = l.id), "
        "(SELECT COALESCE(SUM(rl.quantity), 0) FROM return_lines rl "
        " JOIN return_requests r ON r.id = rl.return_id "
        " WHERE rl.order_line_id = l.id AND r.received_at IS NOT NULL) "
        "FROM order_lines l",
    ):
        assert shipped == in_parcels, line_id
        assert returned == received, line_id
        assert 0 <= returned <= shipped <= quantity, line_id
    for return_id, status, refund_minor, lines, refund in _rows(
        store,
        "SELECT r.id, r.status, r.refund_minor, "
        "(SELECT SUM(refund_minor) FROM return_lines rl WHERE rl.return_id = r.id), "
        "(SELECT amount_minor FROM refunds f WHERE f.id = r.refund_id) FROM return_requests r",
    ):
        if status == "refunded":
            assert refund_minor == lines == refund, return_id


def test_timelines_and_timestamps(store: Container) -> None:
    order_rows = _rows(
        store,
        "SELECT id, status, placed_at, paid_at, shipped_at, delivered_at, completed_at, "
        "created_at, updated_at FROM orders",
    )
    timeline: dict[int, list[Any]] = defaultdict(list)
    for row in _rows(
        store,
        "SELECT order_id, kind, from_status, to_status, occurred_at FROM order_events ORDER BY id",
    ):
        timeline[row[0]].append(row)
    for order_id, status, *stamps, created, updated in order_rows:
        assert status in {s.value for s in orders.OrderStatus}
        moments = [_aware(s) for s in stamps if s is not None]
        assert moments == sorted(moments), order_id
        assert _aware(created) == moments[0] <= _aware(updated) <= END
        events = timeline[order_id]
        assert events[0][1] == "placed"
        assert _aware(events[0][4]) == moments[0]
        times = [_aware(e[4]) for e in events]
        assert times == sorted(times), order_id
        assert times[-1] == _aware(updated)
        current = "pending_payment"
        for _, kind, source, target, _ in events[1:]:
            if target is not None:
                assert kind == "status_changed"
                assert source == current, order_id
                assert orders.can_transition(current, target), (order_id, current, target)
                current = target
        assert current == status, order_id
    for shipped, delivered, status_at, status in _rows(
        store, "SELECT shipped_at, delivered_at, status_at, status FROM shipments"
    ):
        assert _aware(shipped) <= _aware(status_at) <= END
        assert (delivered is not None) == (status == "delivered")


def test_open_orders_hold_stock_and_history_is_quiet(store: Container) -> None:
    by_status: dict[str, set[str]] = defaultdict(set)
    for status, reservation in _rows(
        store,
        "SELECT o.status, r.status FROM orders o JOIN reservations r ON r.reference = o.number",
    ):
        by_status[status].add(reservation)
    assert by_status["pending_payment"] == {"active"}
    assert by_status["paid"] == {"active"}
    assert by_status["closed"] == by_status["cancelled"] == {"released"}
    assert by_status["completed"] == by_status["delivered"] == {"consumed"}
    # History is not news: the only events are those of the catalog and opening stock.
    news = _rows(
        store,
        "SELECT COUNT(*) FROM outbox_events WHERE aggregate_type IN "
        "('order', 'payment', 'refund', 'shipment', 'return', 'customer')",
    )
    assert news[0][0] == 0
    stock_news = _rows(store, "SELECT COUNT(*) FROM outbox_events WHERE event_type = 'stock.moved'")
    opening = _rows(store, "SELECT COUNT(*) FROM stock_movements WHERE reference = 'demo-seed'")
    assert stock_news == opening
    batches = _rows(
        store, "SELECT COUNT(*) FROM audit_entries WHERE action = 'demo.orders_generated'"
    )[0][0]
    assert 1 <= batches <= 5


def test_shop_like_rates(store: Container) -> None:
    statuses = dict(_rows(store, "SELECT status, COUNT(*) FROM orders GROUP BY status"))
    total = sum(statuses.values())
    assert total > 200
    assert statuses.get("completed", 0) + statuses.get("delivered", 0) > total * 0.6
    assert 0 < statuses.get("closed", 0) < total * 0.1
    assert 0 < statuses.get("cancelled", 0) < total * 0.08
    assert statuses.get("pending_payment", 0) >= 1
    repeaters = _rows(
        store,
        "SELECT COUNT(*) FROM (SELECT customer_id FROM orders WHERE customer_id IS NOT NULL "
        "GROUP BY customer_id HAVING COUNT(*) > 1) t",
    )[0][0]
    assert repeaters > 10
    returns = _rows(store, "SELECT COUNT(*) FROM return_requests")[0][0]
    assert 0 < returns < total * 0.15
    assert _rows(store, "SELECT COUNT(*) FROM orders WHERE customer_id IS NULL")[0][0] > 0
    late = _rows(store, "SELECT COUNT(*) FROM shipments WHERE shipped_at > ship_by")[0][0]
    assert 0 < late < total * 0.1


def test_storefront_events_agree_with_the_orders(store: Container) -> None:
    """Each paid order has its buying session ending in ``Order Completed``; most sessions
    do not buy; every event lists its products."""
    completed = _rows(
        store,
        "SELECT e.order_id, e.revenue_minor, o.total_minor, o.customer_id, e.user_id "
        "FROM tracked_events e JOIN orders o ON o.number = e.order_id "
        "WHERE e.event = 'Order Completed'",
    )
    paid = _rows(store, "SELECT COUNT(*) FROM orders WHERE paid_at IS NOT NULL")[0][0]
    assert len(completed) == paid > 0
    unmatched = _rows(
        store,
        "SELECT COUNT(*) FROM tracked_events WHERE event = 'Order Completed' AND order_id NOT IN "
        "(SELECT number FROM orders)",
    )[0][0]
    assert unmatched == 0
    for _, revenue, total, customer_id, user_id in completed:
        assert revenue == total
        assert user_id == (None if customer_id is None else str(customer_id))
    visitors = _rows(store, "SELECT COUNT(DISTINCT anonymous_id) FROM tracked_events")[0][0]
    assert visitors > paid * 3  # browsers who left without buying
    checkouts = _rows(
        store, "SELECT COUNT(*) FROM tracked_events WHERE event = 'Checkout Started'"
    )[0][0]
    assert paid < checkouts < paid * 3
    bare = _rows(
        store,
        "SELECT COUNT(*) FROM tracked_events e WHERE NOT EXISTS "
        "(SELECT 1 FROM tracked_event_products p WHERE p.event_id = e.id)",
    )[0][0]
    assert bare == 0

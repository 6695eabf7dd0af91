"""The demo store's order history keeps every invariant the live system keeps.

Seeds a small store (200 customers, 60 days) and checks with SQL: the stock
ledger, reservations, money, line quantities, timelines and their order,
statuses, no outbox events; then that the same seed gives the same store and
that the behaviour looks like a shop (repeat buyers, returns, cancellations).
Last, the past campaigns: every order's price breakdown adds up, each promotion's
performance is what its orders say, and no quota, budget or coupon limit was passed.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, text

from shopops.analytics import engines as analytics_engines
from shopops.bootstrap import Container, build
from shopops.contexts import inventory, orders, promotions, returns
from shopops.demo.campaigns import SEEDER
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


# --- the past campaigns: priced by the engine, redeemed within their limits ---------------

_BREAKDOWN_KEYS = {  # orders.pricing as checkout stores it (``PricedCart.as_dict`` + method)
    "currency",
    "lines",
    "order_discounts",
    "subtotal_minor",
    "item_discount_minor",
    "order_discount_minor",
    "discount_minor",
    "shipping_minor",
    "shipping_discount_minor",
    "points_redeemed",
    "points_minor",
    "tax_minor",
    "total_minor",
    "applied",
    "coupons",
    "shipping_method",
}


def _pricing(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str | bytes) else dict(value)


def _orders(store: Container) -> list[Any]:
    return _rows(
        store,
        "SELECT id, number, status, customer_id, subtotal_minor, discount_minor, "
        "shipping_minor, tax_minor, total_minor, captured_minor, pricing FROM orders ORDER BY id",
    )


def test_every_order_has_an_exact_price_breakdown(store: Container) -> None:
    lines_of: dict[int, list[Any]] = defaultdict(list)
    for row in _rows(
        store,
        "SELECT order_id, sku, quantity, unit_price_minor, discount_minor, total_minor, "
        "refunded_minor FROM order_lines ORDER BY order_id, line_number",
    ):
        lines_of[row[0]].append(row)
    discounted = 0
    for order_id, _, _, _, subtotal, discount, shipping, tax, total, _, raw in _orders(store):
        pricing = _pricing(raw)
        assert set(pricing) == _BREAKDOWN_KEYS, order_id
        assert pricing["shipping_method"] == "standard"
        assert (subtotal, discount, shipping, tax, total) == (
            pricing["subtotal_minor"],
            pricing["discount_minor"],
            pricing["shipping_minor"],
            pricing["tax_minor"],
            pricing["total_minor"],
        ), order_id
        assert total == subtotal - discount + shipping - pricing["points_minor"], order_id
        assert discount == (
            pricing["item_discount_minor"]
            + pricing["order_discount_minor"]
            + pricing["shipping_discount_minor"]
        )
        assert discount == sum(a["discount_minor"] for a in pricing["applied"]), order_id
        rows = lines_of[order_id]
        assert len(rows) == len(pricing["lines"]), order_id
        by_promotion: Counter[int] = Counter()
        for row, line in zip(rows, pricing["lines"], strict=True):
            _, sku, quantity, unit_price, line_discount, line_total, refunded = row
            assert (sku, quantity, unit_price, line_discount, line_total) == (
                line["sku"],
                line["quantity"],
                line["unit_price_minor"],
                line["discount_minor"],
                line["total_minor"],
            ), order_id
            assert line["subtotal_minor"] == unit_price * quantity
            assert line_discount == sum(part["amount_minor"] for part in line["discounts"])
            assert line_total == line["subtotal_minor"] - line_discount - line["points_minor"]
            assert 0 <= refunded <= line_total, order_id
            for part in line["discounts"]:
                by_promotion[part["promotion_id"]] += part["amount_minor"]
        # Each promotion's amount is split over the lines exactly (shipping aside).
        assert sum(line[4] for line in rows) == discount - pricing["shipping_discount_minor"]
        assert by_promotion == Counter(
            {a["promotion_id"]: a["discount_minor"] for a in pricing["applied"]}
        ), order_id
        assert {(d["promotion_id"], d["amount_minor"]) for d in pricing["order_discounts"]} == {
            (a["promotion_id"], a["discount_minor"])
            for a in pricing["applied"]
            if a["level"] == "order"
        }
        discounted += discount > 0
    assert discounted > 20


def _past_campaigns(store: Container) -> list[promotions.PromotionView]:
    with store.uow(SEEDER) as uow:
        return promotions.list_promotions(uow, promotions.ListPromotions(status="inactive"))


def test_past_campaigns_perform_as_their_orders_say(store: Container) -> None:
    """The performance report of every promotion equals what its orders add up to."""
    live: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])  # orders .. coupons
    released: Counter[int] = Counter()
    for _, _, status, _, _, _, _, _, total, _, raw in _orders(store):
        for applied in _pricing(raw)["applied"]:
            if status in ("cancelled", "closed"):  # given back when the order ended
                released[applied["promotion_id"]] += 1
                continue
            figures = live[applied["promotion_id"]]
            figures[0] += 1
            figures[1] += applied["discount_minor"]
            figures[2] += total
            figures[3] += applied["units"]
            figures[4] += applied["coupon_code"] is not None
    past = _past_campaigns(store)
    assert {p.kind for p in past} == {"spend_tiers", "flash_price", "fixed_amount"}
    with store.uow(SEEDER) as uow:
        report = promotions.performance_report(uow, promotions.ListPromotions(limit=500))
    by_id = {p.promotion_id: p for p in report}
    for promotion in past:
        performance = by_id[promotion.id]
        orders, discount, gmv, units, coupons = live[promotion.id]
        assert performance.status == "inactive"
        assert performance.redemptions == performance.redemptions_used == orders, promotion.name
        assert performance.discount_minor == performance.budget_used_minor == discount
        assert performance.gmv_minor == gmv
        assert performance.released == released[promotion.id]
        assert performance.coupon_redemptions == coupons
        if promotion.kind == "flash_price":
            assert performance.units_sold == units
            assert performance.quota_units == 40
    performing = [by_id[p.id] for p in past if by_id[p.id].redemptions]
    assert {p.kind for p in performing} == {"spend_tiers", "flash_price", "fixed_amount"}
    assert all(p.discount_minor > 0 and p.gmv_minor > 0 for p in performing)
    member_day = next(p for p in report if p.kind == "percentage")
    assert member_day.status == "active"
    assert member_day.redemptions == live[member_day.promotion_id][0] > 0
    # The analytics read the same promotions out of the breakdowns (cancelled ones too).
    staged: Counter[str] = Counter()
    for _, name, amount in analytics_engines.staged_promotions(store.settings.database_url):
        staged[name] += amount
    ledger = _rows(
        store,
        "SELECT p.name, SUM(r.discount_minor) FROM promotion_redemptions r "
        "JOIN promotions p ON p.id = r.promotion_id GROUP BY p.name",
    )
    assert staged == Counter(dict(ledger))


def test_past_campaigns_kept_their_limits(store: Container) -> None:
    """No flash sale sold past its quota or a customer's limit, no budget or coupon limit
    was passed — at any moment of the history — and the counters match their ledgers."""
    limits = {
        p.id: p.definition["limits"] for p in _past_campaigns(store) if p.kind == "flash_price"
    }
    assert limits
    moves: list[tuple[datetime, int, int, int | None, int]] = []  # time, +-1, promotion ..
    for promotion_id, customer_id, units, redeemed, released in _rows(
        store,
        "SELECT promotion_id, customer_id, units, redeemed_at, released_at "
        "FROM promotion_redemptions",
    ):
        moves.append((_aware(redeemed), 1, promotion_id, customer_id, units))
        if released is not None:
            assert _aware(released) >= _aware(redeemed)
            moves.append((_aware(released), -1, promotion_id, customer_id, units))
    sold: Counter[int] = Counter()
    bought: Counter[tuple[int, int | None]] = Counter()
    for _, sign, promotion_id, customer_id, units in sorted(moves, key=lambda m: (m[0], m[1])):
        sold[promotion_id] += sign * units
        bought[(promotion_id, customer_id)] += sign * units
        if promotion_id in limits:
            assert sold[promotion_id] <= limits[promotion_id]["quota_units"]
            if customer_id is not None:
                assert bought[(promotion_id, customer_id)] <= 2
    quotas = dict(_rows(store, "SELECT promotion_id, sold_units FROM flash_sale_quotas"))
    for promotion_id in limits:
        assert quotas[promotion_id] == sold[promotion_id] <= 40
    assert any(sold[promotion_id] for promotion_id in limits)
    for promotion_id, used, budget, uses, redeemed in _rows(
        store,
        "SELECT p.id, p.discount_used_minor, p.max_discount_minor, p.redemptions_used, "
        "(SELECT COUNT(*) FROM promotion_redemptions r "
        " WHERE r.promotion_id = p.id AND r.status = 'redeemed') FROM promotions p",
    ):
        assert budget is None or used <= budget, promotion_id
        assert uses == redeemed, promotion_id
    for code, used, max_uses, per_customer, live, most in _rows(
        store,
        "SELECT c.code, c.used, c.max_uses, c.per_customer_limit, "
        "(SELECT COUNT(*) FROM coupon_redemptions r WHERE r.coupon_id = c.id "
        " AND r.status = 'redeemed'), "
        "(SELECT COALESCE(MAX(n), 0) FROM (SELECT COUNT(*) AS n FROM coupon_redemptions r "
        " WHERE r.coupon_id = c.id AND r.status = 'redeemed' GROUP BY r.customer_id) t) "
        "FROM coupons c",
    ):
        assert used == live, code
        assert max_uses is None or used <= max_uses, code
        assert per_customer is None or most <= per_customer, code
    for subject, subject_id, customer_id, uses, units in _rows(
        store, "SELECT subject, subject_id, customer_id, uses, units FROM promotion_customer_usage"
    ):
        table = "promotion_redemptions" if subject == "promotion" else "coupon_redemptions"
        key = "promotion_id" if subject == "promotion" else "coupon_id"
        counted = _rows(
            store,
            f"SELECT COUNT(*), {'COALESCE(SUM(units), 0)' if subject == 'promotion' else '0'} "
            f"FROM {table} WHERE {key} = {subject_id} AND customer_id = {customer_id} "
            "AND status = 'redeemed'",
        )[0]
        assert (uses, units) == tuple(counted), (subject, subject_id, customer_id)


def test_refunds_give_back_what_discounted_lines_cost(store: Container) -> None:
    """A returned unit of a discounted line refunds its share of what the line cost."""
    checked = 0
    for quantity, total, returned, refund in _rows(
        store,
        "SELECT l.quantity, l.total_minor, rl.quantity, rl.refund_minor FROM return_lines rl "
        "JOIN order_lines l ON l.id = rl.order_line_id "
        "JOIN return_requests r ON r.id = rl.return_id WHERE r.status = 'refunded'",
    ):
        assert refund == returns.units_value(total, quantity, 0, returned)
        checked += 1
    assert checked

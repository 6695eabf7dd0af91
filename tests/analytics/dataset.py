"""A small hand-built shop, inserted directly, whose KPIs are worked out by hand in the tests.

Store time zone Asia/Shanghai (UTC+8); the report window is 2026-03-01..2026-03-02
local, i.e. [2026-02-28T16:00Z, 2026-03-02T16:00Z).

Orders (USD unless said):
  O0  customer 2, web,  2026-01-10T00:00Z, completed   A x1                  (before the window)
  O1  customer 1, web,  2026-03-01T01:00Z (Mar 1), completed, promotion Spring 200 off
                        A x2 (gross 2000, discount 200, total 1800), B x1 (5000)
  O2  customer 2, app,  2026-03-01T17:00Z (Mar 2 local!), delivered
                        A x1 (1000), refunded 1000, returned 1
  O3  guest,      web,  2026-02-28T16:30Z (00:30 on Mar 1 local), cancelled   B x2 (10000)
  O4  customer 1, web,  2026-03-02T02:00Z (Mar 2), paid    B x1 (5000)
  O5  customer 1, web,  2026-03-02T03:00Z, EUR: not in the USD reports
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert

from shopops.bootstrap import Container, metadata

TZ = "Asia/Shanghai"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _insert(container: Container, table: str, rows: list[dict[str, Any]]) -> None:
    with container.engine.begin() as connection:
        connection.execute(insert(metadata.tables[table]), rows)


def _order(
    order_id: int,
    *,
    customer_id: int | None,
    channel: str,
    placed_at: str,
    status: str,
    lines: list[tuple[str, int, int, int]],  # sku, quantity, unit price, discount
    region: str = "CN-SH",
    currency: str = "USD",
    refunded: int = 0,
    paid_at: str | None = None,
    pricing: dict[str, Any] | None = None,
) -> dict[str, Any]:
    subtotal = sum(q * p for _, q, p, _ in lines)
    discount = sum(d for *_, d in lines)
    return {
        "id": order_id,
        "number": f"SO-{order_id}",
        "status": status,
        "payment_status": "paid" if paid_at else "unpaid",
        "channel": channel,
        "customer_id": customer_id,
        "guest_email_hash": None if customer_id else f"guest-{order_id}",
        "ship_city": "City",
        "ship_region": region,
        "ship_country": "CN",
        "currency": currency,
        "subtotal_minor": subtotal,
        "discount_minor": discount,
        "total_minor": subtotal - discount,
        "refunded_minor": refunded,
        "pricing": pricing or {"lines": [], "applied": []},
        "risk_flags": [],
        "value_band": "low",
        "placed_at": at(placed_at),
        "paid_at": at(paid_at) if paid_at else None,
        "created_at": at(placed_at),
        "updated_at": at(placed_at),
    }


COST = {"A": 400, "B": 2000}


def _lines(
    order_id: int,
    first_id: int,
    lines: list[tuple[str, int, int, int]],
    refunded: dict[str, int] | None = None,
    returned: dict[str, int] | None = None,
) -> list[dict[str, Any]]:
    return [
        {
            "id": first_id + n,
            "order_id": order_id,
            "line_number": n + 1,
            "sku": sku,
            "product_name": f"Product {sku}",
            "quantity": quantity,
            "unit_price_minor": price,
            "unit_cost_minor": COST[sku],
            "discount_minor": discount,
            "total_minor": quantity * price - discount,
            "shipped_quantity": quantity,
            "returned_quantity": (returned or {}).get(sku, 0),
            "refunded_minor": (refunded or {}).get(sku, 0),
        }
        for n, (sku, quantity, price, discount) in enumerate(lines)
    ]


def build_shop(container: Container) -> None:
    created = at("2026-01-01T00:00:00")
    stamp = {"created_at": created, "updated_at": created}
    _insert(
        container,
        "categories",
        [
            {"id": 1, "name": "Tops", "slug": "tops", **stamp},
            {"id": 2, "name": "Shoes", "slug": "shoes", **stamp},
        ],
    )
    _insert(
        container,
        "brands",
        [
            {"id": 1, "name": "Acme", "slug": "acme", **stamp},
            {"id": 2, "name": "Bolt", "slug": "bolt", **stamp},
        ],
    )
    _insert(
        container,
        "products",
        [
            {
                "id": 1,
                "code": "P-A",
                "name": "Tee",
                "category_id": 1,
                "brand_id": 1,
                "status": "active",
                **stamp,
            },
            {
                "id": 2,
                "code": "P-B",
                "name": "Runner",
                "category_id": 2,
                "brand_id": 2,
                "status": "active",
                **stamp,
            },
        ],
    )
    _insert(
        container,
        "variants",
        [
            {
                "id": 1,
                "product_id": 1,
                "sku": "A",
                "price_minor": 1000,
                "cost_minor": 400,
                "currency": "USD",
                "attributes": {},
                **stamp,
            },
            {
                "id": 2,
                "product_id": 2,
                "sku": "B",
                "price_minor": 5000,
                "cost_minor": 2000,
                "currency": "USD",
                "attributes": {},
                **stamp,
            },
        ],
    )
    _insert(
        container,
        "customers",
        [
            {
                "id": 1,
                "tags": [],
                "source_channel": "web",
                "registered_at": created,
                "region": "CN-SH",
                "tier": "gold",
                **stamp,
            },
            {
                "id": 2,
                "tags": [],
                "source_channel": "app",
                "registered_at": created,
                "region": "CN-BJ",
                "tier": None,
                **stamp,
            },
        ],
    )
    _insert(
        container,
        "warehouses",
        [
            {"id": 1, "code": "SH1", "name": "Shanghai", "region": "CN-SH", **stamp},
            {"id": 2, "code": "BJ1", "name": "Beijing", "region": "CN-BJ", **stamp},
        ],
    )
    spring = {"applied": [{"promotion_id": 7, "name": "Spring", "discount_minor": 200}]}
    _insert(
        container,
        "orders",
        [
            _order(
                10,
                customer_id=2,
                channel="web",
                placed_at="2026-01-10T00:00:00",
                status="completed",
                lines=[("A", 1, 1000, 0)],
                region="CN-BJ",
                paid_at="2026-01-10T00:05:00",
            ),
            _order(
                11,
                customer_id=1,
                channel="web",
                placed_at="2026-03-01T01:00:00",
                status="completed",
                lines=[("A", 2, 1000, 200), ("B", 1, 5000, 0)],
                paid_at="2026-03-01T01:05:00",
                pricing=spring,
            ),
            _order(
                12,
                customer_id=2,
                channel="app",
                placed_at="2026-03-01T17:00:00",
                status="delivered",
                lines=[("A", 1, 1000, 0)],
                region="CN-BJ",
                refunded=1000,
                paid_at="2026-03-01T17:01:00",
            ),
            _order(
                13,
                customer_id=None,
                channel="web",
                placed_at="2026-02-28T16:30:00",
                status="cancelled",
                lines=[("B", 2, 5000, 0)],
            ),
            _order(
                14,
                customer_id=1,
                channel="web",
                placed_at="2026-03-02T02:00:00",
                status="paid",
                lines=[("B", 1, 5000, 0)],
                paid_at="2026-03-02T02:10:00",
            ),
            _order(
                15,
                customer_id=1,
                channel="web",
                placed_at="2026-03-02T03:00:00",
                status="paid",
                lines=[("B", 1, 5000, 0)],
                currency="EUR",
                paid_at="2026-03-02T03:10:00",
            ),
        ],
    )
    _insert(
        container,
        "order_lines",
        [
            *_lines(10, 100, [("A", 1, 1000, 0)]),
            *_lines(11, 110, [("A", 2, 1000, 200), ("B", 1, 5000, 0)]),
            *_lines(12, 120, [("A", 1, 1000, 0)], refunded={"A": 1000}, returned={"A": 1}),
            *_lines(13, 130, [("B", 2, 5000, 0)]),
            *_lines(14, 140, [("B", 1, 5000, 0)]),
            *_lines(15, 150, [("B", 1, 5000, 0)]),
        ],
    )
    payment = {"currency": "USD", "method": "card", "gateway": "sandbox", "actor": "test"}
    _insert(
        container,
        "payments",
        [
            {
                "id": 1,
                "order_id": 11,
                "amount_minor": 6800,
                "status": "captured",
                "idempotency_key": "p1",
                "created_at": at("2026-03-01T01:05:00"),
                "updated_at": at("2026-03-01T01:05:00"),
                **payment,
            },
            {
                "id": 2,
                "order_id": 12,
                "amount_minor": 1000,
                "status": "failed",
                "idempotency_key": "p2",
                "created_at": at("2026-03-01T17:00:00"),
                "updated_at": at("2026-03-01T17:00:00"),
                **payment,
            },
            {
                "id": 3,
                "order_id": 12,
                "amount_minor": 1000,
                "status": "refunded",
                "idempotency_key": "p3",
                "created_at": at("2026-03-01T17:01:00"),
                "updated_at": at("2026-03-01T17:01:00"),
                **payment,
            },
            {
                "id": 4,
                "order_id": 14,
                "amount_minor": 5000,
                "status": "pending",
                "idempotency_key": "p4",
                "created_at": at("2026-03-02T02:00:00"),
                "updated_at": at("2026-03-02T02:00:00"),
                **payment,
            },
        ],
    )
    _insert(
        container,
        "shipments",
        [
            {
                "id": 1,
                "order_id": 11,
                "warehouse_id": 1,
                "carrier": "sandbox",
                "tracking_number": "T1",
                "status": "delivered",
                "status_at": at("2026-03-03T05:05:00"),
                "shipped_at": at("2026-03-01T05:05:00"),
                "delivered_at": at("2026-03-03T05:05:00"),
                "ship_by": at("2026-03-02T01:05:00"),
                **stamp,
            },
            {
                "id": 2,
                "order_id": 12,
                "warehouse_id": 2,
                "carrier": "sandbox",
                "tracking_number": "T2",
                "status": "in_transit",
                "status_at": at("2026-03-02T07:01:00"),
                "shipped_at": at("2026-03-02T07:01:00"),
                "delivered_at": None,
                "ship_by": at("2026-03-02T05:00:00"),
                **stamp,
            },
        ],
    )
    _insert(
        container,
        "stock_levels",
        [
            {
                "id": 1,
                "sku": "A",
                "warehouse_id": 1,
                "on_hand": 10,
                "reserved": 0,
                "updated_at": created,
            },
            {
                "id": 2,
                "sku": "B",
                "warehouse_id": 1,
                "on_hand": 1,
                "reserved": 0,
                "updated_at": created,
            },
            {
                "id": 3,
                "sku": "A",
                "warehouse_id": 2,
                "on_hand": 5,
                "reserved": 0,
                "updated_at": created,
            },
        ],
    )
    move = {"reason": "test", "actor": "test", "reference": None}
    _insert(
        container,
        "stock_movements",
        [
            {
                "id": 1,
                "sku": "A",
                "warehouse_id": 1,
                "kind": "receipt",
                "quantity": 12,
                "occurred_at": at("2026-02-20T00:00:00"),
                **move,
            },
            {
                "id": 2,
                "sku": "B",
                "warehouse_id": 1,
                "kind": "receipt",
                "quantity": 2,
                "occurred_at": at("2026-02-20T00:00:00"),
                **move,
            },
            {
                "id": 3,
                "sku": "A",
                "warehouse_id": 2,
                "kind": "receipt",
                "quantity": 6,
                "occurred_at": at("2026-02-20T00:00:00"),
                **move,
            },
            {
                "id": 4,
                "sku": "A",
                "warehouse_id": 1,
                "kind": "sale",
                "quantity": -2,
                "occurred_at": at("2026-03-01T02:00:00"),
                **move,
            },
            {
                "id": 5,
                "sku": "B",
                "warehouse_id": 1,
                "kind": "sale",
                "quantity": -1,
                "occurred_at": at("2026-03-01T02:00:00"),
                **move,
            },
            {
                "id": 6,
                "sku": "A",
                "warehouse_id": 2,
                "kind": "sale",
                "quantity": -1,
                "occurred_at": at("2026-03-02T07:00:00"),
                **move,
            },
            {
                "id": 7,
                "sku": "B",
                "warehouse_id": 1,
                "kind": "sale",
                "quantity": -1,
                "occurred_at": at("2026-03-02T07:00:00"),
                **move,
            },
            {
                "id": 8,
                "sku": "B",
                "warehouse_id": 1,
                "kind": "receipt",
                "quantity": 1,
                "occurred_at": at("2026-03-05T00:00:00"),
                **move,
            },
        ],
    )

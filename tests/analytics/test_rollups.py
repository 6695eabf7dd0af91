"""The daily rollups answer exactly as the raw tables do, and a refresh keeps them exactly
as a rebuild from scratch would make them (``analytics.rollups``)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from shopops.analytics import rollups
from shopops.analytics.engines import fact_context, refresh, store_for
from shopops.analytics.kpi import Dashboard, dashboard
from shopops.analytics.metrics import BREAKDOWNS, METRICS
from shopops.analytics.periods import Period, parse_period
from shopops.analytics.refresh import RefreshReport, refresh_store
from shopops.bootstrap import Container, metadata
from tests.analytics.conftest import NOW
from tests.analytics.dataset import TZ, _insert, _lines, _order, at, build_shop

CHANGED = at("2026-03-20T00:00:00")  # after every updated_at so far: the refresh reads them


def _orders(container: Container, seed: int = 5) -> None:
    """Ninety more orders over January to mid-March: customers who come back, guests (some
    with an e-mail seen before), two currencies, every status, promotions, refunds,
    payments, parcels and stock movements."""
    rng = random.Random(seed)
    created = at("2026-01-01T00:00:00")
    stamp = {"created_at": created, "updated_at": created}
    # C: a product without category or brand
    _insert(
        container,
        "products",
        [{"id": 3, "code": "P-C", "name": "Gift", "status": "active", **stamp}],
    )
    _insert(
        container,
        "variants",
        [
            {
                "id": 3,
                "product_id": 3,
                "sku": "C",
                "price_minor": 700,
                "cost_minor": 300,
                "currency": "USD",
                "attributes": {},
                **stamp,
            }
        ],
    )
    _insert(
        container,
        "customers",
        [
            {
                "id": customer,
                "tags": [],
                "source_channel": "web",
                "registered_at": created,
                "region": "CN-SH",
                "tier": rng.choice(["gold", "silver", None]),
                **stamp,
            }
            for customer in range(3, 11)
        ],
    )
    _insert(
        container,
        "stock_levels",
        [  # out of stock today: C at SH1 and B at BJ1, which sold in the weeks before
            {"id": 10 + n, "sku": sku, "warehouse_id": warehouse, "on_hand": on_hand,
             "reserved": 0, "updated_at": created}
            for n, (sku, warehouse, on_hand) in enumerate(
                [("C", 1, 0), ("C", 2, 3), ("B", 2, 0)]
            )
        ],
    )  # fmt: skip
    orders, lines, payments, parcels, moves = [], [], [], [], []
    statuses = ["completed", "completed", "paid", "delivered", "cancelled", "closed"]
    for n in range(90):
        order_id = 200 + n
        placed = at("2026-01-01T00:00:00") + timedelta(minutes=rng.randrange(0, 71 * 24 * 60))
        customer = rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, None, None])
        basket = [
            (sku, rng.randint(1, 3), {"A": 1000, "B": 5000, "C": 700}[sku], rng.choice([0, 0, 100]))
            for sku in rng.sample(["A", "B", "C"], rng.randint(1, 3))
        ]
        status = rng.choice(statuses)
        promotion = rng.choice([None, None, "Spring", "Summer"])
        pricing = {
            "applied": [{"name": promotion, "discount_minor": 100}] if promotion else [],
            "lines": [],
        }
        moment = placed.isoformat()[:19]
        order = _order(
            order_id,
            customer_id=customer,
            channel=rng.choice(["web", "app", "store"]),
            placed_at=moment,
            status=status,
            lines=basket,
            region=rng.choice(["CN-SH", "CN-BJ"]),
            currency=rng.choice(["USD", "USD", "USD", "EUR"]),
            paid_at=None if status in ("cancelled", "closed") else moment,
            pricing=pricing,
        )
        if customer is None:
            order["guest_email_hash"] = rng.choice(["g-1", "g-2", "g-3", None])
        orders.append(order)
        lines += _lines(
            order_id,
            order_id * 10,
            [(s if s != "C" else "A", q, p, d) for s, q, p, d in basket],
            refunded={"A": 500} if rng.random() < 0.1 else None,
            returned={"B": 1} if rng.random() < 0.1 else None,
        )
        for line in lines[-len(basket) :]:
            line["sku"] = basket[line["line_number"] - 1][0]
        payments.append(
            {
                "id": 100 + n,
                "order_id": order_id,
                "amount_minor": 1000,
                "status": rng.choice(["captured", "failed", "pending", "refunded"]),
                "idempotency_key": f"x{n}",
                "currency": "USD",
                "method": "card",
                "gateway": "sandbox",
                "actor": "test",
                "created_at": placed + timedelta(minutes=3),
                "updated_at": placed + timedelta(minutes=3),
            }
        )
        if status in ("completed", "delivered"):
            shipped = placed + timedelta(hours=rng.randint(2, 60))
            parcels.append(
                {
                    "id": 100 + n,
                    "order_id": order_id,
                    "warehouse_id": rng.choice([1, 2]),
                    "carrier": "sandbox",
                    "tracking_number": f"R{n}",
                    "status": "delivered" if rng.random() < 0.7 else "in_transit",
                    "status_at": shipped,
                    "shipped_at": shipped,
                    "delivered_at": shipped + timedelta(days=2) if rng.random() < 0.7 else None,
                    "ship_by": placed + timedelta(hours=24),
                    **stamp,
                }
            )
            for sku, quantity, _, _ in basket:
                moves.append(
                    {
                        "id": 100 + len(moves),
                        "sku": sku,
                        "warehouse_id": rng.choice([1, 2]),
                        "kind": "sale",
                        "quantity": -quantity,
                        "occurred_at": shipped,
                        "reason": "test",
                        "actor": "test",
                        "reference": None,
                    }
                )
    for table, rows in (
        ("orders", orders),
        ("order_lines", lines),
        ("payments", payments),
        ("shipments", parcels),
        ("stock_movements", moves),
    ):
        _insert(container, table, rows)


def _windows(tz: str = TZ) -> list[Period]:
    def window(grain: str | None, start: date, end: date) -> Period:
        return parse_period(tz=tz, now=NOW, grain=grain, start=start, end=end)

    return [
        parse_period(tz=tz, now=NOW, grain="day", last="30d"),
        window("week", date(2026, 1, 1), date(2026, 3, 14)),
        window("month", date(2026, 1, 15), date(2026, 3, 10)),
        window(None, date(2026, 2, 1), date(2026, 3, 12)),
        window("day", date(2026, 3, 1), date(2026, 3, 12)),
    ]


def _flatten(board: Dashboard) -> dict[tuple[Any, ...], Any]:
    out: dict[tuple[Any, ...], Any] = {}
    series = [("", s) for s in board.series.values()]
    series += [(by, s) for by, metrics in board.breakdowns.items() for s in metrics.values()]
    for by, one in series:
        for key, value in one.values.items():
            out[(by, one.metric.name, *key)] = (value, one.inputs.get(key))
    return out


def _rollup_rows(container: Container) -> dict[str, list[tuple[Any, ...]]]:
    with store_for(container.settings).connect() as con:
        return {
            table: sorted(
                con.execute(f'SELECT * FROM "{table}"').fetchall(),
                key=lambda row: tuple((v is None, str(v)) for v in row),
            )
            for table in rollups.table_names()
        }


def _rebuilt_rows(container: Container, tz: str) -> dict[str, list[tuple[Any, ...]]]:
    """The rollups as a rebuild from the store's tables makes them (rolled back after)."""
    with store_for(container.settings).connect() as con:
        con.execute("BEGIN TRANSACTION")
        try:
            rollups.rebuild(con, tz, partitions=3)  # in parts, as a big store is rebuilt
            return {
                table: sorted(
                    con.execute(f'SELECT * FROM "{table}"').fetchall(),
                    key=lambda row: tuple((v is None, str(v)) for v in row),
                )
                for table in rollups.table_names()
            }
        finally:
            con.execute("ROLLBACK")


def assert_rollups_answer_as_raw(container: Container, tz: str = TZ) -> None:
    store = store_for(container.settings)
    ctx = fact_context(container.settings)
    named: set[str] = set()
    for period in _windows(tz):
        with store.sources() as fast:
            assert rollups.usable(fast, period)
            from_rollups = _flatten(dashboard(fast, ctx, METRICS, period, BREAKDOWNS))
        with store.sources(rollups=False) as raw:
            assert not rollups.usable(raw, period)
            from_raw = _flatten(dashboard(raw, ctx, METRICS, period, BREAKDOWNS))
        assert from_rollups == from_raw, period
        named |= {key[1] for key, (value, _) in from_raw.items() if value}
    assert named == {m.name for m in METRICS}  # not vacuous: every metric is non-zero somewhere


@pytest.fixture
def busy_shop(analytics: Container) -> Container:
    build_shop(analytics)
    _orders(analytics)
    report = refresh(analytics.settings)
    assert report.rollups == "rebuilt"
    return analytics


def test_rollups_answer_as_the_raw_tables(busy_shop: Container) -> None:
    assert_rollups_answer_as_raw(busy_shop)
    counts = {table: len(rows) for table, rows in _rollup_rows(busy_shop).items()}
    assert all(counts.values()), counts


def _bump(container: Container, table: str, where: Any, **values: Any) -> None:
    target = metadata.tables[table]
    with container.engine.begin() as connection:
        connection.execute(update(target).where(where(target)).values(**values))


def test_a_refresh_keeps_the_rollups_as_a_rebuild_makes_them(busy_shop: Container) -> None:
    shop = busy_shop
    # customer 2's first order (O0, January) is cancelled: their first order moves
    _bump(shop, "orders", lambda t: t.c.id == 10, status="cancelled", updated_at=CHANGED)
    # a customer changes tier; another's refund changes one line (the order moves too)
    _bump(shop, "customers", lambda t: t.c.id == 1, tier="silver", updated_at=CHANGED)
    _bump(shop, "order_lines", lambda t: t.c.order_id == 11, refunded_minor=300)
    _bump(shop, "orders", lambda t: t.c.id == 11, refunded_minor=300, updated_at=CHANGED)
    # an order's promotions change; a pending payment is captured; a parcel is delivered
    pricing = {"applied": [{"name": "Autumn", "discount_minor": 50}], "lines": []}
    _bump(shop, "orders", lambda t: t.c.id == 205, pricing=pricing, updated_at=CHANGED)
    _bump(shop, "payments", lambda t: t.c.id == 4, status="captured", updated_at=CHANGED)
    _bump(shop, "shipments", lambda t: t.c.id == 2, delivered_at=CHANGED, updated_at=CHANGED)
    # new orders: a customer's order in the middle of the history (their activity between
    # two other days changes), a guest's with a known e-mail, one in EUR; new movements
    late = [
        _order(
            400,
            customer_id=3,
            channel="app",
            placed_at="2026-02-01T10:00:00",
            status="completed",
            lines=[("A", 1, 1000, 0)],
            paid_at="2026-02-01T10:00:00",
        ),
        _order(
            401,
            customer_id=None,
            channel="web",
            placed_at="2026-03-02T20:00:00",
            status="paid",
            lines=[("B", 1, 5000, 0)],
            paid_at="2026-03-02T20:00:00",
        ),
        _order(
            402,
            customer_id=4,
            channel="web",
            placed_at="2026-03-02T21:00:00",
            status="paid",
            lines=[("A", 2, 1000, 0)],
            currency="EUR",
            paid_at="2026-03-02T21:00:00",
        ),
    ]
    late[1]["guest_email_hash"] = "g-1"
    for order in late:
        order["updated_at"] = CHANGED
    _insert(shop, "orders", late)
    _insert(
        shop,
        "order_lines",
        [
            *_lines(400, 4000, [("A", 1, 1000, 0)]),
            *_lines(401, 4010, [("B", 1, 5000, 0)]),
            *_lines(402, 4020, [("A", 2, 1000, 0)]),
        ],
    )
    move = {"reason": "test", "actor": "test", "reference": None, "kind": "sale"}
    _insert(
        shop,
        "stock_movements",
        [
            {"id": 900, "sku": "A", "warehouse_id": 1, "quantity": -1, **move,
             "occurred_at": at("2026-02-01T10:00:00")},
            {"id": 901, "sku": "B", "warehouse_id": 2, "quantity": -1, **move,
             "occurred_at": at("2026-03-02T20:00:00")},
        ],
    )  # fmt: skip
    report = refresh(shop.settings)
    assert report.rollups == "delta"
    assert _moved(report) == {
        "customers": 1,
        "orders": 6,
        "order_lines": 5,  # both lines of O1, three new
        "order_promotions": 2,
        "payments": 1,
        "shipments": 1,
        "stock_movements": 2,
    }
    assert _rollup_rows(shop) == _rebuilt_rows(shop, TZ)
    assert_rollups_answer_as_raw(shop)

    # nothing moved: nothing to do
    assert refresh(shop.settings).rollups == "unchanged"

    # a category renamed: what was sold in it is relabelled, so everything is recomputed
    _bump(shop, "categories", lambda t: t.c.id == 1, name="T-shirts", updated_at=CHANGED)
    assert refresh(shop.settings).rollups == "rebuild"
    assert _rollup_rows(shop) == _rebuilt_rows(shop, TZ)
    assert_rollups_answer_as_raw(shop)


def _moved(report: RefreshReport) -> dict[str, int]:
    return {t.table: t.rows for t in report.tables if t.rows}


def test_rollups_follow_the_store_time_zone_across_clock_changes(busy_shop: Container) -> None:
    """New York moves its clocks on 8 March 2026: days are 23 hours long there."""
    store = store_for(busy_shop.settings)
    shanghai = _windows(TZ)[0]
    report = refresh_store(store, busy_shop.settings.database_url, timezone="America/New_York")
    assert report.rollups == "rebuilt"
    with store.sources() as src:
        assert not rollups.usable(src, shanghai)  # days of another zone: read raw
    assert_rollups_answer_as_raw(busy_shop, "America/New_York")


def test_windows_that_do_not_start_at_local_midnight_read_the_raw_tables() -> None:
    hours = parse_period(tz=TZ, now=NOW, grain="hour", last="48h")
    assert hours.local_days() is None
    days = parse_period(tz=TZ, now=NOW, grain=None, last="48h")
    assert days.local_days() is None  # starts at 13:00
    # Sao Paulo skipped midnight on 4 November 2018 (clocks went from 00:00 to 01:00)
    skipped = Period(datetime(2018, 11, 4), datetime(2018, 11, 6), "America/Sao_Paulo", "day")
    assert skipped.local_days() is None
    regular = Period(datetime(2018, 11, 5), datetime(2018, 11, 7), "America/Sao_Paulo", "day")
    assert regular.local_days() == (17840, 17842)


@pytest.mark.parametrize("fact", sorted(rollups.plans()))
def test_a_fact_compiled_once_serves_every_currency_and_orders_table(fact: str) -> None:
    """The compiled template with its placeholders filled in is exactly what compiling the
    fact for that currency and table gives."""
    for currency, orders in (("USD", "orders"), ("JPY", rollups.SCOPE)):
        assert rollups._fact_sql(fact, currency, orders) == rollups._compiled_fact(
            fact, currency, orders
        )

"""Analytics read side: dashboard time on a bulk-generated store, three ways, and refresh rate.

Run:  .venv/bin/python -m bench.analytics [--lines 1000000] [--refresh-orders 100000]

1. A store of ``--lines`` order lines (a year of orders, ~3 lines each, customers,
   payments, shipments, stock positions and movements) is generated in bulk by
   DuckDB itself straight into a scratch store file (vectorised SQL, no Python loop).
2. The full dashboard (every KPI for the last 30 days by day, plus window totals by
   channel, category, brand, region and warehouse) through shopops' Ibis metric
   definitions: cold (first call: Ibis compiles the SQL) and warm (median of 5).
3. The sales KPIs (17 of the 30, by day and by five breakdowns: channel,
   category, brand, region, customer tier) computed three ways in the same run,
   each checked equal to the others: shopops (Ibis), pandas on DataFrames already
   in memory, and one hand-written DuckDB SQL query with GROUPING SETS.
4. Refresh rate: ``--refresh-orders`` orders with their lines written to a scratch
   SQLite database, a first refresh (everything), then 10% more orders and an
   incremental refresh; rows/s of each.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from shopops.analytics.kpi import DASHBOARD_BREAKDOWNS, Request, dashboard, evaluate
from shopops.analytics.metrics import METRICS, FactContext
from shopops.analytics.metrics.facts import SALES_AGGREGATES
from shopops.analytics.periods import Period, parse_period
from shopops.analytics.refresh import refresh_store
from shopops.analytics.store import DUCKDB_CONFIG, AnalyticsStore, create_schema
from shopops.bootstrap import build, metadata
from shopops.config import Settings

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
DAYS = 365
SKUS, WAREHOUSES, CATEGORIES, BRANDS = 5000, 5, 40, 120
CHANNELS = ["web", "app", "mini_program", "marketplace", "store", "social", "phone"]
REGIONS = ["CN-SH", "CN-BJ", "CN-GD", "CN-ZJ", "CN-JS", "US-CA", "US-NY", "DE-BE"]
SALES_BREAKDOWNS = ("channel", "category", "brand", "region", "customer_tier")
CTX = FactContext("USD")


def _list(values: list[str]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def generate_store(path: Path, lines: int) -> dict[str, int]:
    """Bulk-generate every store table in DuckDB SQL; returns the row counts."""
    orders = lines // 3
    customers = max(orders // 4, 1)
    start = f"TIMESTAMP '{NOW.replace(tzinfo=None)}' - INTERVAL {DAYS} DAY"
    con = duckdb.connect(str(path), config=DUCKDB_CONFIG)
    create_schema(con)
    ts = "TIMESTAMP '2026-01-01'"
    sql = f"""
    CREATE OR REPLACE TEMP MACRO h(x) AS CAST(hash(x) % 1000000007 AS BIGINT);
    INSERT INTO categories SELECT i, 'Category ' || i, NULL, {ts}
        FROM range(1, {CATEGORIES + 1}) t(i);
    INSERT INTO brands SELECT i, 'Brand ' || i, {ts} FROM range(1, {BRANDS + 1}) t(i);
    INSERT INTO products SELECT i, 'P' || i, 'Product ' || i, i % {CATEGORIES} + 1,
        i % {BRANDS} + 1, 'active', {ts} FROM range(1, {SKUS + 1}) t(i);
    INSERT INTO variants SELECT i, i, 'S' || i, 500 + (i * 7919) % 9500,
        (500 + (i * 7919) % 9500) * (40 + i % 30) // 100, {ts} FROM range(1, {SKUS + 1}) t(i);
    INSERT INTO customers SELECT i, {_list(CHANNELS)}[i % 7 + 1], {ts},
        {_list(REGIONS)}[i % 8 + 1], CASE i % 5 WHEN 0 THEN 'gold' WHEN 1 THEN 'silver'
        ELSE NULL END, {ts} FROM range(1, {customers + 1}) t(i);
    INSERT INTO warehouses SELECT i, 'WH' || i, {_list(REGIONS)}[i], {ts}
        FROM range(1, {WAREHOUSES + 1}) t(i);
    CREATE TEMP TABLE g AS SELECT i AS id,
        {start} + to_microseconds(CAST(i * ({DAYS} * 86400000000.0 / {orders}) AS BIGINT))
            AS placed_at,
        h(i) % 1000 AS r, h(i * 31) % 1000 AS r2
        FROM range(1, {orders + 1}) t(i);
    INSERT INTO orders SELECT id, 'SO-' || id,
        CASE WHEN r < 50 THEN 'cancelled' WHEN r < 80 THEN 'closed'
             WHEN placed_at > {start} + INTERVAL {DAYS - 7} DAY THEN 'paid' ELSE 'completed' END,
        {_list(CHANNELS)}[r2 % 7 + 1],
        CASE WHEN r2 < 800 THEN h(id * 7) % {customers} + 1 END,
        CASE WHEN r2 >= 800 THEN 'g' || (h(id * 7) % {customers}) END,
        {_list(REGIONS)}[r % 8 + 1], 'CN', 'USD', 0, 0, 0, 0, 0, placed_at,
        CASE WHEN r >= 50 THEN placed_at + INTERVAL 5 MINUTE END, NULL, NULL, NULL,
        CASE WHEN r < 50 THEN placed_at + INTERVAL 1 HOUR END,
        CASE WHEN r BETWEEN 50 AND 79 THEN placed_at + INTERVAL 30 MINUTE END, placed_at
        FROM g;
    INSERT INTO order_lines SELECT l.i, l.i // 3 + 1, 'S' || s, q, p, p * (40 + s % 30) // 100,
        d, q * p - d, q, CASE WHEN h(l.i * 5) % 100 < 3 THEN 1 ELSE 0 END,
        CASE WHEN h(l.i * 5) % 100 < 2 THEN q * p - d ELSE 0 END
        FROM (SELECT i, h(i * 13) % {SKUS} + 1 AS s, h(i * 17) % 3 + 1 AS q,
              CASE WHEN h(i * 19) % 10 = 0 THEN 1 ELSE 0 END AS disc
              FROM range(0, {orders * 3}) t(i)) l,
        LATERAL (SELECT 500 + (l.s * 7919) % 9500 AS p),
        LATERAL (SELECT l.disc * (q * p // 10) AS d);
    UPDATE orders SET subtotal_minor = x.gross, discount_minor = x.disc,
        total_minor = x.gross - x.disc, refunded_minor = x.refunded
        FROM (SELECT order_id, sum(quantity * unit_price_minor) AS gross,
              sum(discount_minor) AS disc, sum(refunded_minor) AS refunded
              FROM order_lines GROUP BY order_id) x WHERE orders.id = x.order_id;
    INSERT INTO order_promotions SELECT order_id, 'PROMO' || (order_id % 10), sum(discount_minor)
        FROM order_lines WHERE discount_minor > 0 GROUP BY order_id;
    INSERT INTO payments SELECT id, id, 1000, CASE WHEN r2 % 20 = 0 THEN 'failed'
        ELSE 'captured' END, 'card', placed_at, placed_at FROM g;
    INSERT INTO shipments SELECT o.id, o.id, o.id % {WAREHOUSES} + 1, 'sandbox', 'delivered',
        o.paid_at + to_hours(4 + h(o.id) % 60), o.paid_at + to_hours(4 + h(o.id) % 60)
            + to_days(1 + h(o.id * 3) % 5),
        o.paid_at + INTERVAL 48 HOUR, o.updated_at
        FROM orders o WHERE o.status NOT IN ('cancelled', 'closed');
    INSERT INTO stock_levels SELECT row_number() OVER (), 'S' || s, w, h(s * w) % 200, 0, {ts}
        FROM range(1, {SKUS + 1}) a(s), range(1, {WAREHOUSES + 1}) b(w);
    INSERT INTO stock_movements SELECT l.id, l.sku, l.order_id % {WAREHOUSES} + 1, 'sale',
        -l.quantity, o.placed_at FROM order_lines l JOIN orders o ON o.id = l.order_id
        WHERE o.status NOT IN ('cancelled', 'closed');
    INSERT INTO stock_movements SELECT {lines * 2} + row_number() OVER (), 'S' || s, w,
        'receipt', 50, {start} + to_days(d * 30) FROM range(1, {SKUS + 1}) a(s),
        range(1, {WAREHOUSES + 1}) b(w), range(0, 12) c(d);
    """
    con.execute(sql)
    counts = {
        name: con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0]
        for name in (
            "orders",
            "order_lines",
            "customers",
            "payments",
            "shipments",
            "stock_levels",
            "stock_movements",
            "order_promotions",
        )
    }
    con.close()
    return counts


def timed(run: Callable[[], Any], repeat: int = 5) -> tuple[float, float, Any]:
    """(first call seconds, median of the next ``repeat`` seconds, last result)."""
    started = time.perf_counter()
    result = run()
    first = time.perf_counter() - started
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return first, statistics.median(times), result


# --- the sales KPIs three ways ----------------------------------------------------------


def sales_with_shopops(store: AnalyticsStore, period: Period) -> dict[tuple[Any, ...], float]:
    whole = Period(period.start, period.end, period.tz, None)
    requests = [Request(period), *[Request(whole, b) for b in SALES_BREAKDOWNS]]
    metrics = [m for m in METRICS if m.fact == "sales"]
    with store.sources() as src:
        results = evaluate(src, CTX, metrics, requests)
    out: dict[tuple[Any, ...], float] = {}
    for request, series_list in zip(requests, results, strict=True):
        series = series_list[0]  # every sales series shares its inputs
        for key, inputs in series.inputs.items():
            for name in SALES_AGGREGATES:
                out[(request.by, *key, name)] = float(inputs.get(name) or 0)
    return out


def load_frames(store: AnalyticsStore) -> dict[str, pd.DataFrame]:
    with store.connect() as con:
        return {
            name: con.execute(f'SELECT * FROM "{name}"').df()
            for name in (
                "orders",
                "order_lines",
                "customers",
                "variants",
                "products",
                "categories",
                "brands",
                "order_promotions",
            )
        }


def sales_with_pandas(
    frames: dict[str, pd.DataFrame], period: Period
) -> dict[tuple[Any, ...], float]:
    orders = frames["orders"][frames["orders"].currency == "USD"]
    customers = frames["customers"][["id", "tier"]].rename(columns={"id": "customer_id"})
    o = orders.merge(customers, on="customer_id", how="left")
    o["buyer"] = np.where(
        o.customer_id.notna(),
        "c:" + o.customer_id.astype("Int64").astype(str),
        "g:" + o.guest_email_hash.fillna(o.number),
    )
    o["valid"] = ~o.status.isin(["cancelled", "closed"])
    o["channel"] = o.channel.fillna("(none)")
    o["region"] = o.ship_region.fillna(o.ship_country).fillna("(none)")
    o["customer_tier"] = np.where(o.customer_id.isna(), "guest", o.tier.fillna("(none)"))
    first = o[o.valid].groupby("buyer").placed_at.min().rename("first_at")
    o = o.join(first, on="buyer")
    o["is_first"] = o.valid & (o.placed_at == o.first_at)
    promo = frames["order_promotions"].groupby("order_id").promotion.min()
    o = o.join(promo, on="id")
    o = o[(o.placed_at >= period.utc_start) & (o.placed_at < period.utc_end)]
    products = (
        frames["variants"][["sku", "product_id"]]
        .merge(
            frames["products"][["id", "category_id", "brand_id"]],
            left_on="product_id",
            right_on="id",
            how="left",
        )
        .merge(
            frames["categories"][["id", "name"]].rename(
                columns={"id": "category_id", "name": "category"}
            ),
            on="category_id",
            how="left",
        )
        .merge(
            frames["brands"][["id", "name"]].rename(columns={"id": "brand_id", "name": "brand"}),
            on="brand_id",
            how="left",
        )
    )
    lines = frames["order_lines"]
    f = lines.merge(o, left_on="order_id", right_on="id", suffixes=("", "_o")).merge(
        products[["sku", "category", "brand"]], on="sku", how="left"
    )
    f["category"] = f.category.fillna("(none)")
    f["brand"] = f.brand.fillna("(none)")
    f["gross"] = f.quantity * f.unit_price_minor
    f["cost"] = f.quantity * f.unit_cost_minor
    f["cancelled"] = ~f.valid
    f["returned_value"] = f.returned_quantity * f.unit_price_minor
    epoch = (f.placed_at - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1)
    offset = int(period.zone.utcoffset(period.start).total_seconds())  # type: ignore[union-attr]
    f["_bucket"] = (epoch + offset) // 86400
    v = f.valid
    cols = {
        "gmv": f.gross.where(v),
        "discounts": f.discount_minor.where(v),
        "net_lines": f.total_minor.where(v),
        "refunds": f.refunded_minor.where(v),
        "units": f.quantity.where(v),
        "placed_value": f.gross,
        "cancelled_value": f.gross.where(f.cancelled),
        "returned_value": f.returned_value.where(v),
        "costed_net": f.total_minor.where(v & f.cost.notna()),
        "costed_cost": f.cost.where(v & f.cost.notna()),
        "orders": f.order_id.where(v),
        "buyers": f.buyer.where(v),
        "new_buyers": f.buyer.where(f.is_first),
        "placed_orders": f.order_id,
        "cancelled_orders": f.order_id.where(f.cancelled),
        "refunded_orders": f.order_id.where(v & (f.refunded_minor > 0)),
        "returned_orders": f.order_id.where(v & (f.returned_quantity > 0)),
    }
    sums = [
        n
        for n in cols
        if n
        not in {
            "orders",
            "buyers",
            "new_buyers",
            "placed_orders",
            "cancelled_orders",
            "refunded_orders",
            "returned_orders",
        }
    ]
    frame = pd.DataFrame(cols)
    out: dict[tuple[Any, ...], float] = {}
    for by in (None, *SALES_BREAKDOWNS):
        keys = [f["_bucket"]] if by is None else [f[by]]
        grouped = frame.groupby(keys)
        result = pd.concat(
            [grouped[sums].sum(), grouped[[c for c in cols if c not in sums]].nunique()], axis=1
        )
        for key, row in result.iterrows():
            bucket, dim = (int(key), "(none)") if by is None else (0, str(key))
            for name in cols:
                out[(by, bucket, dim, name)] = float(row[name])
    return out


def sales_with_sql(store: AnalyticsStore, period: Period) -> dict[tuple[Any, ...], float]:
    offset = int(period.zone.utcoffset(period.start).total_seconds())  # type: ignore[union-attr]
    sql = f"""
    WITH o AS (
        SELECT o.id, o.placed_at, o.status NOT IN ('cancelled', 'closed') AS valid,
            CASE WHEN o.customer_id IS NOT NULL THEN 'c:' || o.customer_id
                 ELSE 'g:' || coalesce(o.guest_email_hash, o.number) END AS buyer,
            coalesce(o.channel, '(none)') AS channel,
            coalesce(o.ship_region, o.ship_country, '(none)') AS region,
            CASE WHEN o.customer_id IS NULL THEN 'guest' ELSE coalesce(c.tier, '(none)') END
                AS customer_tier
        FROM orders o LEFT JOIN customers c ON c.id = o.customer_id WHERE o.currency = 'USD'),
    first AS (SELECT buyer, min(placed_at) AS first_at FROM o WHERE valid GROUP BY buyer),
    f AS (
        SELECT o.*, l.order_id, l.quantity, l.quantity * l.unit_price_minor AS gross,
            l.discount_minor, l.total_minor, l.refunded_minor, l.returned_quantity,
            l.returned_quantity * l.unit_price_minor AS returned_value,
            l.quantity * l.unit_cost_minor AS cost,
            o.valid AND o.placed_at = first.first_at AS is_first,
            coalesce(cat.name, '(none)') AS category, coalesce(b.name, '(none)') AS brand,
            (floor(epoch(o.placed_at))::BIGINT + {offset}) // 86400 AS bucket
        FROM order_lines l JOIN o ON o.id = l.order_id
        LEFT JOIN first ON first.buyer = o.buyer
        LEFT JOIN variants v ON v.sku = l.sku LEFT JOIN products p ON p.id = v.product_id
        LEFT JOIN categories cat ON cat.id = p.category_id
        LEFT JOIN brands b ON b.id = p.brand_id
        WHERE o.placed_at >= TIMESTAMP '{period.utc_start}'
          AND o.placed_at < TIMESTAMP '{period.utc_end}')
    SELECT bucket, channel, category, brand, region, customer_tier,
        GROUPING(bucket, channel, category, brand, region, customer_tier) AS g,
        sum(gross) FILTER (valid) AS gmv, sum(discount_minor) FILTER (valid) AS discounts,
        sum(total_minor) FILTER (valid) AS net_lines,
        sum(refunded_minor) FILTER (valid) AS refunds, sum(quantity) FILTER (valid) AS units,
        sum(gross) AS placed_value, sum(gross) FILTER (NOT valid) AS cancelled_value,
        sum(returned_value) FILTER (valid) AS returned_value,
        sum(total_minor) FILTER (valid AND cost IS NOT NULL) AS costed_net,
        sum(cost) FILTER (valid AND cost IS NOT NULL) AS costed_cost,
        count(DISTINCT order_id) FILTER (valid) AS orders,
        count(DISTINCT buyer) FILTER (valid) AS buyers,
        count(DISTINCT buyer) FILTER (is_first) AS new_buyers,
        count(DISTINCT order_id) AS placed_orders,
        count(DISTINCT order_id) FILTER (NOT valid) AS cancelled_orders,
        count(DISTINCT order_id) FILTER (valid AND refunded_minor > 0) AS refunded_orders,
        count(DISTINCT order_id) FILTER (valid AND returned_quantity > 0) AS returned_orders
    FROM f GROUP BY GROUPING SETS ((bucket), (channel), (category), (brand), (region),
                                   (customer_tier))
    """
    names = list(SALES_AGGREGATES)
    with store.connect() as con:
        frame = con.execute(sql).df()
    out: dict[tuple[Any, ...], float] = {}
    dims = ["bucket", *SALES_BREAKDOWNS]
    for row in frame.to_dict("records"):
        by = next(d for d in dims if row[d] is not None and row[d] == row[d])
        bucket, dim = (int(row["bucket"]), "(none)") if by == "bucket" else (0, str(row[by]))
        for name in names:
            value = row[name]
            out[(None if by == "bucket" else by, bucket, dim, name)] = (
                0.0 if value is None or value != value else float(value)
            )
    return out


def _same(a: dict[tuple[Any, ...], float], b: dict[tuple[Any, ...], float]) -> bool:
    keys = {k for k in a if a[k]} | {k for k in b if b[k]}
    return all(a.get(k, 0.0) == b.get(k, 0.0) for k in keys)


# --- refresh rate ------------------------------------------------------------------------


def operational_orders(url: str, first_id: int, count: int) -> int:
    """Write ``count`` orders with 3 lines each straight into SQLite; returns rows written."""
    path = url.removeprefix("sqlite:///")
    rng = np.random.default_rng(first_id)
    ids = np.arange(first_id, first_id + count)
    base = NOW.replace(tzinfo=None) - timedelta(days=30)  # one order a second from here
    stamps = [f"{base + timedelta(seconds=i):%Y-%m-%d %H:%M:%S}.000000" for i in ids.tolist()]
    channels = np.array(CHANNELS)[rng.integers(0, 7, count)]
    orders = [
        (
            int(i),
            f"SO-{i}",
            "completed",
            "unpaid",
            str(c),
            None,
            "Shanghai",
            "CN-SH",
            "CN",
            "USD",
            3000,
            0,
            0,
            0,
            3000,
            0,
            0,
            '{"lines": []}',
            1,
            "[]",
            "low",
            t,
            t,
            t,
        )
        for i, c, t in zip(ids.tolist(), channels.tolist(), stamps, strict=True)
    ]
    lines = [
        (
            int(i) * 3 + k,
            int(i),
            k + 1,
            f"S{(int(i) * 7 + k) % SKUS + 1}",
            "x",
            1,
            1000,
            500,
            0,
            1000,
            0,
            0,
            0,
        )
        for i in ids.tolist()
        for k in range(3)
    ]
    with sqlite3.connect(path) as con:
        con.executemany(
            "INSERT INTO orders (id, number, status, payment_status, channel, customer_id, "
            "ship_city, ship_region, ship_country, currency, subtotal_minor, discount_minor, "
            "shipping_minor, tax_minor, total_minor, captured_minor, refunded_minor, pricing, "
            "allow_split, risk_flags, value_band, placed_at, created_at, updated_at) "
            "VALUES (" + ", ".join("?" * 24) + ")",
            orders,
        )
        con.executemany(
            "INSERT INTO order_lines (id, order_id, line_number, sku, product_name, quantity, "
            "unit_price_minor, unit_cost_minor, discount_minor, total_minor, shipped_quantity, "
            "returned_quantity, refunded_minor) VALUES (" + ", ".join("?" * 13) + ")",
            lines,
        )
    return len(orders) + len(lines)


def refresh_rate(directory: Path, orders: int) -> list[str]:
    url = f"sqlite:///{directory / 'operational.db'}"
    container = build(Settings(database_url=url, env="test"))  # type: ignore[call-arg]
    metadata.create_all(container.engine)
    store = AnalyticsStore(directory / "refresh.duckdb")
    container.engine.dispose()
    written = operational_orders(url, 1, orders)
    full = refresh_store(store, url)
    more = operational_orders(url, orders + 1, orders // 10)
    incremental = refresh_store(store, url)
    return [
        f"refresh, first (everything): {full.rows:,} rows in {full.seconds:.2f} s = "
        f"{full.rows_per_second:,.0f} rows/s  (written {written:,})",
        f"refresh, incremental (+10%): {incremental.rows:,} rows in {incremental.seconds:.2f} s"
        f" = {incremental.rows_per_second:,.0f} rows/s  (written {more:,}; target >= 200,000)",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--refresh-orders", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shopops-bench-analytics-") as tmp:
        directory = Path(tmp)
        store = AnalyticsStore(directory / "bench.duckdb")
        started = time.perf_counter()
        counts = generate_store(store.path, args.lines)
        print(
            f"store generated in {time.perf_counter() - started:.1f} s: "
            + ", ".join(f"{k} {v:,}" for k, v in counts.items())
        )
        period = parse_period(tz="Asia/Shanghai", now=NOW, grain="day", last="30d")

        def board() -> Any:
            with store.sources() as src:
                return dashboard(src, CTX, METRICS, period, DASHBOARD_BREAKDOWNS)

        cold, warm, _ = timed(board)
        print(
            f"full dashboard (30 KPIs x 30 days by day + 5 breakdowns), shopops/Ibis: "
            f"cold {cold:.3f} s, warm {warm:.3f} s (median of 5)"
        )
        shop_first, shop_warm, ours = timed(lambda: sales_with_shopops(store, period))
        started = time.perf_counter()
        frames = load_frames(store)
        load = time.perf_counter() - started
        _, pandas_warm, theirs = timed(lambda: sales_with_pandas(frames, period), repeat=3)
        _, sql_warm, by_hand = timed(lambda: sales_with_sql(store, period))
        same = _same(ours, theirs) and _same(ours, by_hand)
        print("sales KPIs (17 aggregates, by day + 5 breakdowns), warm medians:")
        print(f"  shopops/Ibis      {shop_warm:.3f} s  (first call {shop_first:.3f} s)")
        print(
            f"  pandas            {pandas_warm:.3f} s  (+ {load:.2f} s to load the frames)"
            f"  -> shopops is {pandas_warm / shop_warm:.1f}x faster"
        )
        print(
            f"  hand-written SQL  {sql_warm:.3f} s  -> shopops takes "
            f"{shop_warm / sql_warm:.2f}x the hand-written time"
        )
        print(f"  identical results on all three: {same}")
        for line in refresh_rate(directory, args.refresh_orders):
            print(line)


if __name__ == "__main__":
    main()

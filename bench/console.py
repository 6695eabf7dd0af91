"""Console page times: the demo store, then a store of a million orders.

Run:  .venv/bin/python -m bench.console [--orders 1000000] [--skip-large]

Each page is requested in-process (Starlette's TestClient: the application's own
time, without sockets) by a signed-in owner: one warm-up call, then the median
and p90 of ``--repeat`` calls. Next to each page the matching REST API call on
the same data is timed in the same run (the JSON the page is built from, without
templates): the baseline that shows what rendering costs.

1. Demo store: ``shopops demo seed`` defaults (3,000 customers, 180 days) in a
   scratch PostgreSQL database. Target: every main page under 300 ms.
2. Large store: the demo orders (with lines, timeline events and tags) copied by
   SQL until there are ``--orders`` orders, the analytics store refreshed from
   them; then the orders list (default, filtered by status, by SKU, by amount),
   an order detail and the dashboard. Target: under 500 ms each.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from bench._support import percentile, scratch_database
from shopops.analytics import engines as analytics_engines
from shopops.bootstrap import Container, build
from shopops.config import Settings
from shopops.console.site import create_site
from shopops.contexts.orders.models import Order
from shopops.db import migrate
from shopops.demo.generator import DemoSize, seed_demo

OWNER = ("owner@demo.shopops.dev", "demo-owner-pass")


def _container(url: str, store: Path) -> Container:
    return build(
        Settings(  # type: ignore[call-arg]
            database_url=url,
            env="test",
            analytics_store_path=str(store),
            store_timezone="Asia/Shanghai",
        )
    )


def _client(container: Container) -> tuple[TestClient, TestClient]:
    """A console client signed in as the owner, and an API client with the owner's session."""
    site = TestClient(create_site(container), base_url="http://localhost")
    response = site.post(
        "/console/login",
        data={"email": OWNER[0], "password": OWNER[1], "next": "/console"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:200]
    return site, site


def _time(call: Callable[[], Any], repeat: int) -> tuple[float, float, int]:
    first = call()
    status = first.status_code
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = call()
        samples.append((time.perf_counter() - started) * 1000)
        status = response.status_code
    return statistics.median(samples), percentile(samples, 0.9), status


def _report(
    client: TestClient, pages: list[tuple[str, str, str | None]], repeat: int, target: float
) -> None:
    print(f"  {'page':<34}{'median':>9}{'p90':>9}  {'API baseline (median)':<34}")
    for label, page, api in pages:
        median, p90, status = _time(lambda page=page: client.get(page), repeat)  # type: ignore[misc]
        verdict = "ok" if status == 200 and p90 <= target else "OVER" if status == 200 else status
        baseline = ""
        if api is not None:
            api_median, _, api_status = _time(lambda api=api: client.get(api), repeat)  # type: ignore[misc]
            baseline = f"{api_median:7.1f} ms  {api}" if api_status == 200 else f"({api_status})"
        print(f"  {label:<34}{median:7.1f}ms{p90:7.1f}ms  {baseline:<34} {verdict}")


def _sample_ids(container: Container) -> tuple[int, int, str]:
    with container.session_factory() as session:
        order_id = session.scalar(select(func.max(Order.id)))
        customer_id = session.scalar(text("SELECT max(id) FROM customers"))
        sku = session.scalar(text("SELECT sku FROM order_lines ORDER BY id DESC LIMIT 1"))
    return int(order_id or 1), int(customer_id or 1), str(sku)


def demo_pages(container: Container) -> list[tuple[str, str, str | None]]:
    order_id, customer_id, _ = _sample_ids(container)
    return [
        ("dashboard", "/console/dashboard", "/v1/dashboard?last=30d"),
        ("orders", "/console/orders", "/v1/orders"),
        ("order detail", f"/console/orders/{order_id}", f"/v1/orders/{order_id}"),
        ("inventory", "/console/inventory", "/v1/inventory/stock"),
        ("stock movements", "/console/inventory/movements", "/v1/inventory/movements"),
        ("catalog", "/console/catalog", "/v1/catalog/products"),
        ("customers", "/console/customers", "/v1/customers"),
        ("customer profile", f"/console/customers/{customer_id}", f"/v1/customers/{customer_id}"),
        ("segments", "/console/customers/segments", None),
        ("cohorts", "/console/customers/cohorts", None),
        ("promotions", "/console/promotions", "/v1/promotions"),
        ("simulator", "/console/promotions/simulator", None),
        ("finance", "/console/finance", None),
        ("webhooks", "/console/webhooks", "/v1/webhooks/subscriptions"),
        ("audit log", "/console/audit", "/v1/audit"),
        ("users", "/console/users", "/v1/users"),
        ("dead letters", "/console/dead-letters", None),
    ]


def large_pages(container: Container) -> list[tuple[str, str, str | None]]:
    order_id, _, sku = _sample_ids(container)
    return [
        ("orders (newest first)", "/console/orders", "/v1/orders"),
        ("orders, status=paid", "/console/orders?status=paid", "/v1/orders?status=paid"),
        ("orders, by SKU", f"/console/orders?sku={sku}", f"/v1/orders?sku={sku}"),
        ("orders, amount 100-200", "/console/orders?min_total=100&max_total=200", None),
        ("order detail", f"/console/orders/{order_id}", f"/v1/orders/{order_id}"),
        ("dashboard", "/console/dashboard", "/v1/dashboard?last=30d"),
    ]


CLONED = {
    # table: (columns whose value shifts with the copy, the rest copied as they are)
    "orders": "id",
    "order_lines": "id, order_id",
    "order_events": "id, order_id",
}


def _columns(container: Container, table: str) -> list[str]:
    with container.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = :t ORDER BY ordinal_position"
            ),
            {"t": table},
        )
        return [r[0] for r in rows]


def grow_orders(container: Container, target: int) -> int:
    """Copy the demo's orders (lines, events, tags) with fresh ids until ``target`` orders."""
    with container.engine.begin() as connection:
        base = connection.scalar(text("SELECT count(*) FROM orders")) or 1
        copies = max(0, -(-target // base) - 1)
        offsets = {
            t: connection.scalar(text(f"SELECT coalesce(max(id), 0) FROM {t}")) for t in CLONED
        }
    for copy in range(1, copies + 1):
        with container.engine.begin() as connection:
            for table in CLONED:
                columns = _columns(container, table)
                values = []
                for column in columns:
                    if column == "id":
                        values.append(f"id + {offsets[table] * copy}")
                    elif column == "order_id":
                        values.append(f"order_id + {offsets['orders'] * copy}")
                    elif column == "number":
                        values.append(f"number || '-{copy}'")
                    elif column == "guest_email_hash":
                        values.append("NULL")
                    elif column == "placed_at":
                        values.append(f"placed_at - interval '{copy} minutes'")
                    else:
                        values.append(column)
                connection.execute(
                    text(
                        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} "
                        f"FROM {table} WHERE id <= {offsets[table]}"
                    )
                )
            connection.execute(
                text(
                    f"INSERT INTO order_tags (order_id, tag) SELECT order_id + "
                    f"{offsets['orders'] * copy}, tag FROM order_tags WHERE order_id <= "
                    f"{offsets['orders']}"
                )
            )
        if copy % 10 == 0:
            print(f"    {copy}/{copies} copies", flush=True)
    with container.engine.begin() as connection:
        for table in CLONED:
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
        connection.execute(text("ANALYZE"))
        return int(connection.scalar(text("SELECT count(*) FROM orders")) or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--skip-large", action="store_true")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="shopops-bench-console-") as tmp,
        scratch_database("shopops_bench_console") as url,
    ):
        container = _container(url, Path(tmp) / "analytics.duckdb")
        migrate.upgrade(container.engine)
        started = time.perf_counter()
        seed_demo(container, DemoSize())
        analytics_engines.refresh(container.settings)
        with container.session_factory() as session:
            orders = session.scalar(select(func.count()).select_from(Order))
        print(f"demo store: {orders:,} orders, seeded in {time.perf_counter() - started:.0f} s")
        client, _ = _client(container)
        print("demo store pages (target: under 300 ms):")
        _report(client, demo_pages(container), args.repeat, 300)
        if args.skip_large:
            return
        started = time.perf_counter()
        total = grow_orders(container, args.orders)
        copying = time.perf_counter() - started
        print(f"large store: {total:,} orders after {copying:.0f} s of copying")
        started = time.perf_counter()
        report = analytics_engines.refresh(container.settings)
        print(
            f"  analytics store refreshed: {report.rows:,} rows in "
            f"{time.perf_counter() - started:.0f} s"
        )
        print("large store pages (target: under 500 ms):")
        _report(client, large_pages(container), args.repeat, 500)
        container.dispose()


if __name__ == "__main__":
    main()

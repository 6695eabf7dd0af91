"""Flash sale on one hot SKU: 64 concurrent buyers, 10,000 units, durable commits.

Run:  .venv/bin/python -m bench.flash_sale [--buyers 64] [--units 10000] [--http]
      [--http-workers 2]

Measured side by side in the same run, each on a fresh PostgreSQL database:
  (a) shopops' order placement path (group commit: concurrent checkouts share
      one transaction, one row lock and one UPDATE per stock row);
  (b) a naive baseline as the peers do it: per order, SELECT ... FOR UPDATE the
      stock row, UPDATE it, INSERT the order, COMMIT;
  (c) the raw database ceiling for one order per transaction: one conditional
      UPDATE + one INSERT, COMMIT;
  (d) with --http: the same race through the HTTP API served by uvicorn over
      real sockets, load generator included.
For each: orders/s, p50/p99 latency and the oversell count (orders beyond stock,
checked against the database afterwards).
"""

from __future__ import annotations

import argparse
import gc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

from bench._support import scratch_database, summary
from shopops.bootstrap import Container, build, metadata
from shopops.config import Settings
from shopops.contexts import inventory, orders
from shopops.contexts.catalog.models import Product, Variant
from shopops.kernel.errors import DomainError
from shopops.kernel.events import Actor
from shopops.kernel.runtime import freeze_startup_heap

HOT_SKU = "FLASH-1"
BUYER = Actor("user", 1, "bench-buyer", frozenset({"orders.write", "orders.read"}))
ADDRESS = orders.ShippingAddress(
    recipient="Li Lei",
    line1="1 Century Ave",
    city="Shanghai",
    country="CN",
    region="CN-SH",
    postal_code="200120",
)


@dataclass
class RaceResult:
    label: str
    seconds: float
    placed: int
    refused: int
    latencies_ms: list[float] = field(default_factory=list)
    oversold: int = 0

    def line(self) -> str:
        rate = self.placed / self.seconds if self.seconds else 0.0
        return (
            f"{self.label:<34} {rate:9.0f} orders/s  {summary(self.latencies_ms)}"
            f"  placed {self.placed:6d}  refused {self.refused:6d}  oversold {self.oversold}"
        )


def race(label: str, buyers: int, attempt: Callable[[], bool]) -> RaceResult:
    """Each buyer retries until a refusal says the stock is gone."""
    lock = threading.Lock()
    result = RaceResult(label, 0.0, 0, 0)
    start = threading.Barrier(buyers + 1)

    def buyer() -> None:
        latencies = []
        placed = refused = 0
        start.wait()
        while True:
            began = time.perf_counter()
            ok = attempt()
            latencies.append((time.perf_counter() - began) * 1000)
            if ok:
                placed += 1
            else:
                refused += 1
                break
        with lock:
            result.placed += placed
            result.refused += refused
            result.latencies_ms.extend(latencies)

    threads = [threading.Thread(target=buyer) for _ in range(buyers)]
    # As an API worker does once started (shopops.console.asgi): the heap built so far
    # is left out of garbage collection passes, which would otherwise stall the race.
    freeze_startup_heap()
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - began
    return result


def shopops_store(url: str, units: int) -> Container:
    settings = Settings(
        env="test",
        database_url=url,
        outbox_inline=False,
        database_pool_size=8,
        secret_key="b" * 40,
        pii_key="p" * 40,
    )
    container = build(settings)
    metadata.create_all(container.engine)
    system = Actor.system("bench")
    with container.uow(system) as uow:
        product = Product(code="FLASH", name="Flash sale sneaker", description="", status="active")
        uow.session.add(product)
        uow.session.flush()
        uow.session.add(
            Variant(
                product_id=product.id,
                sku=HOT_SKU,
                barcode=None,
                price_minor=19900,
                cost_minor=8000,
                currency="CNY",
                weight_grams=900,
                attributes={},
                is_active=True,
            )
        )
        warehouse = inventory.create_warehouse(
            uow, inventory.CreateWarehouse("SH1", "Shanghai", "CN-SH", 10)
        )
        uow.commit()
        warehouse_id = warehouse.id
    with container.uow(system) as uow:
        inventory.receive_stock(uow, inventory.ReceiveStock(warehouse_id, HOT_SKU, units))
        uow.commit()
    return container


def order_command() -> orders.PlaceOrder:
    return orders.PlaceOrder(
        lines=(orders.OrderLineRequest(HOT_SKU, 1),),
        shipping_address=ADDRESS,
        channel="app",
        guest=orders.GuestContact(email="buyer@example.com", name="Buyer"),
    )


def run_shopops(url: str, buyers: int, units: int) -> RaceResult:
    container = shopops_store(url, units)
    placer = container.order_placer

    def attempt() -> bool:
        try:
            placer.submit(orders.PlacementRequest(order_command(), BUYER)).result()
            return True
        except DomainError as error:
            if error.code != "inventory.insufficient_stock":
                raise
            return False

    result = race("(a) shopops placement (group commit)", buyers, attempt)
    with container.session_factory() as session:
        on_hand, reserved = session.execute(
            inventory.StockLevel.__table__.select().with_only_columns(
                inventory.StockLevel.on_hand, inventory.StockLevel.reserved
            )
        ).one()
        assert inventory.ledger_discrepancies(session) == []
    result.oversold = max(0, reserved - on_hand) + max(0, result.placed - units)
    print(f"    batches {placer.batches}, mean batch {placer.items / max(placer.batches, 1):.1f}")
    container.dispose()
    return result


def _raw_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _prepare_plain_tables(url: str, units: int) -> None:
    with psycopg.connect(_raw_url(url), autocommit=True) as connection:
        connection.execute("CREATE TABLE plain_stock (sku text PRIMARY KEY, on_hand int NOT NULL)")
        connection.execute(
            "CREATE TABLE plain_orders (id bigserial PRIMARY KEY, sku text, "
            "quantity int, placed_at timestamptz DEFAULT now())"
        )
        connection.execute("INSERT INTO plain_stock VALUES (%s, %s)", (HOT_SKU, units))


def _plain_race(
    label: str, url: str, buyers: int, units: int, one_order: Callable[[psycopg.Connection], bool]
) -> RaceResult:
    _prepare_plain_tables(url, units)
    local = threading.local()

    def attempt() -> bool:
        if not hasattr(local, "connection"):
            local.connection = psycopg.connect(_raw_url(url))
        return one_order(local.connection)

    result = race(label, buyers, attempt)
    with psycopg.connect(_raw_url(url)) as connection:
        on_hand = connection.execute("SELECT on_hand FROM plain_stock").fetchone()[0]
        count = connection.execute("SELECT count(*) FROM plain_orders").fetchone()[0]
    result.oversold = max(0, count - units) + max(0, -on_hand)
    return result


def naive_order(connection: psycopg.Connection) -> bool:
    with connection.transaction():
        (on_hand,) = connection.execute(
            "SELECT on_hand FROM plain_stock WHERE sku = %s FOR UPDATE", (HOT_SKU,)
        ).fetchone()
        if on_hand < 1:
            return False
        connection.execute(
            "UPDATE plain_stock SET on_hand = %s WHERE sku = %s", (on_hand - 1, HOT_SKU)
        )
        connection.execute("INSERT INTO plain_orders (sku, quantity) VALUES (%s, 1)", (HOT_SKU,))
    return True


def ceiling_order(connection: psycopg.Connection) -> bool:
    with connection.transaction():
        updated = connection.execute(
            "UPDATE plain_stock SET on_hand = on_hand - 1 WHERE sku = %s AND on_hand >= 1",
            (HOT_SKU,),
        ).rowcount
        if updated != 1:
            return False
        connection.execute("INSERT INTO plain_orders (sku, quantity) VALUES (%s, 1)", (HOT_SKU,))
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=64)
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--http", action="store_true", help="also race through the HTTP API")
    parser.add_argument("--http-workers", type=int, default=2, help="uvicorn worker processes")
    args = parser.parse_args()
    print(
        f"flash sale: {args.buyers} buyers, {args.units} units of one SKU, PostgreSQL, "
        "synchronous_commit=on\n"
    )
    results = []
    with scratch_database("shopops_bench_flash_a") as url:
        results.append(run_shopops(url, args.buyers, args.units))
    with scratch_database("shopops_bench_flash_b") as url:
        results.append(
            _plain_race("(b) naive SELECT FOR UPDATE", url, args.buyers, args.units, naive_order)
        )
    with scratch_database("shopops_bench_flash_c") as url:
        results.append(
            _plain_race(
                "(c) raw ceiling, 1 tx per order", url, args.buyers, args.units, ceiling_order
            )
        )
    if args.http:
        from bench.flash_sale_http import run_http

        with scratch_database("shopops_bench_flash_d") as url:
            results.append(
                run_http(url, args.buyers, args.units, shopops_store, workers=args.http_workers)
            )
    print()
    for result in results:
        print(result.line())
    a, b = results[0], results[1]
    print(f"\n(a) / (b) throughput: {(a.placed / a.seconds) / (b.placed / b.seconds):.1f}x")
    gc.unfreeze()  # let interpreter shutdown free it all


if __name__ == "__main__":
    main()

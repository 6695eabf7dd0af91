"""Test data for the commerce contexts: products with SKUs, warehouses with stock."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy import Engine, event

from shopops.bootstrap import Container
from shopops.contexts import inventory, orders
from shopops.contexts.catalog.models import Product, Variant
from shopops.kernel.events import Actor

SYSTEM = Actor.system("test")

ADDRESS = orders.ShippingAddress(
    recipient="Wang Fang",
    line1="88 Nanjing Road",
    city="Shanghai",
    country="CN",
    region="CN-SH",
    postal_code="200001",
    phone="13812345678",
)


def add_skus(
    container: Container,
    prices: Mapping[str, int],
    *,
    currency: str = "USD",
    cost: int | None = 500,
) -> None:
    with container.uow(SYSTEM) as uow:
        for index, (sku, price) in enumerate(sorted(prices.items())):
            product = Product(
                code=f"P-{sku}", name=f"Product {sku}", description="", status="active"
            )
            uow.session.add(product)
            uow.session.flush()
            uow.session.add(
                Variant(
                    product_id=product.id,
                    sku=sku,
                    barcode=None,
                    price_minor=price,
                    cost_minor=cost,
                    currency=currency,
                    weight_grams=100 + index,
                    attributes={},
                    is_active=True,
                )
            )
        uow.commit()


def add_warehouse(
    container: Container,
    code: str,
    *,
    region: str = "CN-SH",
    priority: int = 10,
    stock: Mapping[str, int] | None = None,
) -> int:
    with container.uow(SYSTEM) as uow:
        warehouse = inventory.create_warehouse(
            uow, inventory.CreateWarehouse(code, f"Warehouse {code}", region, priority)
        )
        uow.commit()
        warehouse_id = warehouse.id
    for sku, quantity in (stock or {}).items():
        with container.uow(SYSTEM) as uow:
            inventory.receive_stock(uow, inventory.ReceiveStock(warehouse_id, sku, quantity))
            uow.commit()
    return warehouse_id


def guest_order(
    *lines: tuple[str, int], channel: str = "web", allow_split: bool = True
) -> orders.PlaceOrder:
    return orders.PlaceOrder(
        lines=tuple(orders.OrderLineRequest(sku, q) for sku, q in lines),
        shipping_address=ADDRESS,
        channel=channel,
        guest=orders.GuestContact(email="guest@example.com", name="Guest Buyer"),
        allow_split=allow_split,
    )


def stock_of(container: Container, sku: str) -> list[tuple[int, int, int]]:
    """(warehouse_id, on_hand, reserved) per warehouse."""
    with container.session_factory() as session:
        rows = inventory.list_stock(session, inventory.StockFilter(sku=sku, limit=100))
        return [(level.warehouse_id, level.on_hand, level.reserved) for level, _ in rows]


def statement_kinds(engine: Engine, call: Callable[[], object]) -> list[str]:
    """The first word of every SQL statement ``call`` sends through ``engine``."""
    seen: list[str] = []

    def record(*args: object) -> None:
        seen.append(str(args[2]).lstrip().split()[0].upper())

    event.listen(engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen

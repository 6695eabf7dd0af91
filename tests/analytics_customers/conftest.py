"""Order histories written straight into the operational tables, on a frozen clock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shopops.bootstrap import Container
from shopops.contexts.catalog.models import Category, Product, Variant
from shopops.contexts.customers.models import Customer
from shopops.contexts.orders.models import Order, OrderLine
from shopops.kernel.events import Actor
from shopops.kernel.time import FrozenClock
from tests.conftest import ContainerFactory

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
DATA = Path(__file__).resolve().parents[2] / "data" / "cdnow"


@dataclass(frozen=True)
class Buy:
    """One order: customer number, days before NOW, total in cents, SKUs, status."""

    customer: int
    days_ago: int
    total: int
    skus: tuple[str, ...] = ()
    status: str = "completed"
    currency: str = "USD"


@dataclass(frozen=True)
class Person:
    number: int
    tier: str | None = None
    tags: tuple[str, ...] = ()
    region: str | None = "CN-SH"
    erased: bool = False


@dataclass
class Seeded:
    customer_ids: dict[int, int] = field(default_factory=dict)  # number -> id
    product_ids: dict[str, int] = field(default_factory=dict)  # sku -> product id
    category_ids: dict[str, int] = field(default_factory=dict)


def seed(
    container: Container,
    people: Sequence[Person],
    buys: Sequence[Buy],
    *,
    catalog: dict[str, str] | None = None,
) -> Seeded:
    """Customers, products (sku -> "parent/child" category path) and orders with lines."""
    seeded = Seeded()
    with container.uow(Actor.system("test")) as uow:
        session = uow.session
        for index, (sku, path) in enumerate(sorted((catalog or {}).items())):
            parent_id = None
            for depth, name in enumerate(path.split("/")):
                key = "/".join(path.split("/")[: depth + 1])
                if key not in seeded.category_ids:
                    category = Category(name=name, slug=key.replace("/", "-"), parent_id=parent_id)
                    session.add(category)
                    session.flush()
                    seeded.category_ids[key] = category.id
                parent_id = seeded.category_ids[key]
            product = Product(
                code=f"P-{sku}", name=sku, description="", status="active", category_id=parent_id
            )
            session.add(product)
            session.flush()
            session.add(
                Variant(
                    product_id=product.id, sku=sku, barcode=None, price_minor=1000,
                    cost_minor=500, currency="USD", weight_grams=100 + index, attributes={},
                    is_active=True,
                )
            )  # fmt: skip
            seeded.product_ids[sku] = product.id
        for person in people:
            customer = Customer(
                tags=list(person.tags), source_channel="web", region=person.region,
                tier=person.tier, registered_at=NOW - timedelta(days=900),
                erased_at=NOW if person.erased else None,
            )  # fmt: skip
            session.add(customer)
            session.flush()
            seeded.customer_ids[person.number] = customer.id
        session.flush()
        for number, buy in enumerate(buys, start=1):
            placed = NOW - timedelta(days=buy.days_ago)
            order = Order(
                number=f"T-{number:06d}", status=buy.status, channel="web",
                customer_id=seeded.customer_ids[buy.customer], ship_city="Shanghai",
                ship_country="CN", currency=buy.currency, subtotal_minor=buy.total,
                total_minor=buy.total, pricing={}, risk_flags=[], value_band="normal",
                placed_at=placed, paid_at=placed,
            )  # fmt: skip
            session.add(order)
            session.flush()
            for line_number, sku in enumerate(buy.skus, start=1):
                session.add(
                    OrderLine(
                        order_id=order.id, line_number=line_number, sku=sku, product_name=sku,
                        quantity=1, unit_price_minor=buy.total, total_minor=buy.total,
                    )
                )  # fmt: skip
        uow.commit()
    return seeded


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def container(make_container: ContainerFactory, clock: FrozenClock) -> Container:
    return make_container(clock=clock)

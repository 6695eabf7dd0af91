"""Catalog test helpers: a system unit of work, seed data, CSV building, row counts."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager

import pytest
from sqlalchemy import func, select

from shopops.audit.models import AuditEntry
from shopops.bootstrap import Container
from shopops.contexts import catalog
from shopops.db.outbox import OutboxEvent
from shopops.kernel.events import Actor
from shopops.uow import UnitOfWork

HEADER = list(catalog.CSV_COLUMNS)

UowFactory = Callable[..., AbstractContextManager[UnitOfWork]]


@pytest.fixture
def uow(container: Container) -> UowFactory:
    """``with uow() as u: ...`` runs as the system (all permissions) and commits on success."""

    @contextmanager
    def open_uow(actor: Actor | None = None) -> Iterator[UnitOfWork]:
        with container.uow(actor or Actor.system("test")) as unit:
            yield unit
            unit.commit()

    return open_uow


@pytest.fixture
def seeded(uow: UowFactory) -> dict[str, int]:
    """Categories apparel > shoes > trail, and bags; brand acme. Returns their ids by slug."""
    with uow() as u:
        apparel = catalog.create_category(u, catalog.CreateCategory("Apparel"))
        shoes = catalog.create_category(u, catalog.CreateCategory("Shoes", parent_id=apparel.id))
        trail = catalog.create_category(u, catalog.CreateCategory("Trail", parent_id=shoes.id))
        bags = catalog.create_category(u, catalog.CreateCategory("Bags"))
        acme = catalog.create_brand(u, catalog.CreateBrand("Acme"))
        return {
            "apparel": apparel.id,
            "shoes": shoes.id,
            "trail": trail.id,
            "bags": bags.id,
            "acme": acme.id,
        }


def row(**cells: str) -> dict[str, str]:
    """A valid CSV row; keyword arguments override cells."""
    base = {
        "product_code": "TRAIL",
        "product_name": "Trail Runner",
        "category": "shoes",
        "brand": "acme",
        "status": "active",
        "sku": "TRAIL-42",
        "barcode": "",
        "price": "89.90",
        "cost": "41.00",
        "currency": "USD",
        "weight_grams": "640",
        "attributes": "size=42;color=black",
    }
    base.update(cells)
    return base


def csv_bytes(rows: Sequence[dict[str, str]], header: Sequence[str] = HEADER) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for item in rows:
        writer.writerow([item.get(column, "") for column in header])
    return buffer.getvalue().encode()


COUNTED = {
    "categories": catalog.Category,
    "brands": catalog.Brand,
    "products": catalog.Product,
    "variants": catalog.Variant,
    "audit_entries": AuditEntry,
    "outbox_events": OutboxEvent,
}


def counts(container: Container) -> dict[str, int]:
    with container.session_factory() as session:
        return {
            name: session.scalar(select(func.count()).select_from(model)) or 0
            for name, model in COUNTED.items()
        }

"""Product export as CSV rows that the import reads back unchanged (a round trip)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from shopops.auth.permissions import Permission
from shopops.contexts.catalog import repository
from shopops.contexts.catalog.rows import CSV_COLUMNS
from shopops.contexts.catalog.rules import format_amount, format_attributes
from shopops.uow import UnitOfWork

EXPORT_BATCH_SIZE = 1000


def export_products(uow: UnitOfWork, *, batch_size: int = EXPORT_BATCH_SIZE) -> Iterator[list[str]]:
    """The header, then one row per variant ordered by product, read in batches.

    Products without variants have no row (a CSV row is a variant).
    """
    uow.require(Permission.CATALOG_READ)
    return _rows(uow.session, batch_size)


def _rows(session: Session, batch_size: int) -> Iterator[list[str]]:
    yield list(CSV_COLUMNS)
    after: tuple[int, int] | None = None
    while True:
        batch = repository.export_batch(session, after=after, limit=batch_size)
        for row in batch:
            yield _cells(row)
        if len(batch) < batch_size:
            return
        after = (batch[-1].product_id, batch[-1].variant_id)


def _cells(row: Row[*tuple[Any, ...]]) -> list[str]:
    return [
        row.product_code,
        row.product_name,
        row.category or "",
        row.brand or "",
        row.status,
        row.sku,
        row.barcode or "",
        format_amount(row.price_minor, row.currency),
        "" if row.cost_minor is None else format_amount(row.cost_minor, row.currency),
        row.currency,
        "" if row.weight_grams is None else str(row.weight_grams),
        format_attributes(row.attributes or {}),
    ]

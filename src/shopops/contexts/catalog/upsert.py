"""The import's write pass: upsert checked rows by SKU (products by code) in batches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from shopops.contexts.catalog import repository
from shopops.contexts.catalog.changes import (
    apply_product_changes,
    apply_variant_changes,
    record_product_created,
    record_variant_created,
)
from shopops.contexts.catalog.models import Product, Variant
from shopops.contexts.catalog.rows import ProductRow
from shopops.contexts.catalog.rules import ProductStatus
from shopops.contexts.catalog.taxonomy import add_brand
from shopops.kernel.errors import FieldError
from shopops.uow import UnitOfWork


@dataclass(frozen=True)
class RejectedRow:
    """A row left out in partial mode: its cells as read, and why."""

    line: int
    cells: tuple[str, ...]
    errors: tuple[FieldError, ...]


@dataclass
class ImportReport:
    columns: tuple[str, ...]
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    products_created: int = 0
    products_updated: int = 0
    brands_created: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.created
            or self.updated
            or self.products_created
            or self.products_updated
            or self.brands_created
        )


class ImportWriter:
    """Upserts checked rows batch by batch and counts the outcome in ``report``.

    Products are matched by code and variants by SKU; only real differences
    are written (and audited and evented). After each batch the unit of work is
    flushed (still uncommitted) and the session cleared, so memory stays flat
    however long the file is.
    """

    def __init__(self, uow: UnitOfWork, report: ImportReport, default_currency: str) -> None:
        self.uow = uow
        self.session = uow.session
        self.report = report
        self.default_currency = default_currency
        self.categories = repository.category_ids_by_slug(self.session)
        self.brands = repository.brand_ids_by_slug(self.session)
        self.product_ids: dict[str, int] = {}

    def write(self, batch: Sequence[ProductRow]) -> None:
        self._ensure_brands(batch)
        self._upsert_products(batch)
        existing = repository.variants_by_skus(self.session, [row.sku for row in batch])
        created: list[Variant] = []
        for row in batch:
            values = {
                "barcode": row.barcode,
                "price_minor": row.price_minor,
                "cost_minor": row.cost_minor,
                "currency": row.currency,
                "weight_grams": row.weight_grams,
                "attributes": row.attributes,
            }
            variant = existing.get(row.sku)
            if variant is None:
                variant = Variant(
                    product_id=self.product_ids[row.product_code], sku=row.sku, **values
                )
                self.session.add(variant)
                created.append(variant)
            elif apply_variant_changes(self.uow, variant, values):
                self.report.updated += 1
            else:
                self.report.unchanged += 1
        self.session.flush()
        for variant in created:
            record_variant_created(self.uow, variant)
        self.report.created += len(created)
        self.uow.flush()  # this batch's rows, audit entries and events go to the database
        self.session.expunge_all()

    def _ensure_brands(self, batch: Sequence[ProductRow]) -> None:
        for row in batch:
            if row.brand is not None and row.brand not in self.brands:
                self.brands[row.brand] = add_brand(self.uow, row.brand, row.brand).id
                self.report.brands_created += 1

    def _upsert_products(self, batch: Sequence[ProductRow]) -> None:
        """The first row of each product in the file sets its name, category, brand, status."""
        codes = {row.product_code for row in batch} - self.product_ids.keys()
        existing = repository.products_by_codes(self.session, codes)
        created: dict[str, Product] = {}
        for row in batch:
            code = row.product_code
            if code in self.product_ids or code in created:
                continue
            values: dict[str, object] = {
                "name": row.product_name,
                "category_id": self.categories[row.category] if row.category else None,
                "brand_id": self.brands[row.brand] if row.brand else None,
            }
            if row.status is not None:
                values["status"] = row.status
            product = existing.get(code)
            if product is None:
                values.setdefault("status", ProductStatus.DRAFT)
                created[code] = Product(code=code, description="", **values)
                self.session.add(created[code])
                continue
            if apply_product_changes(self.uow, product, values):
                self.report.products_updated += 1
            self.product_ids[code] = product.id
        self.session.flush()
        for code, product in created.items():
            self.product_ids[code] = product.id
            record_product_created(self.uow, product)
        self.report.products_created += len(created)

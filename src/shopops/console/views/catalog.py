"""What the catalog pages show: products with their variants, the choices of the filters,
and an import's report, read through the catalog's services."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from shopops.console.errors import error_text
from shopops.console.i18n import N_
from shopops.contexts import catalog
from shopops.kernel.errors import FieldError
from shopops.uow import UnitOfWork

PAGE_SIZE = 25
STATUS_LABELS: dict[str, str] = {
    catalog.ProductStatus.DRAFT: N_("Draft"),
    catalog.ProductStatus.ACTIVE: N_("Active"),
    catalog.ProductStatus.ARCHIVED: N_("Archived"),
}


@dataclass(frozen=True)
class VariantRow:
    id: int
    sku: str
    barcode: str | None
    price_minor: int
    price: str  # the price as typed in a form ("12.50")
    cost_minor: int | None
    currency: str
    weight_grams: int | None
    is_active: bool


@dataclass(frozen=True)
class ProductRow:
    id: int
    code: str
    name: str
    description: str
    status: str
    category_id: int | None
    category: str | None
    brand_id: int | None
    brand: str | None
    variants: list[VariantRow]
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


@dataclass(frozen=True)
class ProductPage:
    rows: list[ProductRow]
    after: int | None  # the cursor this page started after (None: the first page)
    next_after: int | None  # the cursor of the next page, if there is one


@dataclass(frozen=True)
class Names:
    """Category and brand names by id, and the choices for selects."""

    categories: dict[int, str]
    brands: dict[int, str]
    category_choices: list[tuple[int, str]]
    brand_choices: list[tuple[int, str]]


@dataclass(frozen=True)
class ReportLine:
    row: int | None
    column: str
    code: str
    message: str  # in the reader's language when the code is known
    detail: str  # the importer's own words, naming the value


def read_names(uow: UnitOfWork) -> Names:
    """Every category (indented under its parent) and every brand."""
    choices: list[tuple[int, str]] = []

    def walk(nodes: Sequence[catalog.TreeNode[catalog.Category]], depth: int) -> None:
        for node in nodes:
            choices.append((node.item.id, "\u2003" * depth + node.item.name))
            walk(node.children, depth + 1)

    walk(catalog.category_tree(uow), 0)
    brands: list[catalog.Brand] = []
    after: int | None = None
    while True:
        batch = list(catalog.list_brands(uow, after_id=after, limit=500))
        brands.extend(batch)
        if len(batch) < 500:
            break
        after = batch[-1].id
    brands.sort(key=lambda b: b.name.lower())
    return Names(
        categories={i: name.strip() for i, name in choices},
        brands={b.id: b.name for b in brands},
        category_choices=choices,
        brand_choices=[(b.id, b.name) for b in brands],
    )


def product_row(product: catalog.Product, names: Names) -> ProductRow:
    """A product with its (loaded) variants as plain values."""
    return ProductRow(
        id=product.id,
        code=product.code,
        name=product.name,
        description=product.description,
        status=product.status,
        category_id=product.category_id,
        category=names.categories.get(product.category_id) if product.category_id else None,
        brand_id=product.brand_id,
        brand=names.brands.get(product.brand_id) if product.brand_id else None,
        variants=[
            VariantRow(
                v.id,
                v.sku,
                v.barcode,
                v.price_minor,
                catalog.format_amount(v.price_minor, v.currency),
                v.cost_minor,
                v.currency,
                v.weight_grams,
                v.is_active,
            )
            for v in product.variants
        ],
        created_at=product.created_at,
        updated_at=product.updated_at,
    )


def read_products(
    uow: UnitOfWork,
    names: Names,
    *,
    query: str | None,
    category_id: int | None,
    brand_id: int | None,
    status: str | None,
    after: int | None,
    size: int = PAGE_SIZE,
) -> ProductPage:
    """One page of products by id (a category includes its subcategories)."""
    found = list(
        catalog.list_products(
            uow,
            catalog.ListProducts(
                status=status,
                category_id=category_id,
                brand_id=brand_id,
                query=query,
                after_id=after,
                limit=size + 1,
            ),
        )
    )
    rows = [product_row(p, names) for p in found[:size]]
    return ProductPage(rows, after, rows[-1].id if len(found) > size else None)


def report_lines(errors: Sequence[FieldError]) -> list[ReportLine]:
    """The importer's problems, one line per (row, column, code), safe to show."""
    show = catalog.printable  # bytes that were not UTF-8 cannot go into the page as they are
    return [
        ReportLine(
            e.row, show(e.field), e.code, error_text(e.code, show(e.message)), show(e.message)
        )
        for e in errors
    ]

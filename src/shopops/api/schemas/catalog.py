"""Catalog request and response bodies. Money is a decimal string plus its currency."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shopops.api.pagination import Page
from shopops.contexts.catalog import (
    Category,
    ImportReport,
    Product,
    ProductStatus,
    RejectedRow,
    TreeNode,
    Variant,
    format_amount,
    printable,
)

_AMOUNT = "A decimal string in major units with at most the currency's decimal places."


class CategoryCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200, examples=["Running shoes"])
    slug: str | None = Field(
        default=None,
        max_length=120,
        description="Derived from the name when omitted.",
        examples=["running-shoes"],
    )
    parent_id: int | None = Field(default=None, examples=[1])
    is_active: bool = True


class CategoryUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200, examples=["Trail shoes"])
    slug: str | None = Field(default=None, max_length=120, examples=["trail-shoes"])
    parent_id: int | None = Field(default=None, description="null moves it to the top level.")
    is_active: bool | None = None


class CategoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    slug: str
    parent_id: int | None
    is_active: bool
    created_at: datetime
    updated_at: datetime


class CategoryNode(CategoryRead):
    children: list[CategoryNode] = Field(default_factory=list)

    @classmethod
    def from_tree(cls, node: TreeNode[Category]) -> CategoryNode:
        base = CategoryRead.model_validate(node.item).model_dump()
        return cls(**base, children=[cls.from_tree(child) for child in node.children])


class BrandCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200, examples=["Acme Outdoor"])
    slug: str | None = Field(
        default=None,
        max_length=120,
        description="Derived from the name when omitted.",
        examples=["acme-outdoor"],
    )


class BrandUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200, examples=["Acme"])
    slug: str | None = Field(default=None, max_length=120, examples=["acme"])


class BrandRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    slug: str
    created_at: datetime
    updated_at: datetime


class BrandPage(Page[BrandRead]):
    pass


class VariantCreate(BaseModel):
    sku: str = Field(min_length=1, max_length=64, examples=["TRAIL-42-BLK"])
    price: str = Field(description=_AMOUNT, examples=["89.90"])
    currency: str = Field(min_length=3, max_length=3, examples=["USD"])
    cost: str | None = Field(default=None, description=_AMOUNT, examples=["41.00"])
    barcode: str | None = Field(default=None, max_length=64, examples=["4006381333931"])
    weight_grams: int | None = Field(default=None, ge=0, examples=[640])
    attributes: dict[str, Any] = Field(
        default_factory=dict, examples=[{"size": "42", "color": "black"}]
    )
    is_active: bool = True


class VariantUpdate(BaseModel):
    """Only the fields sent change; send `null` to clear cost, barcode or weight."""

    price: str | None = Field(default=None, description=_AMOUNT, examples=["79.90"])
    currency: str | None = Field(
        default=None,
        min_length=3,
        max_length=3,
        description="A new currency needs the price (and cost) in it.",
    )
    cost: str | None = Field(default=None, description=_AMOUNT, examples=["39.50"])
    barcode: str | None = Field(default=None, max_length=64)
    weight_grams: int | None = Field(default=None, ge=0)
    attributes: dict[str, Any] | None = None
    is_active: bool | None = None


class VariantRead(BaseModel):
    id: int
    product_id: int
    sku: str
    barcode: str | None
    price: str = Field(examples=["89.90"])
    cost: str | None = Field(examples=["41.00"])
    currency: str = Field(examples=["USD"])
    weight_grams: int | None
    attributes: dict[str, Any]
    is_active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, variant: Variant) -> VariantRead:
        cost = variant.cost_minor
        return cls(
            id=variant.id,
            product_id=variant.product_id,
            sku=variant.sku,
            barcode=variant.barcode,
            price=format_amount(variant.price_minor, variant.currency),
            cost=None if cost is None else format_amount(cost, variant.currency),
            currency=variant.currency,
            weight_grams=variant.weight_grams,
            attributes=dict(variant.attributes),
            is_active=variant.is_active,
            created_at=variant.created_at,
            updated_at=variant.updated_at,
        )


class ProductCreate(BaseModel):
    code: str = Field(min_length=1, max_length=64, examples=["TRAIL-RUNNER"])
    name: str = Field(min_length=1, max_length=200, examples=["Trail Runner"])
    description: str = Field(default="", max_length=20_000)
    category_id: int | None = Field(default=None, examples=[1])
    brand_id: int | None = Field(default=None, examples=[1])
    status: ProductStatus = ProductStatus.DRAFT
    variants: list[VariantCreate] = Field(default_factory=list, max_length=500)


class ProductUpdate(BaseModel):
    """Only the fields sent change; send `null` for category_id or brand_id to clear them."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=20_000)
    category_id: int | None = None
    brand_id: int | None = None
    status: ProductStatus | None = None


class ProductRead(BaseModel):
    id: int
    code: str
    name: str
    description: str
    category_id: int | None
    brand_id: int | None
    status: ProductStatus
    variants: list[VariantRead]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, product: Product) -> ProductRead:
        return cls(
            id=product.id,
            code=product.code,
            name=product.name,
            description=product.description,
            category_id=product.category_id,
            brand_id=product.brand_id,
            status=ProductStatus(product.status),
            variants=[VariantRead.of(v) for v in product.variants],
            created_at=product.created_at,
            updated_at=product.updated_at,
        )


class ProductPage(Page[ProductRead]):
    pass


class FieldErrorRead(BaseModel):
    field: str = Field(examples=["price"])
    code: str = Field(examples=["catalog.negative_amount"])
    message: str
    row: int | None = Field(default=None, description="Line of the file (the header is 1).")


class RejectedRowRead(BaseModel):
    row: int = Field(description="Line of the file where the row starts.", examples=[4])
    values: dict[str, str] = Field(
        description="The row's cells by column; bytes that are not UTF-8 are shown as U+FFFD."
    )
    errors: list[FieldErrorRead]

    @classmethod
    def of(cls, columns: tuple[str, ...], rejected: RejectedRow) -> RejectedRowRead:
        values = {
            printable(name): printable(cell)
            for name, cell in zip(columns, rejected.cells, strict=False)
        }
        return cls(
            row=rejected.line,
            values=values,
            errors=[FieldErrorRead(**e.as_dict()) for e in rejected.errors],
        )


class ImportReportRead(BaseModel):
    rows: int = Field(description="Data rows read.", examples=[120])
    created: int = Field(description="Variants created.", examples=[100])
    updated: int = Field(description="Variants changed.", examples=[15])
    unchanged: int = Field(description="Variants already as in the file.", examples=[3])
    products_created: int = Field(examples=[40])
    products_updated: int = Field(examples=[2])
    brands_created: int = Field(examples=[1])
    rejected: list[RejectedRowRead] = Field(
        description="Rows left out (partial imports only; otherwise any error imports nothing)."
    )

    @classmethod
    def of(cls, report: ImportReport) -> ImportReportRead:
        return cls(
            rows=report.rows,
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            products_created=report.products_created,
            products_updated=report.products_updated,
            brands_created=report.brands_created,
            rejected=[RejectedRowRead.of(report.columns, r) for r in report.rejected],
        )

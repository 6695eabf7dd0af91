"""Catalog tables: categories (a tree), brands, products and their variants (SKUs).

Relationships stay inside the context and never load lazily (``lazy="raise"``):
queries say what they need with ``selectinload``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shopops.contexts.catalog.rules import ProductStatus
from shopops.db.base import Base, IdMixin, TimestampMixin
from shopops.db.types import BigIntId
from shopops.kernel.money import Money


class Category(IdMixin, TimestampMixin, Base):
    """A node of the category tree; ``parent_id`` is None for top-level categories."""

    __tablename__ = "categories"

    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    parent_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("categories.id"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class Brand(IdMixin, TimestampMixin, Base):
    __tablename__ = "brands"

    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(120), unique=True)


class Product(IdMixin, TimestampMixin, Base):
    """What customers see as one item; sold through one or more variants."""

    __tablename__ = "products"

    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("categories.id"), index=True
    )
    brand_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("brands.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=ProductStatus.DRAFT, index=True)

    variants: Mapped[list[Variant]] = relationship(
        back_populates="product", lazy="raise", order_by="Variant.id"
    )

    @property
    def is_archived(self) -> bool:
        return self.status == ProductStatus.ARCHIVED


class Variant(IdMixin, TimestampMixin, Base):
    """A sellable SKU of a product, with its own price, cost, weight and attributes."""

    __tablename__ = "variants"
    __table_args__ = (
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        CheckConstraint("cost_minor IS NULL OR cost_minor >= 0", name="cost_not_negative"),
        CheckConstraint("weight_grams IS NULL OR weight_grams >= 0", name="weight_not_negative"),
    )

    product_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("products.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    barcode: Mapped[str | None] = mapped_column(String(64), unique=True)
    price_minor: Mapped[int] = mapped_column(BigInteger)
    cost_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    weight_grams: Mapped[int | None]
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)

    product: Mapped[Product] = relationship(back_populates="variants", lazy="raise")

    @property
    def price(self) -> Money:
        return Money(self.price_minor, self.currency)

    @property
    def cost(self) -> Money | None:
        return None if self.cost_minor is None else Money(self.cost_minor, self.currency)

"""Catalog events, named in past tense. Payloads carry ids and the changed fields."""

from __future__ import annotations

from dataclasses import dataclass

from shopops.kernel.events import Event


@dataclass(frozen=True)
class CategoryCreated(Event):
    event_type = "catalog.category_created"
    aggregate = "category"
    id_field = "category_id"

    category_id: int
    slug: str
    parent_id: int | None


@dataclass(frozen=True)
class CategoryUpdated(Event):
    event_type = "catalog.category_updated"
    aggregate = "category"
    id_field = "category_id"

    category_id: int
    changed: tuple[str, ...]


@dataclass(frozen=True)
class CategoryDeleted(Event):
    event_type = "catalog.category_deleted"
    aggregate = "category"
    id_field = "category_id"

    category_id: int
    slug: str


@dataclass(frozen=True)
class BrandCreated(Event):
    event_type = "catalog.brand_created"
    aggregate = "brand"
    id_field = "brand_id"

    brand_id: int
    slug: str


@dataclass(frozen=True)
class BrandUpdated(Event):
    event_type = "catalog.brand_updated"
    aggregate = "brand"
    id_field = "brand_id"

    brand_id: int
    changed: tuple[str, ...]


@dataclass(frozen=True)
class BrandDeleted(Event):
    event_type = "catalog.brand_deleted"
    aggregate = "brand"
    id_field = "brand_id"

    brand_id: int
    slug: str


@dataclass(frozen=True)
class ProductCreated(Event):
    event_type = "catalog.product_created"
    aggregate = "product"
    id_field = "product_id"

    product_id: int
    code: str
    status: str


@dataclass(frozen=True)
class ProductUpdated(Event):
    event_type = "catalog.product_updated"
    aggregate = "product"
    id_field = "product_id"

    product_id: int
    code: str
    changed: tuple[str, ...]


@dataclass(frozen=True)
class ProductStatusChanged(Event):
    event_type = "catalog.product_status_changed"
    aggregate = "product"
    id_field = "product_id"

    product_id: int
    code: str
    old_status: str
    new_status: str


@dataclass(frozen=True)
class VariantCreated(Event):
    event_type = "catalog.variant_created"
    aggregate = "variant"
    id_field = "variant_id"

    variant_id: int
    product_id: int
    sku: str
    price_minor: int
    currency: str


@dataclass(frozen=True)
class VariantUpdated(Event):
    event_type = "catalog.variant_updated"
    aggregate = "variant"
    id_field = "variant_id"

    variant_id: int
    sku: str
    changed: tuple[str, ...]


@dataclass(frozen=True)
class VariantPriceChanged(Event):
    event_type = "catalog.variant_price_changed"
    aggregate = "variant"
    id_field = "variant_id"

    variant_id: int
    sku: str
    old_price_minor: int
    old_currency: str
    new_price_minor: int
    new_currency: str


@dataclass(frozen=True)
class ProductsImported(Event):
    """One import finished with changes (per-entity events are emitted as well)."""

    event_type = "catalog.products_imported"
    aggregate = "catalog_import"
    id_field = "import_id"

    import_id: str
    created: int
    updated: int
    unchanged: int
    rejected: int

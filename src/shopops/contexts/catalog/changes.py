"""The one place where a product or variant change becomes audit rows and events.

Services and the CSV import call these after checking the values; they set
only fields whose value differs, so an unchanged save writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shopops.contexts.catalog.events import (
    ProductCreated,
    ProductStatusChanged,
    ProductUpdated,
    VariantCreated,
    VariantPriceChanged,
    VariantUpdated,
)
from shopops.contexts.catalog.models import Product, Variant
from shopops.contexts.catalog.rules import changed_fields, format_amount
from shopops.uow import UnitOfWork


def product_view(product: Product) -> dict[str, object]:
    return {
        "code": product.code,
        "name": product.name,
        "description": product.description,
        "category_id": product.category_id,
        "brand_id": product.brand_id,
        "status": product.status,
    }


def variant_view(variant: Variant) -> dict[str, object]:
    cost = variant.cost_minor
    return {
        "sku": variant.sku,
        "barcode": variant.barcode,
        "price": format_amount(variant.price_minor, variant.currency),
        "cost": None if cost is None else format_amount(cost, variant.currency),
        "currency": variant.currency,
        "weight_grams": variant.weight_grams,
        "attributes": dict(variant.attributes),
        "is_active": variant.is_active,
    }


def record_product_created(uow: UnitOfWork, product: Product) -> None:
    uow.audit("product.created", "product", product.id, after=product_view(product))
    uow.emit(ProductCreated(product.id, product.code, product.status))


def record_variant_created(uow: UnitOfWork, variant: Variant) -> None:
    uow.audit("variant.created", "variant", variant.id, after=variant_view(variant))
    uow.emit(
        VariantCreated(
            variant.id, variant.product_id, variant.sku, variant.price_minor, variant.currency
        )
    )


def apply_product_changes(
    uow: UnitOfWork, product: Product, values: Mapping[str, Any], *, action: str = "product.updated"
) -> bool:
    """Set checked ``values`` on ``product``; audit and emit only if something changed."""
    before = product_view(product)
    for name, value in values.items():
        if getattr(product, name) != value:
            setattr(product, name, value)
    after = product_view(product)
    changed = changed_fields(before, after)
    if not changed:
        return False
    uow.audit(action, "product", product.id, before=before, after=after)
    uow.emit(ProductUpdated(product.id, product.code, changed))
    if before["status"] != after["status"]:
        uow.emit(
            ProductStatusChanged(product.id, product.code, str(before["status"]), product.status)
        )
    return True


def apply_variant_changes(uow: UnitOfWork, variant: Variant, values: Mapping[str, Any]) -> bool:
    """Set checked ``values`` on ``variant``; audit and emit only if something changed."""
    before = variant_view(variant)
    old_price, old_currency = variant.price_minor, variant.currency
    for name, value in values.items():
        if getattr(variant, name) != value:
            setattr(variant, name, value)
    after = variant_view(variant)
    changed = changed_fields(before, after)
    if not changed:
        return False
    uow.audit("variant.updated", "variant", variant.id, before=before, after=after)
    uow.emit(VariantUpdated(variant.id, variant.sku, changed))
    if (old_price, old_currency) != (variant.price_minor, variant.currency):
        uow.emit(
            VariantPriceChanged(
                variant.id,
                variant.sku,
                old_price,
                old_currency,
                variant.price_minor,
                variant.currency,
            )
        )
    return True

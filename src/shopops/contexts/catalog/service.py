"""Use cases for products and their variants. Audited, evented; nothing here commits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shopops.auth.permissions import Permission
from shopops.contexts.catalog import repository
from shopops.contexts.catalog.changes import (
    apply_product_changes,
    apply_variant_changes,
    record_product_created,
    record_variant_created,
)
from shopops.contexts.catalog.commands import (
    UNSET,
    AddVariant,
    ChangeProduct,
    ChangeVariant,
    CreateProduct,
    ListProducts,
    NewVariant,
)
from shopops.contexts.catalog.errors import CatalogError
from shopops.contexts.catalog.models import Product, Variant
from shopops.contexts.catalog.rules import (
    ProductStatus,
    check_attributes,
    check_weight,
    collect,
    descendants,
    parse_amount,
    parse_currency,
    parse_identifier,
    parse_name,
    parse_status,
)
from shopops.kernel.errors import Conflict, FieldError, FieldErrorCollector, NotFound
from shopops.uow import UnitOfWork

# --- reads ----------------------------------------------------------------------------


def get_product(uow: UnitOfWork, product_id: int) -> Product:
    """The product with its variants loaded."""
    uow.require(Permission.CATALOG_READ)
    product = repository.get_product(uow.session, product_id, with_variants=True)
    if product is None:
        raise NotFound(CatalogError.PRODUCT_NOT_FOUND, f"product {product_id} does not exist")
    return product


def get_product_by_code(uow: UnitOfWork, code: str) -> Product:
    uow.require(Permission.CATALOG_READ)
    found = repository.get_product_by_code(uow.session, code.strip())
    if found is None:
        raise NotFound(CatalogError.PRODUCT_NOT_FOUND, f"no product with code '{code}'")
    return get_product(uow, found.id)


def list_products(uow: UnitOfWork, query: ListProducts) -> Sequence[Product]:
    """Products by id, filtered; a category filter includes its subcategories."""
    uow.require(Permission.CATALOG_READ)
    errors = FieldErrorCollector()
    status = (
        None
        if query.status is None
        else collect(errors, "status", lambda: parse_status(query.status or ""))
    )
    errors.raise_if_any()
    category_ids = None
    if query.category_id is not None:
        category_ids = descendants(query.category_id, repository.category_parents(uow.session))
    return repository.list_products(
        uow.session,
        status=status,
        category_ids=category_ids,
        brand_id=query.brand_id,
        query=query.query.strip() if query.query else None,
        after_id=query.after_id,
        limit=query.limit,
    )


def get_variant(uow: UnitOfWork, sku: str) -> Variant:
    uow.require(Permission.CATALOG_READ)
    variant = repository.get_variant_by_sku(uow.session, sku.strip())
    if variant is None:
        raise NotFound(CatalogError.VARIANT_NOT_FOUND, f"no variant with SKU '{sku}'")
    return variant


# --- products -------------------------------------------------------------------------


def _check_references(
    uow: UnitOfWork, errors: FieldErrorCollector, category_id: int | None, brand_id: int | None
) -> None:
    if category_id is not None and repository.get_category(uow.session, category_id) is None:
        errors.add(
            "category_id", CatalogError.UNKNOWN_CATEGORY, f"category {category_id} does not exist"
        )
    if brand_id is not None and repository.get_brand(uow.session, brand_id) is None:
        errors.add("brand_id", CatalogError.UNKNOWN_BRAND, f"brand {brand_id} does not exist")


def _new_variant(errors: FieldErrorCollector, prefix: str, new: NewVariant) -> Variant | None:
    """A checked, unsaved Variant, or None with the problems added to ``errors``."""
    sku = collect(errors, f"{prefix}sku", lambda: parse_identifier(new.sku, "sku"))
    currency = collect(errors, f"{prefix}currency", lambda: parse_currency(new.currency))
    price = collect(errors, f"{prefix}price", lambda: parse_amount(new.price, currency))
    cost = None
    if new.cost is not None and new.cost.strip():
        cost = collect(errors, f"{prefix}cost", lambda: parse_amount(new.cost or "", currency))
    barcode = None
    if new.barcode is not None and new.barcode.strip():
        barcode = collect(
            errors, f"{prefix}barcode", lambda: parse_identifier(new.barcode or "", "barcode")
        )
    weight = None
    if new.weight_grams is not None:
        weight = collect(
            errors, f"{prefix}weight_grams", lambda: check_weight(new.weight_grams or 0)
        )
    attributes = collect(errors, f"{prefix}attributes", lambda: check_attributes(new.attributes))
    if sku is None or currency is None or price is None or attributes is None:
        return None
    return Variant(
        sku=sku,
        barcode=barcode,
        price_minor=price,
        cost_minor=cost,
        currency=currency,
        weight_grams=weight,
        attributes=attributes,
        is_active=new.is_active,
    )


def _unique_keys_conflict(
    uow: UnitOfWork, variants: Sequence[tuple[str, Variant]], code: str | None = None
) -> Conflict | None:
    """A Conflict listing every product code, SKU or barcode already in use, or None."""
    taken: list[FieldError] = []
    if code is not None and repository.get_product_by_code(uow.session, code) is not None:
        taken.append(FieldError("code", CatalogError.CODE_TAKEN, f"product code '{code}' is taken"))
    skus = repository.taken_skus(uow.session, [v.sku for _, v in variants])
    barcodes = repository.barcode_owners(uow.session, [v.barcode for _, v in variants if v.barcode])
    for prefix, variant in variants:
        if variant.sku in skus:
            taken.append(
                FieldError(f"{prefix}sku", CatalogError.SKU_TAKEN, f"SKU '{variant.sku}' is taken")
            )
        if variant.barcode is not None and variant.barcode in barcodes:
            taken.append(
                FieldError(
                    f"{prefix}barcode",
                    CatalogError.BARCODE_TAKEN,
                    f"barcode '{variant.barcode}' belongs to SKU '{barcodes[variant.barcode]}'",
                )
            )
    if not taken:
        return None
    return Conflict(taken[0].code, f"{len(taken)} value(s) already in use", errors=taken)


_DUPLICATE_CODES = {"sku": CatalogError.DUPLICATE_SKU, "barcode": CatalogError.DUPLICATE_BARCODE}


def create_product(uow: UnitOfWork, command: CreateProduct) -> Product:
    """Create a product with its first variants (all checked together)."""
    uow.require(Permission.CATALOG_WRITE)
    errors = FieldErrorCollector()
    code = collect(errors, "code", lambda: parse_identifier(command.code, "code"))
    name = collect(errors, "name", lambda: parse_name(command.name))
    status = collect(errors, "status", lambda: parse_status(command.status))
    _check_references(uow, errors, command.category_id, command.brand_id)
    variants: list[tuple[str, Variant]] = []
    first_index: dict[tuple[str, str], int] = {}
    for index, new in enumerate(command.variants):
        prefix = f"variants.{index}."
        variant = _new_variant(errors, prefix, new)
        if variant is None:
            continue
        for key, value in (("sku", variant.sku), ("barcode", variant.barcode)):
            first = index if value is None else first_index.setdefault((key, value), index)
            if first != index:
                errors.add(
                    f"{prefix}{key}",
                    _DUPLICATE_CODES[key],
                    f"{key} '{value}' is also on variants.{first}",
                )
        variants.append((prefix, variant))
    errors.raise_if_any()
    assert code is not None
    assert name is not None
    assert status is not None
    conflict = _unique_keys_conflict(uow, variants, code)
    if conflict is not None:
        raise conflict
    product = Product(
        code=code,
        name=name,
        description=command.description.strip(),
        category_id=command.category_id,
        brand_id=command.brand_id,
        status=status,
        variants=[variant for _, variant in variants],
    )
    uow.session.add(product)
    uow.session.flush()
    record_product_created(uow, product)
    for variant in product.variants:
        record_variant_created(uow, variant)
    return product


def change_product(uow: UnitOfWork, command: ChangeProduct) -> Product:
    uow.require(Permission.CATALOG_WRITE)
    product = get_product(uow, command.product_id)
    errors = FieldErrorCollector()
    values: dict[str, Any] = {}
    if command.name is not None:
        values["name"] = collect(errors, "name", lambda: parse_name(command.name or ""))
    if command.description is not None:
        values["description"] = command.description.strip()
    if command.status is not None:
        values["status"] = collect(errors, "status", lambda: parse_status(command.status or ""))
    if command.category_id is not UNSET:
        values["category_id"] = command.category_id
    if command.brand_id is not UNSET:
        values["brand_id"] = command.brand_id
    _check_references(uow, errors, values.get("category_id"), values.get("brand_id"))
    errors.raise_if_any()
    if apply_product_changes(uow, product, values):
        uow.session.flush()
    return product


def archive_product(uow: UnitOfWork, product_id: int) -> Product:
    """Archive a product (hidden from sale, kept for history). Archiving twice is a no-op."""
    uow.require(Permission.CATALOG_WRITE)
    product = get_product(uow, product_id)
    if apply_product_changes(
        uow, product, {"status": ProductStatus.ARCHIVED}, action="product.archived"
    ):
        uow.session.flush()
    return product


# --- variants -------------------------------------------------------------------------


def add_variant(uow: UnitOfWork, command: AddVariant) -> Variant:
    uow.require(Permission.CATALOG_WRITE)
    product = get_product(uow, command.product_id)
    errors = FieldErrorCollector()
    variant = _new_variant(errors, "", command.variant)
    errors.raise_if_any()
    assert variant is not None
    conflict = _unique_keys_conflict(uow, [("", variant)])
    if conflict is not None:
        raise conflict
    variant.product_id = product.id
    uow.session.add(variant)
    uow.session.flush()
    record_variant_created(uow, variant)
    return variant


def change_variant(uow: UnitOfWork, command: ChangeVariant) -> Variant:
    """Change a variant's price, cost, barcode, weight, attributes or active flag."""
    uow.require(Permission.CATALOG_WRITE)
    variant = get_variant(uow, command.sku)
    errors = FieldErrorCollector()
    values: dict[str, Any] = {}
    currency: str | None = variant.currency
    if command.currency is not None:
        currency = collect(errors, "currency", lambda: parse_currency(command.currency or ""))
        values["currency"] = currency
        if currency is not None and currency != variant.currency:
            if command.price is None:
                errors.add(
                    "price",
                    CatalogError.CURRENCY_NEEDS_PRICE,
                    "changing the currency needs the price in the new currency",
                )
            if command.cost is UNSET and variant.cost_minor is not None:
                errors.add(
                    "cost",
                    CatalogError.CURRENCY_NEEDS_PRICE,
                    "changing the currency needs the cost in the new currency (or null)",
                )
    if command.price is not None:
        values["price_minor"] = collect(
            errors, "price", lambda: parse_amount(command.price or "", currency)
        )
    if command.cost is not UNSET:
        cost_text = command.cost
        values["cost_minor"] = (
            None
            if cost_text is None or not cost_text.strip()
            else collect(errors, "cost", lambda: parse_amount(cost_text, currency))
        )
    if command.barcode is not UNSET:
        barcode_text = command.barcode
        values["barcode"] = (
            None
            if barcode_text is None or not barcode_text.strip()
            else collect(errors, "barcode", lambda: parse_identifier(barcode_text, "barcode"))
        )
    if command.weight_grams is not UNSET:
        weight = command.weight_grams
        values["weight_grams"] = (
            None
            if weight is None
            else collect(errors, "weight_grams", lambda: check_weight(weight))
        )
    if command.attributes is not None:
        attributes = command.attributes
        values["attributes"] = collect(errors, "attributes", lambda: check_attributes(attributes))
    if command.is_active is not None:
        values["is_active"] = command.is_active
    errors.raise_if_any()
    barcode = values.get("barcode")
    if barcode is not None and barcode != variant.barcode:
        owner = repository.get_variant_by_barcode(uow.session, barcode)
        if owner is not None:
            raise Conflict(
                CatalogError.BARCODE_TAKEN,
                f"barcode '{barcode}' belongs to SKU '{owner.sku}'",
                errors=[FieldError("barcode", CatalogError.BARCODE_TAKEN, "barcode is taken")],
            )
    if apply_variant_changes(uow, variant, values):
        uow.session.flush()
    return variant

"""Every query of the catalog context."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Row, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from shopops.contexts.catalog.models import Brand, Category, Product, Variant

# --- categories -----------------------------------------------------------------------


def get_category(session: Session, category_id: int) -> Category | None:
    return session.get(Category, category_id)


def get_category_by_slug(session: Session, slug: str) -> Category | None:
    return session.scalars(select(Category).where(Category.slug == slug)).one_or_none()


def list_categories(session: Session, *, include_inactive: bool = True) -> Sequence[Category]:
    stmt = select(Category).order_by(Category.name, Category.id)
    if not include_inactive:
        stmt = stmt.where(Category.is_active)
    return session.scalars(stmt).all()


def category_parents(session: Session) -> dict[int, int | None]:
    """``{category id: parent id}`` for the whole tree (categories are few)."""
    return {
        row.id: row.parent_id for row in session.execute(select(Category.id, Category.parent_id))
    }


def category_ids_by_slug(session: Session) -> dict[str, int]:
    return {row.slug: row.id for row in session.execute(select(Category.slug, Category.id))}


def count_children(session: Session, category_id: int) -> int:
    stmt = select(func.count()).select_from(Category).where(Category.parent_id == category_id)
    return session.scalar(stmt) or 0


def count_products_in_category(session: Session, category_id: int) -> int:
    stmt = select(func.count()).select_from(Product).where(Product.category_id == category_id)
    return session.scalar(stmt) or 0


# --- brands ---------------------------------------------------------------------------


def get_brand(session: Session, brand_id: int) -> Brand | None:
    return session.get(Brand, brand_id)


def get_brand_by_slug(session: Session, slug: str) -> Brand | None:
    return session.scalars(select(Brand).where(Brand.slug == slug)).one_or_none()


def list_brands(session: Session, *, after_id: int | None, limit: int) -> Sequence[Brand]:
    stmt = select(Brand).order_by(Brand.id).limit(limit)
    if after_id is not None:
        stmt = stmt.where(Brand.id > after_id)
    return session.scalars(stmt).all()


def brand_ids_by_slug(session: Session) -> dict[str, int]:
    return {row.slug: row.id for row in session.execute(select(Brand.slug, Brand.id))}


def count_products_of_brand(session: Session, brand_id: int) -> int:
    stmt = select(func.count()).select_from(Product).where(Product.brand_id == brand_id)
    return session.scalar(stmt) or 0


# --- products -------------------------------------------------------------------------


def get_product(
    session: Session, product_id: int, *, with_variants: bool = False
) -> Product | None:
    stmt = select(Product).where(Product.id == product_id)
    if with_variants:
        stmt = stmt.options(selectinload(Product.variants))
    return session.scalars(stmt).one_or_none()


def get_product_by_code(session: Session, code: str) -> Product | None:
    return session.scalars(select(Product).where(Product.code == code)).one_or_none()


def products_by_codes(session: Session, codes: Collection[str]) -> dict[str, Product]:
    if not codes:
        return {}
    rows = session.scalars(select(Product).where(Product.code.in_(codes)))
    return {product.code: product for product in rows}


def list_products(
    session: Session,
    *,
    status: str | None,
    category_ids: Collection[int] | None,
    brand_id: int | None,
    query: str | None,
    after_id: int | None,
    limit: int,
) -> Sequence[Product]:
    """Products by id with their variants loaded in one extra query (no N+1)."""
    stmt = select(Product).options(selectinload(Product.variants)).order_by(Product.id).limit(limit)
    if status is not None:
        stmt = stmt.where(Product.status == status)
    if category_ids is not None:
        stmt = stmt.where(Product.category_id.in_(category_ids))
    if brand_id is not None:
        stmt = stmt.where(Product.brand_id == brand_id)
    if query:
        sku_match = exists().where(
            Variant.product_id == Product.id, Variant.sku.icontains(query, autoescape=True)
        )
        stmt = stmt.where(
            or_(
                Product.code.icontains(query, autoescape=True),
                Product.name.icontains(query, autoescape=True),
                sku_match,
            )
        )
    if after_id is not None:
        stmt = stmt.where(Product.id > after_id)
    return session.scalars(stmt).all()


# --- variants -------------------------------------------------------------------------


def get_variant_by_sku(session: Session, sku: str) -> Variant | None:
    return session.scalars(select(Variant).where(Variant.sku == sku)).one_or_none()


def get_variant_by_barcode(session: Session, barcode: str) -> Variant | None:
    return session.scalars(select(Variant).where(Variant.barcode == barcode)).one_or_none()


def variants_by_skus(session: Session, skus: Collection[str]) -> dict[str, Variant]:
    if not skus:
        return {}
    return {v.sku: v for v in session.scalars(select(Variant).where(Variant.sku.in_(skus)))}


def taken_skus(session: Session, skus: Collection[str]) -> set[str]:
    if not skus:
        return set()
    return set(session.scalars(select(Variant.sku).where(Variant.sku.in_(skus))))


def sku_owners(session: Session, skus: Collection[str]) -> dict[str, str]:
    """``{sku: product code}`` for the SKUs that exist."""
    if not skus:
        return {}
    stmt = (
        select(Variant.sku, Product.code)
        .join(Product, Product.id == Variant.product_id)
        .where(Variant.sku.in_(skus))
    )
    return {row.sku: row.code for row in session.execute(stmt)}


def barcode_owners(session: Session, barcodes: Collection[str]) -> dict[str, str]:
    """``{barcode: sku}`` for the barcodes that exist."""
    if not barcodes:
        return {}
    stmt = select(Variant.barcode, Variant.sku).where(Variant.barcode.in_(barcodes))
    return {row.barcode: row.sku for row in session.execute(stmt) if row.barcode is not None}


def export_batch(
    session: Session, *, after: tuple[int, int] | None, limit: int
) -> Sequence[Row[*tuple[Any, ...]]]:
    """Variant rows with their product's fields, ordered by (product id, variant id).

    Plain column rows (no ORM objects), so exporting a large catalog streams in
    constant memory: pass the last row's ``(product_id, variant_id)`` as ``after``.
    """
    stmt = (
        select(
            Variant.product_id,
            Variant.id.label("variant_id"),
            Product.code.label("product_code"),
            Product.name.label("product_name"),
            Category.slug.label("category"),
            Brand.slug.label("brand"),
            Product.status,
            Variant.sku,
            Variant.barcode,
            Variant.price_minor,
            Variant.cost_minor,
            Variant.currency,
            Variant.weight_grams,
            Variant.attributes,
        )
        .join(Product, Product.id == Variant.product_id)
        .outerjoin(Category, Category.id == Product.category_id)
        .outerjoin(Brand, Brand.id == Product.brand_id)
        .order_by(Variant.product_id, Variant.id)
        .limit(limit)
    )
    if after is not None:
        product_id, variant_id = after
        stmt = stmt.where(
            or_(
                Variant.product_id > product_id,
                (Variant.product_id == product_id) & (Variant.id > variant_id),
            )
        )
    return session.execute(stmt).all()

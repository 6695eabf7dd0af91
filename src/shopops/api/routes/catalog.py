"""Catalog: the category tree, brands, products with variants, and CSV imports."""

from __future__ import annotations

from typing import Literal, TypeVar

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile
from pydantic import BaseModel

from shopops.api.deps import RequestContext, require
from shopops.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, after_id, next_cursor_by_id
from shopops.api.schemas.catalog import (
    BrandCreate,
    BrandPage,
    BrandRead,
    BrandUpdate,
    CategoryCreate,
    CategoryNode,
    CategoryRead,
    CategoryUpdate,
    ImportReportRead,
    ProductCreate,
    ProductPage,
    ProductRead,
    ProductUpdate,
    VariantCreate,
    VariantRead,
    VariantUpdate,
)
from shopops.auth.permissions import Permission
from shopops.contexts import catalog

router = APIRouter(prefix="/catalog", tags=["catalog"])

READ = Depends(require(Permission.CATALOG_READ))
WRITE = Depends(require(Permission.CATALOG_WRITE))
IMPORT = Depends(require(Permission.CATALOG_IMPORT))


T = TypeVar("T")


def _if_sent(body: BaseModel, name: str, value: T) -> T | Literal[catalog.Unset.UNSET]:
    """``value`` if the client sent the field (even as null), else UNSET (leave it alone)."""
    return value if name in body.model_fields_set else catalog.UNSET


# --- categories -----------------------------------------------------------------------


@router.get("/categories", response_model=list[CategoryNode])
def category_tree(
    include_inactive: bool = True, context: RequestContext = READ
) -> list[CategoryNode]:
    """The whole category tree: top-level categories with their children, by name."""
    with context.uow() as uow:
        tree = catalog.category_tree(uow, include_inactive=include_inactive)
        return [CategoryNode.from_tree(node) for node in tree]


@router.post("/categories", response_model=CategoryRead, status_code=201)
def create_category(body: CategoryCreate, context: RequestContext = WRITE) -> CategoryRead:
    with context.uow() as uow:
        category = catalog.create_category(
            uow, catalog.CreateCategory(body.name, body.slug, body.parent_id, body.is_active)
        )
        uow.commit()
        return CategoryRead.model_validate(category)


@router.get("/categories/{category_id}", response_model=CategoryRead)
def get_category(category_id: int, context: RequestContext = READ) -> CategoryRead:
    with context.uow() as uow:
        return CategoryRead.model_validate(catalog.get_category(uow, category_id))


@router.patch("/categories/{category_id}", response_model=CategoryRead)
def update_category(
    category_id: int, body: CategoryUpdate, context: RequestContext = WRITE
) -> CategoryRead:
    """Rename, re-slug, move (refused if it would make a cycle) or (de)activate."""
    with context.uow() as uow:
        category = catalog.change_category(
            uow,
            catalog.ChangeCategory(
                category_id,
                name=body.name,
                slug=body.slug,
                parent_id=_if_sent(body, "parent_id", body.parent_id),
                is_active=body.is_active,
            ),
        )
        uow.commit()
        return CategoryRead.model_validate(category)


@router.delete("/categories/{category_id}", status_code=204)
def delete_category(category_id: int, context: RequestContext = WRITE) -> Response:
    """Delete an empty category (no subcategories, no products)."""
    with context.uow() as uow:
        catalog.delete_category(uow, category_id)
        uow.commit()
    return Response(status_code=204)


# --- brands ---------------------------------------------------------------------------


@router.get("/brands", response_model=BrandPage)
def list_brands(
    cursor: str | None = None,
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    context: RequestContext = READ,
) -> BrandPage:
    with context.uow() as uow:
        rows = list(catalog.list_brands(uow, after_id=after_id(cursor), limit=limit + 1))
        return BrandPage(
            items=[BrandRead.model_validate(b) for b in rows[:limit]],
            next_cursor=next_cursor_by_id(rows, limit),
        )


@router.post("/brands", response_model=BrandRead, status_code=201)
def create_brand(body: BrandCreate, context: RequestContext = WRITE) -> BrandRead:
    with context.uow() as uow:
        brand = catalog.create_brand(uow, catalog.CreateBrand(body.name, body.slug))
        uow.commit()
        return BrandRead.model_validate(brand)


@router.get("/brands/{brand_id}", response_model=BrandRead)
def get_brand(brand_id: int, context: RequestContext = READ) -> BrandRead:
    with context.uow() as uow:
        return BrandRead.model_validate(catalog.get_brand(uow, brand_id))


@router.patch("/brands/{brand_id}", response_model=BrandRead)
def update_brand(brand_id: int, body: BrandUpdate, context: RequestContext = WRITE) -> BrandRead:
    with context.uow() as uow:
        brand = catalog.change_brand(uow, catalog.ChangeBrand(brand_id, body.name, body.slug))
        uow.commit()
        return BrandRead.model_validate(brand)


@router.delete("/brands/{brand_id}", status_code=204)
def delete_brand(brand_id: int, context: RequestContext = WRITE) -> Response:
    """Delete a brand no product uses."""
    with context.uow() as uow:
        catalog.delete_brand(uow, brand_id)
        uow.commit()
    return Response(status_code=204)


# --- products -------------------------------------------------------------------------


@router.get("/products", response_model=ProductPage)
def list_products(
    status: catalog.ProductStatus | None = None,
    category_id: int | None = Query(None, description="Includes its subcategories."),
    brand_id: int | None = None,
    q: str | None = Query(None, max_length=100, description="Text in code, name or SKU."),
    cursor: str | None = None,
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    context: RequestContext = READ,
) -> ProductPage:
    """Products with their variants, by id."""
    with context.uow() as uow:
        rows = list(
            catalog.list_products(
                uow,
                catalog.ListProducts(
                    status=status,
                    category_id=category_id,
                    brand_id=brand_id,
                    query=q,
                    after_id=after_id(cursor),
                    limit=limit + 1,
                ),
            )
        )
        return ProductPage(
            items=[ProductRead.of(p) for p in rows[:limit]],
            next_cursor=next_cursor_by_id(rows, limit),
        )


@router.post("/products", response_model=ProductRead, status_code=201)
def create_product(body: ProductCreate, context: RequestContext = WRITE) -> ProductRead:
    """Create a product with its first variants; every problem is reported at once."""
    variants = tuple(
        catalog.NewVariant(
            v.sku, v.price, v.currency, v.cost, v.barcode, v.weight_grams, v.attributes, v.is_active
        )
        for v in body.variants
    )
    with context.uow() as uow:
        product = catalog.create_product(
            uow,
            catalog.CreateProduct(
                body.code,
                body.name,
                body.description,
                body.category_id,
                body.brand_id,
                body.status,
                variants,
            ),
        )
        uow.commit()
        return ProductRead.of(product)


@router.get("/products/{product_id}", response_model=ProductRead)
def get_product(product_id: int, context: RequestContext = READ) -> ProductRead:
    with context.uow() as uow:
        return ProductRead.of(catalog.get_product(uow, product_id))


@router.patch("/products/{product_id}", response_model=ProductRead)
def update_product(
    product_id: int, body: ProductUpdate, context: RequestContext = WRITE
) -> ProductRead:
    with context.uow() as uow:
        product = catalog.change_product(
            uow,
            catalog.ChangeProduct(
                product_id,
                name=body.name,
                description=body.description,
                category_id=_if_sent(body, "category_id", body.category_id),
                brand_id=_if_sent(body, "brand_id", body.brand_id),
                status=body.status,
            ),
        )
        uow.commit()
        return ProductRead.of(product)


@router.post("/products/{product_id}/archive", response_model=ProductRead)
def archive_product(product_id: int, context: RequestContext = WRITE) -> ProductRead:
    """Archive the product (kept for order history, no longer for sale). Idempotent."""
    with context.uow() as uow:
        product = catalog.archive_product(uow, product_id)
        uow.commit()
        return ProductRead.of(product)


# --- variants -------------------------------------------------------------------------


@router.post("/products/{product_id}/variants", response_model=VariantRead, status_code=201)
def add_variant(
    product_id: int, body: VariantCreate, context: RequestContext = WRITE
) -> VariantRead:
    with context.uow() as uow:
        variant = catalog.add_variant(
            uow,
            catalog.AddVariant(
                product_id,
                catalog.NewVariant(
                    body.sku,
                    body.price,
                    body.currency,
                    body.cost,
                    body.barcode,
                    body.weight_grams,
                    body.attributes,
                    body.is_active,
                ),
            ),
        )
        uow.commit()
        return VariantRead.of(variant)


@router.get("/variants/{sku}", response_model=VariantRead)
def get_variant(sku: str, context: RequestContext = READ) -> VariantRead:
    with context.uow() as uow:
        return VariantRead.of(catalog.get_variant(uow, sku))


@router.patch("/variants/{sku}", response_model=VariantRead)
def update_variant(sku: str, body: VariantUpdate, context: RequestContext = WRITE) -> VariantRead:
    """Change price, cost, barcode, weight, attributes or the active flag of one SKU."""
    with context.uow() as uow:
        variant = catalog.change_variant(
            uow,
            catalog.ChangeVariant(
                sku,
                price=body.price,
                currency=body.currency,
                cost=_if_sent(body, "cost", body.cost),
                barcode=_if_sent(body, "barcode", body.barcode),
                weight_grams=_if_sent(body, "weight_grams", body.weight_grams),
                attributes=body.attributes,
                is_active=body.is_active,
            ),
        )
        uow.commit()
        return VariantRead.of(variant)


# --- imports --------------------------------------------------------------------------


@router.post("/imports", response_model=ImportReportRead)
def import_products(
    file: UploadFile = File(description="Product CSV (see the catalog import columns)."),
    partial: bool = Form(False, description="Import the valid rows and report the others."),
    context: RequestContext = IMPORT,
) -> ImportReportRead:
    """Import a product CSV: upsert by SKU; re-importing the same file changes nothing.

    Every row is checked first. Without `partial`, any problem imports nothing
    and the 422 response lists every problem with its `row` (file line) and
    `field` (column). With `partial`, valid rows are imported and the others
    are returned in `rejected`.
    """
    with context.uow() as uow:
        report = catalog.import_products(
            uow,
            catalog.ImportProducts(
                file.file,
                partial=partial,
                default_currency=context.container.settings.default_currency,
            ),
        )
        uow.commit()
    return ImportReportRead.of(report)

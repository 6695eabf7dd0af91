"""Use cases for categories (a tree) and brands. Audited, evented; nothing here commits."""

from __future__ import annotations

from collections.abc import Sequence

from shopops.auth.permissions import Permission
from shopops.contexts.catalog import repository
from shopops.contexts.catalog.commands import (
    UNSET,
    ChangeBrand,
    ChangeCategory,
    CreateBrand,
    CreateCategory,
)
from shopops.contexts.catalog.errors import CatalogError
from shopops.contexts.catalog.events import (
    BrandCreated,
    BrandDeleted,
    BrandUpdated,
    CategoryCreated,
    CategoryDeleted,
    CategoryUpdated,
)
from shopops.contexts.catalog.models import Brand, Category
from shopops.contexts.catalog.rules import (
    TreeNode,
    build_tree,
    changed_fields,
    collect,
    creates_cycle,
    parse_name,
    parse_slug,
    slugify,
)
from shopops.kernel.errors import Conflict, FieldError, FieldErrorCollector, NotFound
from shopops.uow import UnitOfWork


def category_view(category: Category) -> dict[str, object]:
    return {
        "name": category.name,
        "slug": category.slug,
        "parent_id": category.parent_id,
        "is_active": category.is_active,
    }


def brand_view(brand: Brand) -> dict[str, object]:
    return {"name": brand.name, "slug": brand.slug}


def _slug_taken(kind: str, slug: str) -> Conflict:
    return Conflict(
        CatalogError.SLUG_TAKEN,
        f"a {kind} with slug '{slug}' already exists",
        errors=[FieldError("slug", CatalogError.SLUG_TAKEN, f"'{slug}' is taken")],
    )


# --- categories -----------------------------------------------------------------------


def get_category(uow: UnitOfWork, category_id: int) -> Category:
    uow.require(Permission.CATALOG_READ)
    category = repository.get_category(uow.session, category_id)
    if category is None:
        raise NotFound(CatalogError.CATEGORY_NOT_FOUND, f"category {category_id} does not exist")
    return category


def get_category_by_slug(uow: UnitOfWork, slug: str) -> Category:
    uow.require(Permission.CATALOG_READ)
    category = repository.get_category_by_slug(uow.session, slug.strip().lower())
    if category is None:
        raise NotFound(CatalogError.CATEGORY_NOT_FOUND, f"no category with slug '{slug}'")
    return category


def list_categories(uow: UnitOfWork, *, include_inactive: bool = True) -> Sequence[Category]:
    """Every category, by name (flat)."""
    uow.require(Permission.CATALOG_READ)
    return repository.list_categories(uow.session, include_inactive=include_inactive)


def category_tree(uow: UnitOfWork, *, include_inactive: bool = True) -> list[TreeNode[Category]]:
    """The categories nested under their parents, siblings by name."""
    categories = list_categories(uow, include_inactive=include_inactive)
    return build_tree(categories, lambda c: c.id, lambda c: c.parent_id)


def create_category(uow: UnitOfWork, command: CreateCategory) -> Category:
    uow.require(Permission.CATALOG_WRITE)
    session = uow.session
    errors = FieldErrorCollector()
    name = collect(errors, "name", lambda: parse_name(command.name))
    slug_text = command.slug if command.slug is not None else slugify(command.name)
    slug = collect(errors, "slug", lambda: parse_slug(slug_text))
    if (
        command.parent_id is not None
        and repository.get_category(session, command.parent_id) is None
    ):
        errors.add(
            "parent_id",
            CatalogError.CATEGORY_NOT_FOUND,
            f"parent category {command.parent_id} does not exist",
        )
    errors.raise_if_any()
    assert name is not None
    assert slug is not None
    if repository.get_category_by_slug(session, slug) is not None:
        raise _slug_taken("category", slug)
    category = Category(
        name=name, slug=slug, parent_id=command.parent_id, is_active=command.is_active
    )
    session.add(category)
    session.flush()
    uow.audit("category.created", "category", category.id, after=category_view(category))
    uow.emit(CategoryCreated(category.id, category.slug, category.parent_id))
    return category


def change_category(uow: UnitOfWork, command: ChangeCategory) -> Category:
    uow.require(Permission.CATALOG_WRITE)
    session = uow.session
    category = repository.get_category(session, command.category_id)
    if category is None:
        raise NotFound(
            CatalogError.CATEGORY_NOT_FOUND, f"category {command.category_id} does not exist"
        )
    errors = FieldErrorCollector()
    name = (
        None
        if command.name is None
        else collect(errors, "name", lambda: parse_name(command.name or ""))
    )
    slug = (
        None
        if command.slug is None
        else collect(errors, "slug", lambda: parse_slug(command.slug or ""))
    )
    parent_id = command.parent_id
    if parent_id is not UNSET and parent_id is not None:
        if repository.get_category(session, parent_id) is None:
            errors.add(
                "parent_id",
                CatalogError.CATEGORY_NOT_FOUND,
                f"parent category {parent_id} does not exist",
            )
        elif creates_cycle(category.id, parent_id, repository.category_parents(session)):
            errors.add(
                "parent_id",
                CatalogError.CATEGORY_CYCLE,
                f"category {parent_id} is this category or one below it",
            )
    errors.raise_if_any()
    if (
        slug is not None
        and slug != category.slug
        and repository.get_category_by_slug(session, slug) is not None
    ):
        raise _slug_taken("category", slug)
    before = category_view(category)
    if name is not None:
        category.name = name
    if slug is not None:
        category.slug = slug
    if parent_id is not UNSET:
        category.parent_id = parent_id
    if command.is_active is not None:
        category.is_active = command.is_active
    after = category_view(category)
    changed = changed_fields(before, after)
    if changed:
        session.flush()
        uow.audit("category.updated", "category", category.id, before=before, after=after)
        uow.emit(CategoryUpdated(category.id, changed))
    return category


def delete_category(uow: UnitOfWork, category_id: int) -> None:
    """Delete a category that has no subcategories and no products."""
    uow.require(Permission.CATALOG_WRITE)
    session = uow.session
    category = repository.get_category(session, category_id)
    if category is None:
        raise NotFound(CatalogError.CATEGORY_NOT_FOUND, f"category {category_id} does not exist")
    children = repository.count_children(session, category_id)
    products = repository.count_products_in_category(session, category_id)
    if children or products:
        raise Conflict(
            CatalogError.CATEGORY_IN_USE,
            f"category '{category.slug}' has {children} subcategories and {products} products",
            details={"subcategories": children, "products": products},
        )
    before = category_view(category)
    session.delete(category)
    session.flush()
    uow.audit("category.deleted", "category", category_id, before=before)
    uow.emit(CategoryDeleted(category_id, category.slug))


# --- brands ---------------------------------------------------------------------------


def get_brand(uow: UnitOfWork, brand_id: int) -> Brand:
    uow.require(Permission.CATALOG_READ)
    brand = repository.get_brand(uow.session, brand_id)
    if brand is None:
        raise NotFound(CatalogError.BRAND_NOT_FOUND, f"brand {brand_id} does not exist")
    return brand


def get_brand_by_slug(uow: UnitOfWork, slug: str) -> Brand:
    uow.require(Permission.CATALOG_READ)
    brand = repository.get_brand_by_slug(uow.session, slug.strip().lower())
    if brand is None:
        raise NotFound(CatalogError.BRAND_NOT_FOUND, f"no brand with slug '{slug}'")
    return brand


def list_brands(uow: UnitOfWork, *, after_id: int | None, limit: int) -> Sequence[Brand]:
    uow.require(Permission.CATALOG_READ)
    return repository.list_brands(uow.session, after_id=after_id, limit=limit)


def create_brand(uow: UnitOfWork, command: CreateBrand) -> Brand:
    uow.require(Permission.CATALOG_WRITE)
    errors = FieldErrorCollector()
    name = collect(errors, "name", lambda: parse_name(command.name))
    slug_text = command.slug if command.slug is not None else slugify(command.name)
    slug = collect(errors, "slug", lambda: parse_slug(slug_text))
    errors.raise_if_any()
    assert name is not None
    assert slug is not None
    if repository.get_brand_by_slug(uow.session, slug) is not None:
        raise _slug_taken("brand", slug)
    return add_brand(uow, name, slug)


def add_brand(uow: UnitOfWork, name: str, slug: str) -> Brand:
    """Insert a checked brand, with its audit row and event (also used by the import)."""
    brand = Brand(name=name, slug=slug)
    uow.session.add(brand)
    uow.session.flush()
    uow.audit("brand.created", "brand", brand.id, after=brand_view(brand))
    uow.emit(BrandCreated(brand.id, brand.slug))
    return brand


def change_brand(uow: UnitOfWork, command: ChangeBrand) -> Brand:
    uow.require(Permission.CATALOG_WRITE)
    session = uow.session
    brand = repository.get_brand(session, command.brand_id)
    if brand is None:
        raise NotFound(CatalogError.BRAND_NOT_FOUND, f"brand {command.brand_id} does not exist")
    errors = FieldErrorCollector()
    name = (
        None
        if command.name is None
        else collect(errors, "name", lambda: parse_name(command.name or ""))
    )
    slug = (
        None
        if command.slug is None
        else collect(errors, "slug", lambda: parse_slug(command.slug or ""))
    )
    errors.raise_if_any()
    if (
        slug is not None
        and slug != brand.slug
        and repository.get_brand_by_slug(session, slug) is not None
    ):
        raise _slug_taken("brand", slug)
    before = brand_view(brand)
    if name is not None:
        brand.name = name
    if slug is not None:
        brand.slug = slug
    after = brand_view(brand)
    changed = changed_fields(before, after)
    if changed:
        session.flush()
        uow.audit("brand.updated", "brand", brand.id, before=before, after=after)
        uow.emit(BrandUpdated(brand.id, changed))
    return brand


def delete_brand(uow: UnitOfWork, brand_id: int) -> None:
    """Delete a brand no product uses."""
    uow.require(Permission.CATALOG_WRITE)
    session = uow.session
    brand = repository.get_brand(session, brand_id)
    if brand is None:
        raise NotFound(CatalogError.BRAND_NOT_FOUND, f"brand {brand_id} does not exist")
    products = repository.count_products_of_brand(session, brand_id)
    if products:
        raise Conflict(
            CatalogError.BRAND_IN_USE,
            f"brand '{brand.slug}' is used by {products} products",
            details={"products": products},
        )
    before = brand_view(brand)
    session.delete(brand)
    session.flush()
    uow.audit("brand.deleted", "brand", brand_id, before=before)
    uow.emit(BrandDeleted(brand_id, brand.slug))

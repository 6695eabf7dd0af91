"""catalog: categories, brands, products, variants, CSV import and export."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from shopops.cli.context import OutputFormat, console, emit_rows, error_console, state
from shopops.contexts import catalog

catalog_app = typer.Typer(help="Products, variants, categories and brands.", no_args_is_help=True)
categories_app = typer.Typer(help="The category tree.", no_args_is_help=True)
brands_app = typer.Typer(help="Brands.", no_args_is_help=True)
products_app = typer.Typer(help="Products and their variants.", no_args_is_help=True)
variants_app = typer.Typer(help="Variants (SKUs).", no_args_is_help=True)
catalog_app.add_typer(categories_app, name="categories")
catalog_app.add_typer(brands_app, name="brands")
catalog_app.add_typer(products_app, name="products")
catalog_app.add_typer(variants_app, name="variants")

FORMAT = typer.Option(OutputFormat.TABLE, "--format", help="table, csv or json.")


# --- categories and brands ------------------------------------------------------------


@categories_app.command("add")
def add_category(
    name: str,
    slug: str | None = typer.Option(None, help="Defaults to one derived from the name."),
    parent: str | None = typer.Option(None, help="Slug of the parent category."),
    inactive: bool = typer.Option(False, "--inactive", help="Create it hidden."),
) -> None:
    """Add a category (under --parent, or at the top level)."""
    with state.uow() as uow:
        parent_id = catalog.get_category_by_slug(uow, parent).id if parent else None
        category = catalog.create_category(
            uow, catalog.CreateCategory(name, slug, parent_id, is_active=not inactive)
        )
        uow.commit()
        console.print(f"created category {category.id} {category.slug}")


def _walk(
    nodes: list[catalog.TreeNode[catalog.Category]], depth: int = 0
) -> Iterator[tuple[int, catalog.Category]]:
    for node in nodes:
        yield depth, node.item
        yield from _walk(node.children, depth + 1)


@categories_app.command("list")
def list_categories(fmt: OutputFormat = FORMAT) -> None:
    """The category tree (names indented under their parents in a table)."""
    with state.uow() as uow:
        tree = catalog.category_tree(uow)
        slugs = {c.id: c.slug for _, c in _walk(tree)}
        rows = [
            (
                c.id,
                c.slug,
                ("  " * depth if fmt == OutputFormat.TABLE else "") + c.name,
                slugs.get(c.parent_id) if c.parent_id else None,
                c.is_active,
            )
            for depth, c in _walk(tree)
        ]
    emit_rows(rows, ["id", "slug", "name", "parent", "active"], fmt, "Categories")


@brands_app.command("add")
def add_brand(
    name: str,
    slug: str | None = typer.Option(None, help="Defaults to one derived from the name."),
) -> None:
    """Add a brand."""
    with state.uow() as uow:
        brand = catalog.create_brand(uow, catalog.CreateBrand(name, slug))
        uow.commit()
        console.print(f"created brand {brand.id} {brand.slug}")


@brands_app.command("list")
def list_brands(fmt: OutputFormat = FORMAT) -> None:
    """List brands."""
    with state.uow() as uow:
        rows = [
            (b.id, b.slug, b.name) for b in catalog.list_brands(uow, after_id=None, limit=100_000)
        ]
    emit_rows(rows, ["id", "slug", "name"], fmt, "Brands")


# --- products and variants ------------------------------------------------------------


@products_app.command("list")
def list_products(
    status: catalog.ProductStatus | None = typer.Option(None, help="draft, active or archived."),
    category: str | None = typer.Option(None, help="Category slug (with subcategories)."),
    brand: str | None = typer.Option(None, help="Brand slug."),
    query: str | None = typer.Option(None, "--query", "-q", help="Text in code, name or SKU."),
    limit: int = typer.Option(1000, min=1, max=100_000),
    fmt: OutputFormat = FORMAT,
) -> None:
    """List products with their SKUs."""
    with state.uow() as uow:
        category_id = catalog.get_category_by_slug(uow, category).id if category else None
        brand_id = catalog.get_brand_by_slug(uow, brand).id if brand else None
        products = catalog.list_products(
            uow, catalog.ListProducts(status, category_id, brand_id, query, limit=limit)
        )
        rows = [
            (p.id, p.code, p.name, p.status, " ".join(v.sku for v in p.variants)) for p in products
        ]
    emit_rows(rows, ["id", "code", "name", "status", "skus"], fmt, "Products")


@products_app.command("show")
def show_product(code: str, fmt: OutputFormat = FORMAT) -> None:
    """A product and its variants."""
    with state.uow() as uow:
        product = catalog.get_product_by_code(uow, code)
        if fmt == OutputFormat.TABLE:
            console.print(
                f"[bold]{product.code}[/] {product.name}  status={product.status} "
                f"category_id={product.category_id} brand_id={product.brand_id}"
            )
        rows = [
            (
                v.sku,
                v.barcode,
                catalog.format_amount(v.price_minor, v.currency),
                None if v.cost_minor is None else catalog.format_amount(v.cost_minor, v.currency),
                v.currency,
                v.weight_grams,
                v.attributes,
                v.is_active,
            )
            for v in product.variants
        ]
    headers = [
        "sku",
        "barcode",
        "price",
        "cost",
        "currency",
        "weight_grams",
        "attributes",
        "active",
    ]
    emit_rows(rows, headers, fmt, "Variants")


def _attributes(pairs: list[str]) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"'{pair}' is not key=value", param_hint="--attr")
        attributes[key.strip()] = value.strip()
    return attributes


@products_app.command("create")
def create_product(
    code: str,
    name: str = typer.Option(..., help="Product name."),
    description: str = typer.Option("", help="Description."),
    category: str | None = typer.Option(None, help="Category slug."),
    brand: str | None = typer.Option(None, help="Brand slug."),
    status: catalog.ProductStatus = typer.Option(catalog.ProductStatus.DRAFT),
    sku: str | None = typer.Option(None, help="SKU of a first variant."),
    price: str | None = typer.Option(None, help="Price of the first variant, e.g. 12.50."),
    currency: str | None = typer.Option(None, help="Defaults to the store currency."),
    cost: str | None = typer.Option(None, help="Cost of the first variant."),
    barcode: str | None = typer.Option(None),
    weight: int | None = typer.Option(None, "--weight", help="Weight in grams."),
    attr: list[str] = typer.Option([], "--attr", help="key=value; repeat for several."),
) -> None:
    """Create a product, optionally with a first variant (--sku and --price)."""
    variants: tuple[catalog.NewVariant, ...] = ()
    if sku is not None or price is not None:
        if sku is None or price is None:
            raise typer.BadParameter("a first variant needs both --sku and --price")
        variants = (
            catalog.NewVariant(
                sku,
                price,
                currency or state.container.settings.default_currency,
                cost,
                barcode,
                weight,
                _attributes(attr),
            ),
        )
    with state.uow() as uow:
        category_id = catalog.get_category_by_slug(uow, category).id if category else None
        brand_id = catalog.get_brand_by_slug(uow, brand).id if brand else None
        product = catalog.create_product(
            uow,
            catalog.CreateProduct(code, name, description, category_id, brand_id, status, variants),
        )
        uow.commit()
        console.print(f"created product {product.id} {product.code} ({product.status})")


@products_app.command("archive")
def archive_product(code: str) -> None:
    """Archive a product (no longer for sale)."""
    with state.uow() as uow:
        product = catalog.archive_product(uow, catalog.get_product_by_code(uow, code).id)
        uow.commit()
        console.print(f"product {product.code} is {product.status}")


@variants_app.command("set-price")
def set_price(
    sku: str,
    price: str,
    currency: str | None = typer.Option(None, help="Change the currency too."),
    cost: str | None = typer.Option(None, help="Also set the cost."),
) -> None:
    """Set a variant's price (a decimal such as 12.50)."""
    with state.uow() as uow:
        variant = catalog.change_variant(
            uow,
            catalog.ChangeVariant(
                sku, price=price, currency=currency, cost=catalog.UNSET if cost is None else cost
            ),
        )
        uow.commit()
        console.print(
            f"{variant.sku}: {catalog.format_amount(variant.price_minor, variant.currency)} "
            f"{variant.currency}"
        )


# --- import and export ----------------------------------------------------------------


def _write_rejects(path: Path, report: catalog.ImportReport) -> None:
    """The rejected rows as read (bytes kept as they were) plus an ``errors`` column."""
    with path.open("w", encoding="utf-8", errors="surrogateescape", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*report.columns, "errors"])
        for rejected in report.rejected:
            cells = list(rejected.cells) + [""] * (len(report.columns) - len(rejected.cells))
            messages = "; ".join(f"{e.field}: {e.message} [{e.code}]" for e in rejected.errors)
            writer.writerow([*cells, messages])


@catalog_app.command("import")
def import_products(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    partial: bool = typer.Option(
        False, "--partial", help="Import the valid rows; write the others to --rejects."
    ),
    rejects: Path | None = typer.Option(
        None, help="Where to write rejected rows (default: FILE.rejects.csv)."
    ),
    currency: str | None = typer.Option(None, help="Currency for rows that leave it blank."),
    fmt: OutputFormat = FORMAT,
) -> None:
    """Import products from CSV: all rows or none, unless --partial. Upserts by SKU."""
    if rejects is not None and not partial:
        raise typer.BadParameter("--rejects needs --partial", param_hint="--rejects")
    with (
        file.open("rb") as source,
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=error_console,
            transient=True,
        ) as progress,
    ):
        tasks = {
            stage: progress.add_task(stage, total=None)
            for stage in (catalog.STAGE_VALIDATE, catalog.STAGE_WRITE)
        }

        def advance(stage: str, done: int, total: int) -> None:
            progress.update(tasks[stage], completed=done, total=total)

        with state.uow() as uow:
            report = catalog.import_products(
                uow,
                catalog.ImportProducts(
                    source,
                    partial=partial,
                    default_currency=currency or state.container.settings.default_currency,
                ),
                progress=advance,
            )
            uow.commit()
    emit_rows(
        [
            ("rows", report.rows),
            ("created", report.created),
            ("updated", report.updated),
            ("unchanged", report.unchanged),
            ("rejected", len(report.rejected)),
            ("products_created", report.products_created),
            ("products_updated", report.products_updated),
            ("brands_created", report.brands_created),
        ],
        ["result", "count"],
        fmt,
        f"Import of {file.name}",
    )
    if report.rejected:
        target = rejects or file.with_name(f"{file.stem}.rejects.csv")
        _write_rejects(target, report)
        error_console.print(f"{len(report.rejected)} row(s) rejected; see {target}")


@contextmanager
def _output(target: str) -> Iterator[TextIO]:
    if target == "-":
        yield sys.stdout
        return
    with Path(target).open("w", encoding="utf-8", newline="") as handle:
        yield handle


@catalog_app.command("export")
def export_products(
    file: str = typer.Argument(..., help="CSV file to write, or - for standard output."),
) -> None:
    """Export every variant as CSV in the import's columns (re-importing it changes nothing)."""
    count = -1
    with state.uow() as uow, _output(file) as handle:
        writer = csv.writer(handle)
        for row in catalog.export_products(uow):
            writer.writerow(row)
            count += 1
    if file != "-":
        console.print(f"exported {count} variant(s) to {file}")

"""Catalog: products with their variants, the product page and its edit form, CSV import.

Reading needs ``catalog.read``, editing ``catalog.write`` and importing
``catalog.import`` (the same permissions as the catalog API). An edit is one
unit of work: if any field is wrong, nothing is saved and every problem is
shown beside its field.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from shopops.auth.permissions import Permission
from shopops.console.forms import FormErrors, parse_int
from shopops.console.guards import Staff, staff
from shopops.console.i18n import _
from shopops.console.templating import is_htmx, render
from shopops.console.views.catalog import (
    STATUS_LABELS,
    Names,
    ProductRow,
    ReportLine,
    product_row,
    read_names,
    read_products,
    report_lines,
)
from shopops.contexts import catalog
from shopops.kernel.errors import Conflict, FieldError, ValidationFailed

router = APIRouter(include_in_schema=False)

READ = staff(Permission.CATALOG_READ)
WRITE = staff(Permission.CATALOG_WRITE)
IMPORT = staff(Permission.CATALOG_IMPORT)
CATALOG_URL = "/console/catalog"
MAX_QUERY = 100
IMPORT_MODES = ("all", "partial")


async def _form(request: Request) -> FormData:
    """The posted form, read before the (synchronous) route runs in the thread pool."""
    return await request.form()


def _status_choices() -> list[tuple[str, str]]:
    return [(key, _(label)) for key, label in STATUS_LABELS.items()]


def _query(params: Mapping[str, str | int | None]) -> str:
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


# --- the product list -------------------------------------------------------------------


@router.get("/catalog")
def products(
    request: Request,
    q: str | None = None,
    category: str | None = None,
    brand: str | None = None,
    status: str | None = None,
    after: str | None = None,
    current: Staff = Depends(READ),
) -> Response:
    """Products with their variants; search by name, code or SKU; filter; next page by cursor."""
    errors = FormErrors()
    text = (q or "").strip()
    if len(text) > MAX_QUERY:
        errors.add("q", "validation.too_long")
        text = ""
    category_id = parse_int(errors, "category", category, minimum=1, required=False)
    brand_id = parse_int(errors, "brand", brand, minimum=1, required=False)
    after_id = parse_int(errors, "after", after, minimum=1, required=False)
    wanted = (status or "").strip()
    if wanted and wanted not in STATUS_LABELS:
        errors.add("status", "catalog.invalid_status")
        wanted = ""
    with current.uow() as uow:
        names = read_names(uow)
        view = read_products(
            uow,
            names,
            query=text or None,
            category_id=category_id,
            brand_id=brand_id,
            status=wanted or None,
            after=after_id,
        )
    form = {"q": text, "category": category or "", "brand": brand or "", "status": wanted}
    return render(
        request,
        "catalog/list_body.html" if is_htmx(request) else "catalog/index.html",
        status_code=422 if errors else 200,
        view=view,
        names=names,
        statuses=_status_choices(),
        errors=errors,
        form=form,
        can_import=current.can(Permission.CATALOG_IMPORT),
        page_url=lambda cursor: f"{CATALOG_URL}?{_query({**form, 'after': cursor})}",
    )


# --- one product ------------------------------------------------------------------------


def _product_page(
    request: Request,
    current: Staff,
    product: ProductRow,
    names: Names,
    *,
    values: Mapping[str, str] | None = None,
    errors: FormErrors | None = None,
    saved: bool = False,
) -> Response:
    if values is None:
        values = {
            "name": product.name,
            "description": product.description,
            "category": str(product.category_id or ""),
            "brand": str(product.brand_id or ""),
            "status": product.status,
            **{f"price_{v.id}": v.price for v in product.variants},
        }
    errors = errors or FormErrors()
    fragment = is_htmx(request) and request.method == "POST"
    return render(
        request,
        "catalog/product_form.html" if fragment else "catalog/product.html",
        status_code=422 if errors else 200,
        product=product,
        names=names,
        statuses=_status_choices(),
        values=values,
        errors=errors,
        saved=saved,
        can_write=current.can(Permission.CATALOG_WRITE),
    )


@router.get("/catalog/products/{product_id}")
def product(request: Request, product_id: int, current: Staff = Depends(READ)) -> Response:
    """The product with its variants; staff with catalog.write get the edit form."""
    with current.uow() as uow:
        names = read_names(uow)
        found = product_row(catalog.get_product(uow, product_id), names)
    return _product_page(request, current, found, names)


def _optional_id(errors: FormErrors, name: str, raw: str) -> int | None:
    return parse_int(errors, name, raw, minimum=1, required=False)


@router.post("/catalog/products/{product_id}")
def edit_product(
    request: Request,
    product_id: int,
    form: FormData = Depends(_form),
    current: Staff = Depends(WRITE),
) -> Response:
    """Save name, description, category, brand, status and variant prices: all or nothing."""

    def text(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    errors = FormErrors()
    fields = {"name": "name", "description": "description", "status": "status"}
    fields |= {"category_id": "category", "brand_id": "brand"}
    values = {name: text(name) for name in ("name", "description", "category", "brand", "status")}
    with current.uow() as uow:
        names = read_names(uow)
        existing = catalog.get_product(uow, product_id)
        before = product_row(existing, names)
        prices = {v.sku: (f"price_{v.id}", text(f"price_{v.id}")) for v in existing.variants}
        values |= dict(prices.values())
        category_id = _optional_id(errors, "category", values["category"])
        brand_id = _optional_id(errors, "brand", values["brand"])
        try:
            catalog.change_product(
                uow,
                catalog.ChangeProduct(
                    product_id,
                    name=values["name"],
                    description=values["description"],
                    category_id=category_id,
                    brand_id=brand_id,
                    status=values["status"],
                ),
            )
        except ValidationFailed as invalid:
            for item in invalid.errors:
                errors.add(fields.get(item.field, "_form"), item.code, item.message)
        for sku, (field, raw) in sorted(prices.items()):
            try:
                catalog.change_variant(uow, catalog.ChangeVariant(sku, price=raw))
            except (ValidationFailed, Conflict) as invalid:
                for item in invalid.errors or []:
                    errors.add(field, item.code, item.message)
                if not invalid.errors:
                    errors.add(field, invalid.code, invalid.message)
        if errors:
            return _product_page(request, current, before, names, values=values, errors=errors)
        uow.commit()
        after = product_row(catalog.get_product(uow, product_id), names)
    if not is_htmx(request):
        return RedirectResponse(f"{CATALOG_URL}/products/{product_id}", status_code=303)
    return _product_page(request, current, after, names, saved=True)


# --- CSV import -------------------------------------------------------------------------


def _import_page(
    request: Request,
    *,
    mode: str = "all",
    errors: FormErrors | None = None,
    report: catalog.ImportReport | None = None,
    problems: list[ReportLine] | None = None,
) -> Response:
    errors = errors or FormErrors()
    failed = bool(errors) or (report is None and bool(problems))
    return render(
        request,
        "catalog/import_body.html" if is_htmx(request) else "catalog/import.html",
        status_code=422 if failed else 200,
        mode=mode,
        errors=errors,
        report=report,
        problems=problems or [],
        columns=catalog.CSV_COLUMNS,
    )


@router.get("/catalog/import")
def import_page(request: Request, current: Staff = Depends(IMPORT)) -> Response:
    """Upload a product CSV (the columns of ``shopops catalog export``)."""
    return _import_page(request)


@router.post("/catalog/import")
def import_products(
    request: Request,
    file: UploadFile | None = File(None),
    mode: str = Form("all"),
    current: Staff = Depends(IMPORT),
) -> Response:
    """Import: all rows or none, or (partial) the valid rows with a report of the others."""
    errors = FormErrors()
    if file is None or not file.filename:
        errors.add("file", "validation.required")
    if mode not in IMPORT_MODES:
        errors.add("mode", "validation.invalid")
    if errors or file is None:
        return _import_page(request, mode=mode, errors=errors)
    try:
        with current.uow() as uow:
            report = catalog.import_products(
                uow,
                catalog.ImportProducts(
                    file.file,
                    partial=mode == "partial",
                    default_currency=current.container.settings.default_currency,
                ),
            )
            uow.commit()
    except ValidationFailed as invalid:
        problems = report_lines(
            invalid.errors or [FieldError("file", invalid.code, invalid.message)]
        )
        return _import_page(request, mode=mode, problems=problems)
    problems = [line for rejected in report.rejected for line in report_lines(rejected.errors)]
    return _import_page(request, mode=mode, report=report, problems=problems)

"""The catalog pages: products with variants, the product edit form, and the CSV import.

Edits save every field or none (422 with each message beside its field); an
all-or-nothing import with any problem writes nothing and lists every problem
by row and column; roles without the permission get 403.
"""

from __future__ import annotations

from typing import Any

import pytest

from shopops.auth.permissions import Role
from shopops.bootstrap import Container
from shopops.contexts import catalog
from shopops.kernel.errors import NotFound
from tests.architecture.test_permission_matrix import _snapshot
from tests.catalog.conftest import counts, csv_bytes, row
from tests.catalog.test_import import BAD_FILE, BAD_NAME
from tests.commerce import SYSTEM, add_skus
from tests.console.conftest import ConsoleClient, ConsoleFactory
from tests.console.test_inventory import field_error, rows_of


@pytest.fixture
def shelf(container: Container) -> dict[str, int]:
    """Apparel > Shoes, and Bags; brands Acme and Zeta; two products, one with two variants."""
    with container.uow(SYSTEM) as uow:
        apparel = catalog.create_category(uow, catalog.CreateCategory("Apparel"))
        shoes = catalog.create_category(uow, catalog.CreateCategory("Shoes", parent_id=apparel.id))
        bags = catalog.create_category(uow, catalog.CreateCategory("Bags"))
        acme = catalog.create_brand(uow, catalog.CreateBrand("Acme"))
        zeta = catalog.create_brand(uow, catalog.CreateBrand("Zeta"))
        runner = catalog.create_product(
            uow,
            catalog.CreateProduct(
                "TRAIL",
                "Trail Runner",
                "Light and grippy.",
                shoes.id,
                acme.id,
                "active",
                (
                    catalog.NewVariant("TRAIL-42", "89.90", "USD"),
                    catalog.NewVariant("TRAIL-43", "89.90", "USD"),
                ),
            ),
        )
        tote = catalog.create_product(
            uow,
            catalog.CreateProduct(
                "TOTE",
                "Canvas Tote",
                "",
                bags.id,
                zeta.id,
                "draft",
                (catalog.NewVariant("TOTE-1", "19.00", "USD"),),
            ),
        )
        uow.commit()
        return {
            "apparel": apparel.id,
            "shoes": shoes.id,
            "bags": bags.id,
            "acme": acme.id,
            "zeta": zeta.id,
            "runner": runner.id,
            "tote": tote.id,
            "trail-42": runner.variants[0].id,
            "trail-43": runner.variants[1].id,
            "tote-1": tote.variants[0].id,
        }


def products_on(html: str) -> list[str]:
    return [r["product"] for r in rows_of(html) if "product" in r]


def price_of(container: Container, sku: str) -> int:
    with container.uow(SYSTEM) as uow:
        return catalog.get_variant(uow, sku).price_minor


# --- the product list ---------------------------------------------------------------------


def test_the_list_shows_products_with_their_variants(
    owner_console: ConsoleClient, shelf: dict[str, int]
) -> None:
    response = owner_console.get("/console/catalog")
    assert response.status_code == 200
    assert products_on(response.text) == ["TRAIL", "TOTE"]
    assert 'data-sku="TRAIL-43"' in response.text
    assert "$89.90" in response.text
    assert "Shoes" in response.text
    assert "Acme" in response.text
    assert f'href="/console/catalog/products/{shelf["runner"]}"' in response.text
    assert 'href="/console/catalog/import"' in response.text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=runner", ["TRAIL"]),
        ("q=tote-1", ["TOTE"]),  # by SKU
        ("category={apparel}", ["TRAIL"]),  # includes the subcategory Shoes
        ("category={bags}", ["TOTE"]),
        ("brand={zeta}", ["TOTE"]),
        ("status=active", ["TRAIL"]),
        ("q=runner&brand={zeta}", []),
    ],
)
def test_search_and_filters(
    owner_console: ConsoleClient, shelf: dict[str, int], query: str, expected: list[str]
) -> None:
    response = owner_console.get(f"/console/catalog?{query.format(**shelf)}")
    assert response.status_code == 200
    assert products_on(response.text) == expected
    if not expected:
        assert "No products match this search." in response.text


def test_the_list_pages_by_cursor(owner_console: ConsoleClient, container: Container) -> None:
    add_skus(container, {f"SKU-{n:02d}": 100 for n in range(27)})
    first = owner_console.get("/console/catalog")
    assert products_on(first.text) == [f"P-SKU-{n:02d}" for n in range(25)]
    assert "First page" not in first.text
    next_link = first.text.split('hx-get="/console/catalog?after=', 1)[1].split('"', 1)[0]
    second = owner_console.get(
        f"/console/catalog?after={next_link}", headers={"HX-Request": "true"}
    )
    assert "<html" not in second.text
    assert products_on(second.text) == ["P-SKU-25", "P-SKU-26"]
    assert "First page" in second.text
    assert ">Next<" not in second.text


def test_an_empty_catalog_says_so(owner_console: ConsoleClient) -> None:
    response = owner_console.get("/console/catalog")
    assert response.status_code == 200
    assert "The catalog is empty." in response.text


def test_bad_filters_are_explained(owner_console: ConsoleClient, shelf: dict[str, int]) -> None:
    response = owner_console.get("/console/catalog?category=shoes&status=gone")
    assert response.status_code == 422
    assert field_error(response.text, "filter", "category") == "Enter a whole number."
    assert field_error(response.text, "filter", "status") == "Choose draft, active or archived."
    assert products_on(response.text) == ["TRAIL", "TOTE"]


# --- the product page ---------------------------------------------------------------------


def test_the_product_page_shows_the_edit_form_to_editors(
    console_as: ConsoleFactory, shelf: dict[str, int]
) -> None:
    url = f"/console/catalog/products/{shelf['runner']}"
    editor = console_as(Role.OPS_MANAGER).get(url)
    assert editor.status_code == 200
    assert "<h1>Trail Runner</h1>" in editor.text
    assert 'id="product-form"' in editor.text
    assert f'name="price_{shelf["trail-43"]}" type="text" value="89.90"' in editor.text
    reader = console_as(Role.ANALYST).get(url)
    assert reader.status_code == 200
    assert "Light and grippy." in reader.text
    assert 'id="product-form"' not in reader.text


def test_a_missing_product_is_a_404_page(owner_console: ConsoleClient) -> None:
    response = owner_console.get("/console/catalog/products/999")
    assert response.status_code == 404
    assert 'data-code="catalog.product_not_found"' in response.text


def _edit(shelf: dict[str, int], **changes: str) -> dict[str, str]:
    form = {
        "name": "Trail Runner",
        "description": "Light and grippy.",
        "category": str(shelf["shoes"]),
        "brand": str(shelf["acme"]),
        "status": "active",
        f"price_{shelf['trail-42']}": "89.90",
        f"price_{shelf['trail-43']}": "89.90",
    }
    form.update(changes)
    return form


def test_an_edit_saves_every_field_and_the_prices(
    owner_console: ConsoleClient, shelf: dict[str, int], container: Container
) -> None:
    form = _edit(
        shelf,
        name="Trail Runner 2",
        description="Now lighter.",
        category=str(shelf["bags"]),
        brand="",
        status="archived",
        **{f"price_{shelf['trail-43']}": "79.50"},
    )
    response = owner_console.post(f"/console/catalog/products/{shelf['runner']}", form)
    assert response.status_code == 200, response.text[:500]
    assert "Saved." in response.text
    with container.uow(SYSTEM) as uow:
        saved = catalog.get_product(uow, shelf["runner"])
        assert (saved.name, saved.description, saved.category_id, saved.brand_id, saved.status) == (
            "Trail Runner 2",
            "Now lighter.",
            shelf["bags"],
            None,
            "archived",
        )
    assert price_of(container, "TRAIL-43") == 7950
    assert price_of(container, "TRAIL-42") == 8990


BAD_EDITS: list[tuple[dict[str, Any], str, str]] = [
    ({"name": "  "}, "name", "This field is required."),
    ({"name": "x" * 201}, "name", "This text is too long."),
    ({"status": "gone"}, "status", "Choose draft, active or archived."),
    ({"category": "999"}, "category", "This category does not exist."),
    ({"brand": "abc"}, "brand", "Enter a whole number."),
    ({"price_42": "-1.00"}, "price_42", "An amount cannot be negative."),
    ({"price_42": "12.345"}, "price_42", "more decimal places"),
    ({"price_42": "cheap"}, "price_42", "Enter an amount such as 12.50."),
    ({"price_42": ""}, "price_42", "This field is required."),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD_EDITS)
def test_a_bad_edit_is_explained_and_saves_nothing(
    owner_console: ConsoleClient,
    shelf: dict[str, int],
    container: Container,
    change: dict[str, Any],
    field: str,
    message: str,
) -> None:
    price_field = f"price_{shelf['trail-42']}"
    change = {k.replace("price_42", price_field): v for k, v in change.items()}
    field = field.replace("price_42", price_field)
    # a valid change rides along: it must not be saved either
    form = _edit(shelf, description="Changed.", **{f"price_{shelf['trail-43']}": "1.00"}, **change)
    before = _snapshot(container)
    response = owner_console.post(f"/console/catalog/products/{shelf['runner']}", form)
    assert response.status_code == 422, response.text[:500]
    assert message in field_error(response.text, "product", field)
    assert "<html" not in response.text  # htmx gets the form back
    assert _snapshot(container) == before


def test_every_problem_of_an_edit_is_shown_at_once(
    owner_console: ConsoleClient, shelf: dict[str, int]
) -> None:
    form = _edit(shelf, name="", **{f"price_{shelf['trail-43']}": "-2"})
    response = owner_console.post(f"/console/catalog/products/{shelf['runner']}", form)
    assert response.status_code == 422
    assert field_error(response.text, "product", "name") == "This field is required."
    assert field_error(response.text, "product", f"price_{shelf['trail-43']}") == (
        "An amount cannot be negative."
    )
    assert 'value="-2"' in response.text  # what was typed stays in the field


def test_a_plain_form_edit_redirects_to_the_product(
    owner_console: ConsoleClient, shelf: dict[str, int], container: Container
) -> None:
    response = owner_console.post(
        f"/console/catalog/products/{shelf['tote']}",
        {
            "name": "Big Tote",
            "description": "",
            "category": "",
            "brand": "",
            "status": "active",
            f"price_{shelf['tote-1']}": "21.00",
        },
        htmx=False,
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/console/catalog/products/{shelf['tote']}"
    assert price_of(container, "TOTE-1") == 2100


# --- CSV import ---------------------------------------------------------------------------


def upload(console: ConsoleClient, data: bytes, mode: str = "all", **kwargs: Any) -> Any:
    return console.post(
        "/console/catalog/import",
        {"mode": mode},
        files={"file": ("products.csv", data, "text/csv")},
        **kwargs,
    )


def test_the_import_page(owner_console: ConsoleClient) -> None:
    response = owner_console.get("/console/catalog/import")
    assert response.status_code == 200
    assert 'type="file" name="file"' in response.text
    assert "product_code, product_name" in response.text


def test_a_good_file_is_imported_with_a_report(
    owner_console: ConsoleClient, shelf: dict[str, int], container: Container
) -> None:
    data = csv_bytes(
        [
            row(product_code="RUN", product_name="Road Runner", sku="RUN-1"),
            row(product_code="RUN", product_name="Road Runner", sku="RUN-2", brand="newco"),
        ]
    )
    response = upload(owner_console, data)
    assert response.status_code == 422  # the second row disagrees with the first on the brand
    assert [(r["row"], r["column"], r["code"]) for r in rows_of(response.text)] == [
        ("3", "brand", "catalog.inconsistent_product"),
    ]
    data = csv_bytes(
        [
            row(product_code="RUN", product_name="Road Runner", sku="RUN-1"),
            row(product_code="RUN", product_name="Road Runner", sku="RUN-2"),
            row(product_code="TRAIL", product_name="Trail Runner", sku="TRAIL-42", price="99.00"),
        ]
    )
    before = counts(container)
    response = upload(owner_console, data)
    assert response.status_code == 200, response.text[:800]
    assert "3 rows read: 2 variants created, 1 updated, 0 unchanged, 0 rejected." in response.text
    assert 'data-count="products_created">1<' in response.text
    assert 'id="import-problems"' not in response.text
    after = counts(container)
    assert (after["products"], after["variants"]) == (
        before["products"] + 1,
        before["variants"] + 2,
    )
    assert price_of(container, "TRAIL-42") == 9900
    again = upload(owner_console, data)
    assert "0 variants created, 0 updated, 3 unchanged" in again.text


def test_a_bad_file_all_or_nothing_lists_every_problem_and_writes_nothing(
    owner_console: ConsoleClient, shelf: dict[str, int], container: Container
) -> None:
    before = _snapshot(container)
    response = upload(owner_console, BAD_FILE)
    assert response.status_code == 422
    assert "The file has problems: nothing was imported." in response.text
    report = [(r["row"], r["column"], r["code"]) for r in rows_of(response.text)]
    assert report == [
        ("2", "sku", "catalog.duplicate_sku"),
        ("3", "sku", "validation.required"),
        ("4", "price", "catalog.negative_amount"),
        ("5", "sku", "catalog.duplicate_sku"),
        ("6", "category", "catalog.unknown_category"),
        ("7", "product_name", "catalog.invalid_encoding"),
    ]
    assert "An amount cannot be negative." in response.text
    assert "no category with slug &#39;nowhere&#39;" in response.text  # the importer's detail
    assert _snapshot(container) == before


def test_a_partial_import_keeps_the_good_rows_and_reports_the_others(
    owner_console: ConsoleClient, shelf: dict[str, int], container: Container
) -> None:
    data = csv_bytes(
        [row(product_code="RUN", sku="RUN-1"), row(product_code="RUN", sku="RUN-2", price="x")]
    )
    data += b"MUG," + BAD_NAME + b",bags,,,MUG-1,,9.50,,USD,,\n"
    response = upload(owner_console, data, mode="partial")
    assert response.status_code == 200, response.text[:800]
    assert "3 rows read: 1 variants created, 0 updated, 0 unchanged, 2 rejected." in response.text
    assert [(r["row"], r["column"], r["code"]) for r in rows_of(response.text)] == [
        ("3", "price", "catalog.invalid_amount"),
        ("4", "product_name", "catalog.invalid_encoding"),
    ]
    with container.uow(SYSTEM) as uow:
        assert catalog.get_variant(uow, "RUN-1").price_minor == 8990
        with pytest.raises(NotFound):
            catalog.get_variant(uow, "RUN-2")


@pytest.mark.parametrize(
    ("data", "mode", "field", "code"),
    [
        (None, "all", "file", "validation.required"),
        (b"", "all", "file", "catalog.empty_file"),
        (b"sku,price\nA,1\n", "all", "product_code", "catalog.missing_column"),
        (csv_bytes([row()]), "sometimes", "mode", "validation.invalid"),
    ],
)
def test_an_unusable_upload_is_explained(
    owner_console: ConsoleClient,
    shelf: dict[str, int],
    container: Container,
    data: bytes | None,
    mode: str,
    field: str,
    code: str,
) -> None:
    before = _snapshot(container)
    if data is None:
        response = owner_console.post("/console/catalog/import", {"mode": mode})
    else:
        response = upload(owner_console, data, mode=mode)
    assert response.status_code == 422
    if field in {"file", "mode"} and code.startswith("validation."):
        assert field_error(response.text, "import", field)
    else:
        assert (field, code) in [(r["column"], r["code"]) for r in rows_of(response.text)]
    assert _snapshot(container) == before


# --- permissions --------------------------------------------------------------------------


def test_roles_without_the_permission_are_refused_and_nothing_changes(
    console_as: ConsoleFactory, shelf: dict[str, int], container: Container
) -> None:
    analyst = console_as(Role.ANALYST)
    assert analyst.get("/console/catalog").status_code == 200
    assert 'href="/console/catalog/import"' not in analyst.get("/console/catalog").text
    before = _snapshot(container)
    denied = [
        analyst.get("/console/catalog/import"),
        upload(analyst, csv_bytes([row(product_code="NEW", sku="NEW-1")])),
        analyst.post(f"/console/catalog/products/{shelf['runner']}", _edit(shelf, name="Hacked")),
    ]
    for response in denied:
        assert response.status_code == 403
        assert 'data-code="auth.permission_denied"' in response.text
    assert _snapshot(container) == before
    # editing without importing, and the other way round
    marketing = console_as(Role.MARKETING)
    assert marketing.get("/console/catalog/import").status_code == 403

"""CSV import: every error with line and column, all-or-nothing, partial, idempotent, batched."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from shopops.bootstrap import Container
from shopops.contexts import catalog
from shopops.db.outbox import OutboxEvent
from shopops.kernel.errors import PermissionDenied, ValidationFailed
from shopops.kernel.events import Actor
from tests.catalog.conftest import HEADER, UowFactory, counts, csv_bytes, row

BAD_NAME = b"Caf\xe9 Mug"  # Latin-1, not UTF-8

# One file with all five defects from the issue, around one valid row (line 2).
BAD_FILE = (
    csv_bytes(
        [
            row(),  # line 2: valid, but its SKU is repeated on line 5
            row(sku=""),  # line 3: missing SKU
            row(sku="TRAIL-43", price="-5.00"),  # line 4: negative price
            row(sku="TRAIL-42"),  # line 5: duplicate SKU
            row(product_code="BAG", product_name="Bag", category="nowhere", sku="BAG-1"),
        ]
    )
    + b"CAFE,"
    + BAD_NAME
    + b",bags,acme,active,CAFE-1,,9.50,,USD,,\n"  # line 7
)


def run_import(
    uow: UowFactory, data: bytes, *, partial: bool = False, currency: str = "USD", progress=None
) -> catalog.ImportReport:  # type: ignore[no-untyped-def]
    with uow() as u:
        return catalog.import_products(
            u,
            catalog.ImportProducts(io.BytesIO(data), partial=partial, default_currency=currency),
            progress=progress,
        )


def failure(uow: UowFactory, data: bytes) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        run_import(uow, data)
    return caught.value


def where(error: ValidationFailed) -> list[tuple[int | None, str, str]]:
    return [(e.row, e.field, e.code) for e in error.errors]


def test_a_bad_file_reports_every_error_and_changes_nothing(
    container: Container, uow: UowFactory, seeded: dict[str, int]
) -> None:
    run_import(uow, csv_bytes([row(sku="KEEP-1", price="10.00")]))
    before = counts(container)
    error = failure(uow, BAD_FILE)
    assert error.code == "catalog.import_invalid"
    assert error.message == "6 problem(s) in 6 row(s); nothing was imported"
    assert where(error) == [
        (2, "sku", "catalog.duplicate_sku"),
        (3, "sku", "validation.required"),
        (4, "price", "catalog.negative_amount"),
        (5, "sku", "catalog.duplicate_sku"),
        (6, "category", "catalog.unknown_category"),
        (7, "product_name", "catalog.invalid_encoding"),
    ]
    assert [e.message for e in error.errors] == [
        "SKU 'TRAIL-42' is repeated on line 5",
        "sku is required",
        "'-5.00' is negative",
        "SKU 'TRAIL-42' is also on line 2",
        "no category with slug 'nowhere'",
        "product_name contains bytes that are not valid UTF-8",
    ]
    assert counts(container) == before
    with uow() as u:
        assert catalog.get_variant(u, "KEEP-1").price_minor == 1000


def test_partial_import_takes_the_valid_rows_and_returns_the_rest(
    container: Container, uow: UowFactory, seeded: dict[str, int]
) -> None:
    data = (
        csv_bytes(
            [
                row(),
                row(sku="TRAIL-43", attributes='{"size": "43"}'),
                row(sku="TRAIL-44", price="-1"),
                row(product_code="BAG", product_name="Bag", category="bags", brand="", sku="BAG-1"),
                row(product_code="HAT", product_name="Hat", category="hats", sku="HAT-1"),
            ]
        )
        + b"CAFE,"
        + BAD_NAME
        + b",bags,,,CAFE-1,,9.50,,USD,,\n"
    )
    report = run_import(uow, data, partial=True)
    assert (report.rows, report.created, report.updated, report.unchanged) == (6, 3, 0, 0)
    assert (report.products_created, report.brands_created) == (2, 0)
    assert [(r.line, [(e.field, e.code) for e in r.errors]) for r in report.rejected] == [
        (4, [("price", "catalog.negative_amount")]),
        (6, [("category", "catalog.unknown_category")]),
        (7, [("product_name", "catalog.invalid_encoding")]),
    ]
    assert report.rejected[0].cells[5] == "TRAIL-44"
    assert report.rejected[2].cells[1].encode("utf-8", "surrogateescape") == BAD_NAME
    with uow() as u:
        products = catalog.list_products(u, catalog.ListProducts())
        assert [(p.code, p.status, [v.sku for v in p.variants]) for p in products] == [
            ("TRAIL", "active", ["TRAIL-42", "TRAIL-43"]),
            ("BAG", "active", ["BAG-1"]),
        ]
        trail = products[0]
        assert (trail.category_id, trail.brand_id, trail.name) == (
            seeded["shoes"],
            seeded["acme"],
            "Trail Runner",
        )
        assert [v.attributes for v in trail.variants] == [
            {"size": "42", "color": "black"},
            {"size": "43"},
        ]
    assert counts(container)["variants"] == 3


def test_re_importing_the_same_file_changes_nothing(
    container: Container, uow: UowFactory, seeded: dict[str, int]
) -> None:
    data = csv_bytes(
        [
            row(),
            row(sku="TRAIL-43", barcode="4006381333931", cost="", weight_grams=""),
            row(product_code="TOTE", product_name="Tote", category="", brand="newco", sku="T-1"),
        ]
    )
    first = run_import(uow, data)
    assert (first.created, first.products_created, first.brands_created) == (3, 2, 1)
    before = counts(container)
    second = run_import(uow, data)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 3)
    assert (second.products_created, second.products_updated, second.brands_created) == (0, 0, 0)
    assert second.rejected == []
    assert counts(container) == before  # no audit rows, no events


def test_re_import_with_changes_updates_and_audits_only_the_differences(
    container: Container, uow: UowFactory, seeded: dict[str, int]
) -> None:
    run_import(uow, csv_bytes([row(), row(sku="TRAIL-43")]))
    report = run_import(
        uow,
        csv_bytes(
            [
                row(price="79.90", product_name="Trail Runner 2", status=""),
                row(sku="TRAIL-43", product_name="Trail Runner 2", status=""),
            ]
        ),
    )
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    assert report.products_updated == 1
    with uow() as u:
        product = catalog.get_product_by_code(u, "TRAIL")
        assert (product.name, product.status) == ("Trail Runner 2", "active")  # blank status kept
        assert [v.price_minor for v in product.variants] == [7990, 8990]
    with container.session_factory() as session:
        price_events = session.scalars(
            select(OutboxEvent.payload).where(
                OutboxEvent.event_type == "catalog.variant_price_changed"
            )
        ).all()
    assert [(p["sku"], p["old_price_minor"], p["new_price_minor"]) for p in price_events] == [
        ("TRAIL-42", 8990, 7990)
    ]


def test_database_conflicts_are_reported(uow: UowFactory, seeded: dict[str, int]) -> None:
    run_import(uow, csv_bytes([row(barcode="111")]))
    error = failure(
        uow,
        csv_bytes(
            [
                row(product_code="OTHER", product_name="Other", sku="TRAIL-42", barcode="111"),
                row(product_code="OTHER", product_name="Other", sku="NEW-1", barcode="111"),
            ]
        ),
    )
    assert [(e.row, e.field, e.code, e.message) for e in error.errors] == [
        (2, "sku", "catalog.sku_taken", "SKU 'TRAIL-42' belongs to product 'TRAIL'"),
        (
            2,
            "barcode",
            "catalog.duplicate_barcode",
            "barcode '111' is repeated on line 3 (SKU 'NEW-1')",
        ),
        (3, "barcode", "catalog.barcode_taken", "barcode '111' belongs to SKU 'TRAIL-42'"),
        (
            3,
            "barcode",
            "catalog.duplicate_barcode",
            "barcode '111' is also on line 2 (SKU 'TRAIL-42')",
        ),
    ]


def test_rows_of_one_product_must_agree(uow: UowFactory, seeded: dict[str, int]) -> None:
    error = failure(uow, csv_bytes([row(), row(sku="TRAIL-43", brand="other", status="draft")]))
    assert where(error) == [
        (3, "brand", "catalog.inconsistent_product"),
        (3, "status", "catalog.inconsistent_product"),
    ]


def test_header_and_file_shape_problems(uow: UowFactory, seeded: dict[str, int]) -> None:
    assert failure(uow, b"").code == "catalog.empty_file"
    assert failure(uow, b"\n\n").code == "catalog.empty_file"
    missing = failure(uow, b"product_code,name,sku\nP,x,S\n")
    assert where(missing) == [
        (1, "product_name", "catalog.missing_column"),
        (1, "price", "catalog.missing_column"),
    ]
    short = failure(uow, csv_bytes([row()]) + b"P2,Two,,,,S2\n")
    assert where(short) == [
        (3, "price", "validation.required"),
        (3, "row", "catalog.wrong_cell_count"),
    ]


def test_line_numbers_follow_the_file_and_extra_columns_are_ignored(
    uow: UowFactory, seeded: dict[str, int]
) -> None:
    data = csv_bytes(
        [
            row(product_name="Trail\nRunner", note="anything"),
            row(sku="TRAIL-43", product_name="Trail\nRunner", price="x"),
        ],
        header=[*HEADER, "note"],
    )
    assert where(failure(uow, b"\xef\xbb\xbf" + data)) == [(4, "price", "catalog.invalid_amount")]


def test_minimal_columns_and_the_default_currency(uow: UowFactory, seeded: dict[str, int]) -> None:
    report = run_import(
        uow, b"product_code,product_name,sku,price\nP1,One,S1,1500\n", currency="JPY"
    )
    assert report.created == 1
    with uow() as u:
        variant = catalog.get_variant(u, "S1")
        assert (variant.price_minor, variant.currency, variant.attributes) == (1500, "JPY", {})
        assert catalog.get_product_by_code(u, "P1").status == "draft"
    jpy = failure(uow, b"product_code,product_name,sku,price,currency\nP2,Two,S2,12.5,JPY\n")
    assert where(jpy) == [(2, "price", "catalog.too_precise")]


def test_export_round_trips_through_import(uow: UowFactory, seeded: dict[str, int]) -> None:
    with uow() as u:
        catalog.create_product(
            u,
            catalog.CreateProduct(
                "JP",
                'Tea, "Sencha"',
                category_id=seeded["trail"],
                status="active",
                variants=(
                    catalog.NewVariant("JP-1", "1200", "JPY", cost="300", weight_grams=100),
                    catalog.NewVariant(
                        "JP-2", "0.125", "KWD", barcode="490", attributes={"grade": 1, "eco": True}
                    ),
                ),
            ),
        )
    run_import(uow, csv_bytes([row(), row(sku="TRAIL-43", cost="")]))
    with uow() as u:
        exported = list(catalog.export_products(u))
    assert exported[0] == HEADER
    assert exported[1:3] == [
        ["JP", 'Tea, "Sencha"', "trail", "", "active", "JP-1", "", "1200", "300", "JPY", "100", ""],
        [
            "JP",
            'Tea, "Sencha"',
            "trail",
            "",
            "active",
            "JP-2",
            "490",
            "0.125",
            "",
            "KWD",
            "",
            '{"eco":true,"grade":1}',
        ],
    ]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(exported)
    again = run_import(uow, buffer.getvalue().encode())
    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 4, [])


def test_large_files_are_written_in_batches_with_progress(
    container: Container, uow: UowFactory, seeded: dict[str, int]
) -> None:
    rows = [
        row(product_code=f"P{n // 3}", product_name=f"Product {n // 3}", sku=f"SKU-{n:05d}")
        for n in range(1_203)
    ]
    calls: list[tuple[str, int, int]] = []
    report = run_import(uow, csv_bytes(rows), progress=lambda *call: calls.append(call))
    assert (report.rows, report.created, report.products_created) == (1_203, 1_203, 401)
    size = len(csv_bytes(rows))
    for stage in (catalog.STAGE_VALIDATE, catalog.STAGE_WRITE):
        seen = [done for name, done, total in calls if name == stage and total == size]
        assert len(seen) == 3  # two full batches, then the end
        assert seen == sorted(seen)
        assert seen[-1] == size
    assert counts(container)["variants"] == 1_203
    assert run_import(uow, csv_bytes(rows)).unchanged == 1_203


def test_import_needs_the_import_permission(
    container: Container,
    make_staff,
    seeded: dict[str, int],  # type: ignore[no-untyped-def]
) -> None:
    analyst = make_staff("analyst").actor
    before = counts(container)
    with pytest.raises(PermissionDenied), container.uow(analyst) as u:
        catalog.import_products(u, catalog.ImportProducts(io.BytesIO(csv_bytes([row()]))))
    assert counts(container) == before


def test_batches_are_flushed_inside_one_transaction(
    container: Container, seeded: dict[str, int]
) -> None:
    data = csv_bytes([row(product_code=f"P{n}", sku=f"S{n}") for n in range(600)])
    before = counts(container)
    with container.uow(Actor.system("test")) as u:  # never committed
        catalog.import_products(u, catalog.ImportProducts(io.BytesIO(data)))
        flushed = u.session.scalar(select(func.count()).select_from(OutboxEvent))
        assert flushed == before["outbox_events"] + 1_200  # products and variants, batch by batch
    assert counts(container) == before
    with container.uow(Actor.system("test")) as u:
        catalog.import_products(u, catalog.ImportProducts(io.BytesIO(data)))
        u.commit()
        assert u.committed_events == 1_201
    assert counts(container)["outbox_events"] == before["outbox_events"] + 1_201

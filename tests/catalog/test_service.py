"""Catalog use cases against a real database: rules, audit rows, events, no N+1."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from shopops.audit.models import AuditEntry
from shopops.auth.permissions import Role
from shopops.bootstrap import Container
from shopops.contexts import catalog
from shopops.db.outbox import OutboxEvent
from shopops.kernel.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from shopops.kernel.events import Actor
from tests.catalog.conftest import UowFactory, counts


def new_variant(sku: str, price: str = "10.00", **extra: object) -> catalog.NewVariant:
    return catalog.NewVariant(sku, price, str(extra.pop("currency", "USD")), **extra)  # type: ignore[arg-type]


def make_product(uow: UowFactory, code: str, *skus: str, **fields: object) -> catalog.Product:
    with uow() as u:
        return catalog.create_product(
            u,
            catalog.CreateProduct(
                code,
                f"Product {code}",
                variants=tuple(new_variant(s) for s in skus),
                **fields,  # type: ignore[arg-type]
            ),
        )


def field_codes(error: ValidationFailed | Conflict) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in error.errors]


def events_of(container: Container, event_type: str) -> list[dict[str, object]]:
    with container.session_factory() as session:
        rows = session.scalars(
            select(OutboxEvent).where(OutboxEvent.event_type == event_type).order_by(OutboxEvent.id)
        )
        return [dict(r.payload) for r in rows]


def audit_of(container: Container, entity_type: str) -> list[tuple[str, dict[str, object]]]:
    with container.session_factory() as session:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.entity_type == entity_type).order_by(AuditEntry.id)
        )
        return [(r.action, dict(r.changes)) for r in rows]


# --- categories and brands --------------------------------------------------------------


def test_category_tree_and_moves(uow: UowFactory, seeded: dict[str, int]) -> None:
    with uow() as u:
        tree = catalog.category_tree(u)
        assert [(n.item.slug, [c.item.slug for c in n.children]) for n in tree] == [
            ("apparel", ["shoes"]),
            ("bags", []),
        ]
        assert [c.item.slug for c in tree[0].children[0].children] == ["trail"]
        moved = catalog.change_category(
            u, catalog.ChangeCategory(seeded["trail"], parent_id=None, name="Trail running")
        )
        assert (moved.parent_id, moved.name, moved.slug) == (None, "Trail running", "trail")
    with uow() as u:
        assert [n.item.slug for n in catalog.category_tree(u)] == ["apparel", "bags", "trail"]


def test_category_cycles_are_refused(
    container: Container, uow: UowFactory, seeded: dict[str, int]
) -> None:
    before = counts(container)
    for parent in ("trail", "apparel"):
        with pytest.raises(ValidationFailed) as caught, uow() as u:
            catalog.change_category(
                u, catalog.ChangeCategory(seeded["apparel"], parent_id=seeded[parent])
            )
        assert field_codes(caught.value) == [("parent_id", "catalog.category_cycle")]
    assert counts(container) == before


def test_category_validation_conflicts_and_deletion(
    uow: UowFactory, seeded: dict[str, int]
) -> None:
    with pytest.raises(ValidationFailed) as invalid, uow() as u:
        catalog.create_category(u, catalog.CreateCategory("  ", slug="Bad Slug", parent_id=999))
    assert field_codes(invalid.value) == [
        ("name", "validation.required"),
        ("slug", "catalog.invalid_slug"),
        ("parent_id", "catalog.category_not_found"),
    ]
    with pytest.raises(Conflict) as taken, uow() as u:
        catalog.create_category(u, catalog.CreateCategory("Shoes!"))
    assert taken.value.code == "catalog.slug_taken"
    with pytest.raises(Conflict) as in_use, uow() as u:
        catalog.delete_category(u, seeded["shoes"])
    assert in_use.value.code == "catalog.category_in_use"
    assert in_use.value.details == {"subcategories": 1, "products": 0}
    with uow() as u:
        catalog.delete_category(u, seeded["bags"])
    with pytest.raises(NotFound), uow() as u:
        catalog.get_category(u, seeded["bags"])


def test_brands(container: Container, uow: UowFactory, seeded: dict[str, int]) -> None:
    with uow() as u:
        brand = catalog.create_brand(u, catalog.CreateBrand("Zeta Works"))
        assert brand.slug == "zeta-works"
        catalog.change_brand(u, catalog.ChangeBrand(brand.id, slug="zeta"))
    with pytest.raises(Conflict) as taken, uow() as u:
        catalog.change_brand(u, catalog.ChangeBrand(brand.id, slug="acme"))
    assert taken.value.code == "catalog.slug_taken"
    make_product(uow, "P1", "S1", brand_id=seeded["acme"])
    with pytest.raises(Conflict) as in_use, uow() as u:
        catalog.delete_brand(u, seeded["acme"])
    assert in_use.value.code == "catalog.brand_in_use"
    with uow() as u:
        catalog.delete_brand(u, brand.id)
    assert [a for a, _ in audit_of(container, "brand")] == [
        "brand.created",
        "brand.created",
        "brand.updated",
        "brand.deleted",
    ]
    assert events_of(container, "catalog.brand_updated")[0]["changed"] == ["slug"]


# --- products ---------------------------------------------------------------------------


def test_create_product_records_audit_and_events(
    container: Container, uow: UowFactory, seeded: dict[str, int]
) -> None:
    with uow() as u:
        product = catalog.create_product(
            u,
            catalog.CreateProduct(
                "TRAIL",
                "Trail  Runner ",
                category_id=seeded["trail"],
                brand_id=seeded["acme"],
                status="active",
                variants=(
                    new_variant("T-42", "89.90", cost="41", barcode="4006381333931"),
                    new_variant("T-43", "1200", currency="JPY", attributes={"size": "43"}),
                ),
            ),
        )
    assert product.name == "Trail Runner"
    assert [(v.sku, v.price_minor, v.currency, v.cost_minor) for v in product.variants] == [
        ("T-42", 8990, "USD", 4100),
        ("T-43", 1200, "JPY", None),
    ]
    assert product.variants[0].price == catalog.Variant(price_minor=8990, currency="USD").price
    assert events_of(container, "catalog.product_created") == [
        {"product_id": product.id, "code": "TRAIL", "status": "active"}
    ]
    assert [e["sku"] for e in events_of(container, "catalog.variant_created")] == ["T-42", "T-43"]
    variant_audit = audit_of(container, "variant")
    assert variant_audit[0][0] == "variant.created"
    assert variant_audit[0][1]["price"] == {"before": None, "after": "89.90"}


def test_create_product_reports_every_problem_at_once(
    container: Container, uow: UowFactory
) -> None:
    before = counts(container)
    with pytest.raises(ValidationFailed) as caught, uow() as u:
        catalog.create_product(
            u,
            catalog.CreateProduct(
                "has space",
                "",
                category_id=404,
                brand_id=405,
                status="live",
                variants=(
                    new_variant("A", "-1"),
                    new_variant("A", "1.5", currency="JPY"),
                    new_variant("", "x", currency="??", weight_grams=-3),
                ),
            ),
        )
    assert field_codes(caught.value) == [
        ("code", "catalog.invalid_code"),
        ("name", "validation.required"),
        ("status", "catalog.invalid_status"),
        ("category_id", "catalog.unknown_category"),
        ("brand_id", "catalog.unknown_brand"),
        ("variants.0.price", "catalog.negative_amount"),
        ("variants.1.price", "catalog.too_precise"),
        ("variants.2.sku", "validation.required"),
        ("variants.2.currency", "catalog.invalid_currency"),
        ("variants.2.price", "catalog.invalid_amount"),
        ("variants.2.weight_grams", "catalog.invalid_weight"),
    ]
    assert counts(container) == before


def test_duplicates_within_a_request_and_against_the_database(
    container: Container, uow: UowFactory
) -> None:
    make_product(uow, "P1", "S1")
    with uow() as u:
        catalog.change_variant(u, catalog.ChangeVariant("S1", barcode="111"))
    before = counts(container)
    with pytest.raises(ValidationFailed) as within, uow() as u:
        catalog.create_product(
            u,
            catalog.CreateProduct(
                "P2",
                "Two",
                variants=(new_variant("X", barcode="9"), new_variant("X", barcode="9")),
            ),
        )
    assert field_codes(within.value) == [
        ("variants.1.sku", "catalog.duplicate_sku"),
        ("variants.1.barcode", "catalog.duplicate_barcode"),
    ]
    with pytest.raises(Conflict) as taken, uow() as u:
        catalog.create_product(
            u,
            catalog.CreateProduct(
                "P1", "Again", variants=(new_variant("S1"), new_variant("S9", barcode="111"))
            ),
        )
    assert taken.value.code == "catalog.code_taken"
    assert field_codes(taken.value) == [
        ("code", "catalog.code_taken"),
        ("variants.0.sku", "catalog.sku_taken"),
        ("variants.1.barcode", "catalog.barcode_taken"),
    ]
    assert counts(container) == before


def test_change_and_archive_product(
    container: Container, uow: UowFactory, seeded: dict[str, int]
) -> None:
    product = make_product(uow, "P1", "S1", category_id=seeded["shoes"])
    with uow() as u:
        changed = catalog.change_product(
            u,
            catalog.ChangeProduct(product.id, name="Renamed", category_id=None, status="active"),
        )
        assert (changed.name, changed.category_id, changed.status) == ("Renamed", None, "active")
    with uow() as u:  # the same values again: nothing to record
        catalog.change_product(u, catalog.ChangeProduct(product.id, name="Renamed"))
    for _ in range(2):
        with uow() as u:
            assert catalog.archive_product(u, product.id).status == "archived"
    assert [a for a, _ in audit_of(container, "product")] == [
        "product.created",
        "product.updated",
        "product.archived",
    ]
    assert [
        (e["old_status"], e["new_status"])
        for e in events_of(container, "catalog.product_status_changed")
    ] == [
        ("draft", "active"),
        ("active", "archived"),
    ]
    with pytest.raises(NotFound) as missing, uow() as u:
        catalog.change_product(u, catalog.ChangeProduct(9999, name="x"))
    assert missing.value.code == "catalog.product_not_found"


# --- variants ---------------------------------------------------------------------------


def test_change_variant_price_and_fields(container: Container, uow: UowFactory) -> None:
    make_product(uow, "P1", "S1")
    with uow() as u:
        variant = catalog.change_variant(
            u,
            catalog.ChangeVariant(
                "S1", price="12.99", cost="4.5", weight_grams=250, attributes={"color": "red"}
            ),
        )
        assert (variant.price_minor, variant.cost_minor, variant.weight_grams) == (1299, 450, 250)
    with uow() as u:  # unchanged values write nothing
        catalog.change_variant(u, catalog.ChangeVariant("S1", price="12.990"))
    with uow() as u:
        variant = catalog.change_variant(
            u, catalog.ChangeVariant("S1", currency="JPY", price="1500", cost=None)
        )
        assert (variant.price_minor, variant.currency, variant.cost_minor) == (1500, "JPY", None)
    assert events_of(container, "catalog.variant_price_changed") == [
        {
            "variant_id": variant.id,
            "sku": "S1",
            "old_price_minor": 1000,
            "old_currency": "USD",
            "new_price_minor": 1299,
            "new_currency": "USD",
        },
        {
            "variant_id": variant.id,
            "sku": "S1",
            "old_price_minor": 1299,
            "old_currency": "USD",
            "new_price_minor": 1500,
            "new_currency": "JPY",
        },
    ]
    assert [a for a, _ in audit_of(container, "variant")] == [
        "variant.created",
        "variant.updated",
        "variant.updated",
    ]


def test_change_variant_refusals(container: Container, uow: UowFactory) -> None:
    make_product(uow, "P1", "S1", "S2")
    with uow() as u:
        catalog.change_variant(u, catalog.ChangeVariant("S1", barcode="111", cost="1"))
    before = counts(container)
    with pytest.raises(ValidationFailed) as invalid, uow() as u:
        catalog.change_variant(u, catalog.ChangeVariant("S1", currency="EUR"))
    assert field_codes(invalid.value) == [
        ("price", "catalog.currency_needs_price"),
        ("cost", "catalog.currency_needs_price"),
    ]
    with pytest.raises(ValidationFailed) as precise, uow() as u:
        catalog.change_variant(
            u, catalog.ChangeVariant("S1", currency="JPY", price="1.5", cost="2.5")
        )
    assert field_codes(precise.value) == [
        ("price", "catalog.too_precise"),
        ("cost", "catalog.too_precise"),
    ]
    with pytest.raises(Conflict) as taken, uow() as u:
        catalog.change_variant(u, catalog.ChangeVariant("S2", barcode="111"))
    assert taken.value.code == "catalog.barcode_taken"
    with pytest.raises(NotFound), uow() as u:
        catalog.change_variant(u, catalog.ChangeVariant("NOPE", price="1"))
    assert counts(container) == before


def test_add_variant(uow: UowFactory) -> None:
    product = make_product(uow, "P1", "S1")
    with uow() as u:
        variant = catalog.add_variant(u, catalog.AddVariant(product.id, new_variant("S2", "5")))
        assert (variant.product_id, variant.price_minor) == (product.id, 500)
    with pytest.raises(Conflict) as taken, uow() as u:
        catalog.add_variant(u, catalog.AddVariant(product.id, new_variant("S2")))
    assert field_codes(taken.value) == [("sku", "catalog.sku_taken")]
    with uow() as u:
        assert [v.sku for v in catalog.get_product(u, product.id).variants] == ["S1", "S2"]


# --- reads ------------------------------------------------------------------------------


def test_list_products_filters_and_pages(uow: UowFactory, seeded: dict[str, int]) -> None:
    trail = make_product(uow, "TR", "TR-1", category_id=seeded["trail"], status="active")
    shoe = make_product(uow, "SH", "SH-1", category_id=seeded["shoes"], brand_id=seeded["acme"])
    bag = make_product(uow, "BG", "BAG_1", category_id=seeded["bags"], status="active")

    def codes(**filters: object) -> list[str]:
        with uow() as u:
            return [p.code for p in catalog.list_products(u, catalog.ListProducts(**filters))]  # type: ignore[arg-type]

    assert codes() == ["TR", "SH", "BG"]
    assert codes(category_id=seeded["apparel"]) == ["TR", "SH"]
    assert codes(category_id=seeded["trail"]) == ["TR"]
    assert codes(status="active") == ["TR", "BG"]
    assert codes(brand_id=seeded["acme"]) == ["SH"]
    assert codes(query="bag_") == ["BG"]  # matches the SKU; "_" is not a wildcard
    assert codes(query="sh-") == ["SH"]
    assert codes(query="%") == []
    assert codes(after_id=trail.id, limit=1) == ["SH"]
    assert codes(after_id=shoe.id) == ["BG"]
    assert codes(after_id=bag.id) == []
    with pytest.raises(ValidationFailed) as invalid:
        codes(status="gone")
    assert field_codes(invalid.value) == [("status", "catalog.invalid_status")]


def test_listing_loads_variants_without_n_plus_one(container: Container, uow: UowFactory) -> None:
    for index in range(12):
        make_product(uow, f"P{index}", f"S{index}-a", f"S{index}-b")
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(container.engine, "before_cursor_execute", count)
    try:
        with container.uow(Actor.system("test")) as u:
            products = catalog.list_products(u, catalog.ListProducts(limit=100))
            skus = [v.sku for p in products for v in p.variants]
    finally:
        event.remove(container.engine, "before_cursor_execute", count)
    assert len(skus) == 24
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2


def test_permissions_are_checked(container: Container, make_staff) -> None:  # type: ignore[no-untyped-def]
    analyst = make_staff(Role.ANALYST).actor
    before = counts(container)
    with pytest.raises(PermissionDenied), container.uow(analyst) as u:
        catalog.create_category(u, catalog.CreateCategory("Nope"))
    with pytest.raises(PermissionDenied), container.uow(analyst) as u:
        catalog.change_variant(u, catalog.ChangeVariant("S1", price="1"))
    with container.uow(analyst) as u:
        assert catalog.list_products(u, catalog.ListProducts()) == []
    nobody = Actor("user", None, "nobody", frozenset())
    with pytest.raises(PermissionDenied), container.uow(nobody) as u:
        catalog.list_products(u, catalog.ListProducts())
    assert counts(container) == before

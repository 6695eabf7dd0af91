"""The catalog HTTP API: CRUD, problem+json errors, CSV uploads, the permission matrix."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from shopops.api.app import create_app
from shopops.api.introspection import iter_endpoints
from shopops.bootstrap import Container
from shopops.contexts import access
from tests.catalog.conftest import counts, csv_bytes, row
from tests.catalog.test_import import BAD_FILE, BAD_NAME

PROBLEM = "application/problem+json"


def variant_body(sku: str, price: str = "89.90", **extra: object) -> dict[str, object]:
    return {"sku": sku, "price": price, "currency": "USD", **extra}


def create(client: TestClient, path: str, body: dict[str, object]) -> dict[str, object]:
    response = client.post(f"/v1/catalog/{path}", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.fixture
def api_seed(owner_client: TestClient) -> dict[str, object]:
    apparel = create(owner_client, "categories", {"name": "Apparel"})
    shoes = create(owner_client, "categories", {"name": "Shoes", "parent_id": apparel["id"]})
    bags = create(owner_client, "categories", {"name": "Bags"})
    acme = create(owner_client, "brands", {"name": "Acme"})
    product = create(
        owner_client,
        "products",
        {
            "code": "TRAIL",
            "name": "Trail Runner",
            "category_id": shoes["id"],
            "brand_id": acme["id"],
            "status": "active",
            "variants": [
                variant_body("TRAIL-42", cost="41.00", attributes={"size": "42"}),
                variant_body("TRAIL-43", barcode="4006381333931", weight_grams=640),
            ],
        },
    )
    return {"apparel": apparel, "shoes": shoes, "bags": bags, "acme": acme, "product": product}


def test_category_tree_endpoints(owner_client: TestClient, api_seed: dict) -> None:  # type: ignore[type-arg]
    tree = owner_client.get("/v1/catalog/categories").json()
    assert [(n["slug"], [c["slug"] for c in n["children"]]) for n in tree] == [
        ("apparel", ["shoes"]),
        ("bags", []),
    ]
    apparel_id, shoes_id = api_seed["apparel"]["id"], api_seed["shoes"]["id"]
    cycle = owner_client.patch(f"/v1/catalog/categories/{apparel_id}", json={"parent_id": shoes_id})
    assert cycle.status_code == 422
    assert cycle.headers["content-type"] == PROBLEM
    assert cycle.json()["errors"] == [
        {
            "field": "parent_id",
            "code": "catalog.category_cycle",
            "message": f"category {shoes_id} is this category or one below it",
        }
    ]
    moved = owner_client.patch(f"/v1/catalog/categories/{shoes_id}", json={"parent_id": None})
    assert moved.json()["parent_id"] is None
    renamed = owner_client.patch(f"/v1/catalog/categories/{shoes_id}", json={"name": "Footwear"})
    assert (renamed.json()["name"], renamed.json()["parent_id"]) == ("Footwear", None)
    in_use = owner_client.delete(f"/v1/catalog/categories/{shoes_id}")
    assert (in_use.status_code, in_use.json()["code"]) == (409, "catalog.category_in_use")
    assert in_use.json()["details"] == {"subcategories": 0, "products": 1}
    assert (
        owner_client.delete(f"/v1/catalog/categories/{api_seed['bags']['id']}").status_code == 204
    )
    assert owner_client.get(f"/v1/catalog/categories/{api_seed['bags']['id']}").status_code == 404


def test_brand_pages_and_idempotent_creation(owner_client: TestClient) -> None:
    for name in ("Alpha", "Beta", "Gamma"):
        create(owner_client, "brands", {"name": name})
    first = owner_client.get("/v1/catalog/brands", params={"limit": 2}).json()
    assert [b["slug"] for b in first["items"]] == ["alpha", "beta"]
    second = owner_client.get(
        "/v1/catalog/brands", params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert ([b["slug"] for b in second["items"]], second["next_cursor"]) == (["gamma"], None)
    key = {"Idempotency-Key": "brand-delta-1"}
    one = owner_client.post("/v1/catalog/brands", json={"name": "Delta"}, headers=key)
    two = owner_client.post("/v1/catalog/brands", json={"name": "Delta"}, headers=key)
    assert (one.status_code, two.status_code) == (201, 201)
    assert one.json() == two.json()
    assert two.headers["Idempotent-Replayed"] == "true"
    taken = owner_client.post("/v1/catalog/brands", json={"name": "Delta"})
    assert (taken.status_code, taken.json()["code"]) == (409, "catalog.slug_taken")


def test_product_and_variant_endpoints(owner_client: TestClient, api_seed: dict) -> None:  # type: ignore[type-arg]
    product = api_seed["product"]
    assert [(v["sku"], v["price"], v["cost"], v["currency"]) for v in product["variants"]] == [
        ("TRAIL-42", "89.90", "41.00", "USD"),
        ("TRAIL-43", "89.90", None, "USD"),
    ]
    path = f"/v1/catalog/products/{product['id']}"
    assert owner_client.get(path).json() == product
    patched = owner_client.patch(path, json={"name": "Trail Runner II", "category_id": None})
    assert (patched.json()["name"], patched.json()["category_id"]) == ("Trail Runner II", None)
    assert patched.json()["brand_id"] == api_seed["acme"]["id"]  # not sent: unchanged
    added = owner_client.post(
        f"{path}/variants", json={**variant_body("TRAIL-44", "1200"), "currency": "JPY"}
    )
    assert (added.status_code, added.json()["price"], added.json()["currency"]) == (
        201,
        "1200",
        "JPY",
    )
    variant = owner_client.patch(
        "/v1/catalog/variants/TRAIL-42", json={"price": "79.5", "cost": None}
    )
    assert (variant.json()["price"], variant.json()["cost"]) == ("79.50", None)
    assert variant.json()["attributes"] == {"size": "42"}
    assert owner_client.get("/v1/catalog/variants/TRAIL-42").json() == variant.json()
    archived = owner_client.post(f"{path}/archive")
    assert archived.json()["status"] == "archived"
    assert [v["sku"] for v in archived.json()["variants"]] == ["TRAIL-42", "TRAIL-43", "TRAIL-44"]


def test_product_list_filters_and_cursor(owner_client: TestClient, api_seed: dict) -> None:  # type: ignore[type-arg]
    for code in ("BAG-A", "BAG-B", "BAG-C"):
        create(
            owner_client,
            "products",
            {
                "code": code,
                "name": f"Bag {code}",
                "category_id": api_seed["bags"]["id"],
                "variants": [variant_body(f"{code}-1")],
            },
        )

    def codes(**params: object) -> list[str]:
        response = owner_client.get("/v1/catalog/products", params=params)
        assert response.status_code == 200, response.text
        return [p["code"] for p in response.json()["items"]]

    assert codes() == ["TRAIL", "BAG-A", "BAG-B", "BAG-C"]
    assert codes(category_id=api_seed["apparel"]["id"]) == ["TRAIL"]
    assert codes(status="active") == ["TRAIL"]
    assert codes(status="draft", brand_id=api_seed["acme"]["id"]) == []
    assert codes(q="bag-b") == ["BAG-B"]
    assert codes(q="TRAIL-43") == ["TRAIL"]
    page = owner_client.get("/v1/catalog/products", params={"limit": 3}).json()
    assert [p["code"] for p in page["items"]] == ["TRAIL", "BAG-A", "BAG-B"]
    rest = owner_client.get("/v1/catalog/products", params={"cursor": page["next_cursor"]}).json()
    assert ([p["code"] for p in rest["items"]], rest["next_cursor"]) == (["BAG-C"], None)
    bad = owner_client.get("/v1/catalog/products", params={"status": "gone", "cursor": "!!"})
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "status")


def test_validation_problem_lists_every_field_error(
    container: Container,
    owner_client: TestClient,
    api_seed: dict,  # type: ignore[type-arg]
) -> None:
    before = counts(container)
    response = owner_client.post(
        "/v1/catalog/products",
        json={
            "code": "NEW ONE",
            "name": "New",
            "category_id": 9999,
            "variants": [
                variant_body("N-1", "-3"),
                {**variant_body("N-2", "12.345"), "barcode": "4006381333931"},
                variant_body("N-1", "abc", attributes={"nested": {"no": 1}}),
            ],
        },
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert (body["code"], body["status"], body["instance"]) == (
        "validation.failed",
        422,
        "/v1/catalog/products",
    )
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        ("code", "catalog.invalid_code"),
        ("category_id", "catalog.unknown_category"),
        ("variants.0.price", "catalog.negative_amount"),
        ("variants.1.price", "catalog.too_precise"),
        ("variants.2.price", "catalog.invalid_amount"),
        ("variants.2.attributes", "catalog.invalid_attributes"),
    ]
    float_price = owner_client.post(
        "/v1/catalog/products",
        json={"code": "F", "name": "F", "variants": [variant_body("F", 1.5)]},
    )
    assert float_price.status_code == 422
    assert [e["field"] for e in float_price.json()["errors"]] == ["variants.0.price"]
    conflict = owner_client.post(
        "/v1/catalog/products",
        json={
            "code": "OTHER",
            "name": "Other",
            "variants": [
                variant_body("TRAIL-42"),
                {**variant_body("X-1"), "barcode": "4006381333931"},
            ],
        },
    )
    assert (conflict.status_code, conflict.json()["code"]) == (409, "catalog.sku_taken")
    assert [(e["field"], e["code"]) for e in conflict.json()["errors"]] == [
        ("variants.0.sku", "catalog.sku_taken"),
        ("variants.1.barcode", "catalog.barcode_taken"),
    ]
    assert counts(container) == before
    missing = owner_client.get("/v1/catalog/variants/NOPE")
    assert (missing.status_code, missing.json()["code"]) == (404, "catalog.variant_not_found")
    assert (
        owner_client.get("/v1/catalog/products/9999").json()["code"] == "catalog.product_not_found"
    )


def upload(client: TestClient, data: bytes, **form: str) -> object:
    return client.post(
        "/v1/catalog/imports", files={"file": ("products.csv", data, "text/csv")}, data=form
    )


def test_import_endpoint_reports_every_error_and_imports_nothing(
    container: Container,
    owner_client: TestClient,
    api_seed: dict,  # type: ignore[type-arg]
) -> None:
    before = counts(container)
    response = upload(owner_client, BAD_FILE)
    assert response.status_code == 422  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["code"] == "catalog.import_invalid"
    assert [(e["row"], e["field"], e["code"]) for e in body["errors"]] == [
        (2, "sku", "catalog.duplicate_sku"),
        (3, "sku", "validation.required"),
        (4, "price", "catalog.negative_amount"),
        (5, "sku", "catalog.duplicate_sku"),
        (6, "category", "catalog.unknown_category"),
        (7, "product_name", "catalog.invalid_encoding"),
    ]
    assert counts(container) == before


def test_import_endpoint_partial_and_idempotent(
    container: Container,
    owner_client: TestClient,
    api_seed: dict,  # type: ignore[type-arg]
) -> None:
    data = csv_bytes(
        [row(product_code="RUN", sku="RUN-1"), row(product_code="RUN", sku="RUN-2", price="x")]
    )
    data += b"MUG," + BAD_NAME + b",bags,,,MUG-1,,9.50,,USD,,\n"
    report = upload(owner_client, data, partial="true").json()  # type: ignore[attr-defined]
    assert {
        k: report[k] for k in ("rows", "created", "updated", "unchanged", "brands_created")
    } == {"rows": 3, "created": 1, "updated": 0, "unchanged": 0, "brands_created": 0}
    assert [
        (r["row"], r["values"]["sku"], [e["code"] for e in r["errors"]]) for r in report["rejected"]
    ] == [
        (3, "RUN-2", ["catalog.invalid_amount"]),
        (4, "MUG-1", ["catalog.invalid_encoding"]),
    ]
    assert report["rejected"][1]["values"]["product_name"] == "Caf\ufffd Mug"
    valid = csv_bytes([row(product_code="RUN", sku="RUN-1")])
    before = counts(container)
    again = upload(owner_client, valid).json()  # type: ignore[attr-defined]
    assert (again["created"], again["updated"], again["unchanged"], again["rejected"]) == (
        0,
        0,
        1,
        [],
    )
    assert counts(container) == before


def test_openapi_documents_the_catalog_with_examples(owner_client: TestClient) -> None:
    spec = owner_client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    for name in (
        "ProductCreate",
        "ProductRead",
        "ProductPage",
        "VariantUpdate",
        "CategoryNode",
        "BrandPage",
        "ImportReportRead",
    ):
        assert name in schemas
    assert schemas["VariantCreate"]["properties"]["price"]["examples"] == ["89.90"]
    assert "/v1/catalog/imports" in spec["paths"]


# --- the permission matrix --------------------------------------------------------------

CATALOG = ("catalog.read", "catalog.write", "catalog.import")
EXPECTED_PERMISSION = {
    "GET": "catalog.read",
    "POST": "catalog.write",
    "PATCH": "catalog.write",
    "DELETE": "catalog.write",
}
BODIES: dict[tuple[str, str], dict[str, object]] = {
    ("POST", "/v1/catalog/categories"): {"json": {"name": "Matrix"}},
    ("PATCH", "/v1/catalog/categories/{category_id}"): {"json": {"name": "Matrix"}},
    ("DELETE", "/v1/catalog/categories/{category_id}"): {},
    ("POST", "/v1/catalog/brands"): {"json": {"name": "Matrix"}},
    ("PATCH", "/v1/catalog/brands/{brand_id}"): {"json": {"name": "Matrix"}},
    ("DELETE", "/v1/catalog/brands/{brand_id}"): {},
    ("POST", "/v1/catalog/products"): {
        "json": {"code": "M", "name": "M", "variants": [variant_body("M-1")]}
    },
    ("PATCH", "/v1/catalog/products/{product_id}"): {"json": {"name": "Matrix"}},
    ("POST", "/v1/catalog/products/{product_id}/archive"): {},
    ("POST", "/v1/catalog/products/{product_id}/variants"): {"json": variant_body("M-2")},
    ("PATCH", "/v1/catalog/variants/{sku}"): {"json": {"price": "1.00"}},
    ("POST", "/v1/catalog/imports"): {
        "files": {"file": ("m.csv", csv_bytes([row(category="", brand="", sku="M-3")]), "text/csv")}
    },
}


@pytest.fixture
def scoped_client(container: Container, make_staff) -> Iterator[Callable[..., TestClient]]:  # type: ignore[no-untyped-def]
    owner = make_staff("owner")
    clients: list[TestClient] = []

    def factory(*scopes: str) -> TestClient:
        with container.uow(owner.actor) as uow:
            issued = access.issue_token(uow, access.IssueToken("limited", scopes))
            uow.commit()
        client = TestClient(
            create_app(container), headers={"Authorization": f"Bearer {issued.secret}"}
        )
        client.__enter__()
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.__exit__(None, None, None)


def test_every_catalog_endpoint_is_guarded_and_denials_change_nothing(
    container: Container,
    owner_client: TestClient,
    scoped_client,
    api_seed: dict,  # type: ignore[no-untyped-def, type-arg]
) -> None:
    guards = [g for g in iter_endpoints(create_app(container)) if g.path.startswith("/v1/catalog")]
    assert len(guards) == 19
    ids = {
        "category_id": api_seed["bags"]["id"],
        "brand_id": api_seed["acme"]["id"],
        "product_id": api_seed["product"]["id"],
        "sku": "TRAIL-42",
    }
    lacking = {p: scoped_client("orders.read", *(q for q in CATALOG if q != p)) for p in CATALOG}
    before = counts(container)
    for guard in guards:
        expected = (
            "catalog.import"
            if guard.path.endswith("/imports")
            else EXPECTED_PERMISSION[guard.method]
        )
        assert guard.permissions == (expected,), guard
        kwargs = BODIES.get((guard.method, guard.path), {})
        assert guard.method == "GET" or (guard.method, guard.path) in BODIES, guard
        url = guard.path.format(**ids)
        denied = lacking[expected].request(guard.method, url, **kwargs)  # type: ignore[arg-type]
        assert denied.status_code == 403, (guard, denied.text)
        assert denied.json()["code"] == "auth.permission_denied"
        assert denied.json()["details"] == {"permission": expected}
    assert counts(container) == before
    for guard in guards:  # the same requests are accepted with the permission
        kwargs = BODIES.get((guard.method, guard.path), {})
        allowed = owner_client.request(guard.method, guard.path.format(**ids), **kwargs)  # type: ignore[arg-type]
        assert allowed.status_code in {200, 201, 204, 409}, (guard, allowed.text)

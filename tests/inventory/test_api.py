"""Inventory over HTTP: warehouses, stock, the ledger, receipts to counts, problem+json."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from shopops.bootstrap import Container
from shopops.contexts import inventory
from tests.commerce import SYSTEM, add_skus, add_warehouse, stock_of

PROBLEM = "application/problem+json"


@pytest.fixture
def store(container: Container) -> dict[str, int]:
    add_skus(container, {"TEE-S": 1999, "MUG": 1250})
    return {
        "SH1": add_warehouse(container, "SH1", priority=10, stock={"TEE-S": 10, "MUG": 4}),
        "BJ1": add_warehouse(container, "BJ1", region="CN-BJ", priority=20),
    }


def movement_count(container: Container) -> int:
    with container.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(inventory.StockMovement)) or 0)


def problem(response: Any, status: int, code: str) -> list[tuple[str, str]]:
    """Assert a problem+json answer; return its (field, code) pairs."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == code
    assert body["status"] == status
    return [(e["field"], e["code"]) for e in body.get("errors", [])]


def walk(client: TestClient, url: str, **params: Any) -> list[dict[str, Any]]:
    """Follow next_cursor to the end; every page must be non-empty."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = client.get(url, params={**params, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        body = page.json()
        assert body["items"]
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items


# --- warehouses ----------------------------------------------------------------------------


def test_create_get_patch_and_list_warehouses(
    owner_client: TestClient, store: dict[str, int]
) -> None:
    created = owner_client.post(
        "/v1/inventory/warehouses",
        json={"code": "gz-1", "name": "Guangzhou", "region": "CN-GD", "priority": 15},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["code"], body["priority"], body["is_active"]) == ("GZ-1", 15, True)
    got = owner_client.get(f"/v1/inventory/warehouses/{body['id']}")
    assert got.json() == body
    patched = owner_client.patch(
        f"/v1/inventory/warehouses/{body['id']}", json={"priority": 30, "is_active": False}
    )
    assert (patched.json()["priority"], patched.json()["is_active"]) == (30, False)
    assert patched.json()["name"] == "Guangzhou"
    codes = [w["code"] for w in walk(owner_client, "/v1/inventory/warehouses", limit=1)]
    assert codes == ["SH1", "BJ1", "GZ-1"]  # priority order across pages
    active = owner_client.get("/v1/inventory/warehouses", params={"active_only": True}).json()
    assert [w["code"] for w in active["items"]] == ["SH1", "BJ1"]


def test_warehouse_errors(owner_client: TestClient, store: dict[str, int]) -> None:
    fields = problem(
        owner_client.post(
            "/v1/inventory/warehouses",
            json={"code": "bad code", "name": " ", "region": "", "priority": -1},
        ),
        422,
        "validation.failed",
    )
    assert sorted(fields) == [
        ("code", "validation.invalid_code"),
        ("name", "validation.required"),
        ("priority", "validation.negative"),
        ("region", "validation.required"),
    ]
    taken = {"code": "sh1", "name": "Again", "region": "CN-SH"}
    problem(
        owner_client.post("/v1/inventory/warehouses", json=taken),
        409,
        "inventory.warehouse_code_taken",
    )
    problem(
        owner_client.get("/v1/inventory/warehouses/999999"), 404, "inventory.warehouse_not_found"
    )
    problem(
        owner_client.patch("/v1/inventory/warehouses/999999", json={"priority": 1}),
        404,
        "inventory.warehouse_not_found",
    )
    problem(
        owner_client.get("/v1/inventory/warehouses", params={"cursor": "not-a-cursor"}),
        422,
        "pagination.invalid_cursor",
    )


# --- stock and movements -----------------------------------------------------------------


def test_receipt_adjustment_and_stock_rows(
    owner_client: TestClient, container: Container, store: dict[str, int]
) -> None:
    sh1 = store["SH1"]
    received = owner_client.post(
        "/v1/inventory/receipts",
        json={"warehouse_id": sh1, "sku": "MUG", "quantity": 6, "reference": "PO-7"},
    )
    assert received.status_code == 201, received.text
    row = received.json()
    assert (row["sku"], row["warehouse_id"], row["on_hand"], row["reserved"]) == ("MUG", sh1, 10, 0)
    assert (row["available"], row["threshold"]) == (10, 0)
    adjusted = owner_client.post(
        "/v1/inventory/adjustments",
        json={"warehouse_id": sh1, "sku": "MUG", "delta": -3, "reason": "broken"},
    )
    assert adjusted.status_code == 201
    assert adjusted.json()["on_hand"] == 7
    with container.uow(SYSTEM) as uow:
        inventory.reserve(uow, inventory.ReserveStock("SO-1", {"MUG": 5}))
        uow.commit()
    [mug] = owner_client.get("/v1/inventory/stock", params={"sku": "MUG"}).json()["items"]
    assert (mug["on_hand"], mug["reserved"], mug["available"]) == (7, 5, 2)
    before = movement_count(container)
    problem(
        owner_client.post(
            "/v1/inventory/adjustments",
            json={"warehouse_id": sh1, "sku": "MUG", "delta": -3, "reason": "lost"},
        ),
        409,
        "inventory.below_reserved",
    )
    assert movement_count(container) == before
    assert stock_of(container, "MUG") == [(sh1, 7, 5)]


@pytest.mark.parametrize(
    ("body", "status", "code", "fields"),
    [
        ({"quantity": 0}, 422, "validation.failed", [("quantity", "inventory.invalid_quantity")]),
        ({"quantity": -4}, 422, "validation.failed", [("quantity", "inventory.invalid_quantity")]),
        (
            {"quantity": 1_000_001},
            422,
            "validation.failed",
            [("quantity", "inventory.invalid_quantity")],
        ),
        ({"sku": "NOPE"}, 422, "inventory.unknown_sku", [("sku", "inventory.unknown_sku")]),
        ({"warehouse_id": 999_999}, 404, "inventory.warehouse_not_found", []),
        ({"quantity": "many"}, 422, "validation.failed", [("quantity", "validation.int_parsing")]),
        ({"sku": ""}, 422, "validation.failed", [("sku", "validation.string_too_short")]),
    ],
)
def test_bad_receipts_change_nothing(
    owner_client: TestClient,
    container: Container,
    store: dict[str, int],
    body: dict[str, Any],
    status: int,
    code: str,
    fields: list[tuple[str, str]],
) -> None:
    before = (movement_count(container), stock_of(container, "MUG"))
    request = {"warehouse_id": store["SH1"], "sku": "MUG", "quantity": 1, **body}
    assert (
        problem(owner_client.post("/v1/inventory/receipts", json=request), status, code) == fields
    )
    assert (movement_count(container), stock_of(container, "MUG")) == before


def test_stock_filters_and_pages(owner_client: TestClient, store: dict[str, int]) -> None:
    sh1, bj1 = store["SH1"], store["BJ1"]
    owner_client.post(
        "/v1/inventory/receipts", json={"warehouse_id": bj1, "sku": "MUG", "quantity": 2}
    )
    rows = walk(owner_client, "/v1/inventory/stock", limit=1)
    assert [(r["sku"], r["warehouse_id"]) for r in rows] == [
        ("TEE-S", sh1),
        ("MUG", sh1),
        ("MUG", bj1),
    ]
    in_bj1 = owner_client.get("/v1/inventory/stock", params={"warehouse_id": bj1}).json()
    assert [(r["sku"], r["on_hand"]) for r in in_bj1["items"]] == [("MUG", 2)]
    assert owner_client.get("/v1/inventory/stock", params={"low_only": True}).json()["items"] == []
    assert (
        owner_client.put("/v1/inventory/thresholds/MUG", json={"low_stock_threshold": 4}).json()[
            "low_stock_threshold"
        ]
        == 4
    )
    low = owner_client.get("/v1/inventory/stock", params={"low_only": True}).json()["items"]
    assert [(r["sku"], r["warehouse_id"], r["threshold"]) for r in low] == [
        ("MUG", sh1, 4),
        ("MUG", bj1, 4),
    ]


def test_thresholds_validate(owner_client: TestClient, store: dict[str, int]) -> None:
    problem(
        owner_client.put("/v1/inventory/thresholds/NOPE", json={"low_stock_threshold": 3}),
        422,
        "inventory.unknown_sku",
    )
    problem(
        owner_client.put("/v1/inventory/thresholds/MUG", json={"low_stock_threshold": -1}),
        422,
        "inventory.invalid_quantity",
    )


def test_movement_ledger_filters_newest_first(
    owner_client: TestClient, container: Container, store: dict[str, int]
) -> None:
    sh1, bj1 = store["SH1"], store["BJ1"]
    owner_client.post(
        "/v1/inventory/receipts",
        json={"warehouse_id": bj1, "sku": "MUG", "quantity": 5, "reference": "PO-9"},
    )
    owner_client.post(
        "/v1/inventory/adjustments",
        json={"warehouse_id": sh1, "sku": "TEE-S", "delta": -1, "reason": "sample"},
    )
    everything = walk(owner_client, "/v1/inventory/movements", limit=2)
    assert [(m["sku"], m["kind"], m["quantity"]) for m in everything] == [
        ("TEE-S", "adjustment", -1),
        ("MUG", "receipt", 5),
        ("MUG", "receipt", 4),
        ("TEE-S", "receipt", 10),
    ]
    ids = [m["id"] for m in everything]
    assert ids == sorted(ids, reverse=True)

    def skus(**params: Any) -> list[tuple[str, int]]:
        page = owner_client.get("/v1/inventory/movements", params=params)
        assert page.status_code == 200, page.text
        return [(m["sku"], m["quantity"]) for m in page.json()["items"]]

    assert skus(sku="MUG") == [("MUG", 5), ("MUG", 4)]
    assert skus(warehouse_id=bj1) == [("MUG", 5)]
    assert skus(kind="adjustment") == [("TEE-S", -1)]
    assert skus(reference="PO-9") == [("MUG", 5)]
    first = everything[-1]["occurred_at"]
    last = everything[0]["occurred_at"]
    assert len(skus(since=first)) == 4
    assert skus(until=first) == []
    assert len(skus(since=first, until="2999-01-01T00:00:00Z")) == 4
    assert last >= first
    problem(
        owner_client.get("/v1/inventory/movements", params={"since": "2026-01-01T00:00:00"}),
        422,
        "validation.naive_datetime",
    )
    problem(
        owner_client.get(
            "/v1/inventory/movements",
            params={"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        ),
        422,
        "validation.reversed_range",
    )
    fields = problem(
        owner_client.get("/v1/inventory/movements", params={"kind": "theft"}),
        422,
        "validation.failed",
    )
    assert fields == [("kind", "validation.enum")]


# --- transfers, counts, reservations, ledger check ------------------------------------------


def test_transfer_and_its_errors(
    owner_client: TestClient, container: Container, store: dict[str, int]
) -> None:
    sh1, bj1 = store["SH1"], store["BJ1"]
    moved = owner_client.post(
        "/v1/inventory/transfers",
        json={
            "from_warehouse_id": sh1,
            "to_warehouse_id": bj1,
            "lines": [{"sku": "TEE-S", "quantity": 4}, {"sku": "MUG", "quantity": 1}],
        },
    )
    assert moved.status_code == 201, moved.text
    assert moved.json()["lines"] == [{"sku": "MUG", "quantity": 1}, {"sku": "TEE-S", "quantity": 4}]
    assert sorted(stock_of(container, "TEE-S")) == sorted([(sh1, 6, 0), (bj1, 4, 0)])
    before = (movement_count(container), stock_of(container, "TEE-S"), stock_of(container, "MUG"))
    short = {
        "from_warehouse_id": sh1,
        "to_warehouse_id": bj1,
        "lines": [{"sku": "MUG", "quantity": 9}],
    }
    problem(
        owner_client.post("/v1/inventory/transfers", json=short),
        409,
        "inventory.insufficient_stock",
    )
    same = {**short, "to_warehouse_id": sh1, "lines": [{"sku": "MUG", "quantity": 0}]}
    fields = problem(
        owner_client.post("/v1/inventory/transfers", json=same), 422, "validation.failed"
    )
    assert sorted(fields) == [
        ("lines.MUG", "inventory.invalid_quantity"),
        ("to_warehouse_id", "inventory.same_warehouse"),
    ]
    twice = {**short, "lines": [{"sku": "MUG", "quantity": 1}, {"sku": "MUG", "quantity": 1}]}
    fields = problem(
        owner_client.post("/v1/inventory/transfers", json=twice), 422, "validation.failed"
    )
    assert fields == [("lines", "validation.value_error")]
    assert (
        movement_count(container),
        stock_of(container, "TEE-S"),
        stock_of(container, "MUG"),
    ) == before


def test_cycle_count(owner_client: TestClient, container: Container, store: dict[str, int]) -> None:
    sh1 = store["SH1"]
    counted = owner_client.post(
        "/v1/inventory/counts",
        json={
            "warehouse_id": sh1,
            "lines": [{"sku": "TEE-S", "counted": 9}, {"sku": "MUG", "counted": 4}],
            "note": "aisle 4",
        },
    )
    assert counted.status_code == 201, counted.text
    body = counted.json()
    assert body["lines"] == [
        {"sku": "MUG", "expected": 4, "counted": 4, "difference": 0},
        {"sku": "TEE-S", "expected": 10, "counted": 9, "difference": -1},
    ]
    assert body["note"] == "aisle 4"
    assert stock_of(container, "TEE-S") == [(sh1, 9, 0)]
    fields = problem(
        owner_client.post(
            "/v1/inventory/counts",
            json={"warehouse_id": sh1, "lines": [{"sku": "MUG", "counted": -2}]},
        ),
        422,
        "validation.failed",
    )
    assert fields == [("counts.MUG", "inventory.invalid_quantity")]
    assert stock_of(container, "MUG") == [(sh1, 4, 0)]


def test_reservations_of_a_reference_and_ledger_check(
    owner_client: TestClient, container: Container, store: dict[str, int]
) -> None:
    with container.uow(SYSTEM) as uow:
        inventory.reserve(uow, inventory.ReserveStock("SO-42", {"MUG": 3, "TEE-S": 1}))
        uow.commit()
    held = owner_client.get("/v1/inventory/reservations", params={"reference": "SO-42"}).json()
    assert sorted((r["sku"], r["quantity"], r["status"]) for r in held) == [
        ("MUG", 3, "active"),
        ("TEE-S", 1, "active"),
    ]
    assert owner_client.get("/v1/inventory/reservations", params={"reference": "SO-0"}).json() == []
    assert owner_client.get("/v1/inventory/ledger/check").json() == {
        "consistent": True,
        "discrepancies": [],
    }
    with container.engine.begin() as connection:
        connection.execute(text("UPDATE stock_levels SET on_hand = 12 WHERE sku = 'TEE-S'"))
    assert owner_client.get("/v1/inventory/ledger/check").json() == {
        "consistent": False,
        "discrepancies": [
            {
                "sku": "TEE-S",
                "warehouse_id": store["SH1"],
                "on_hand": 12,
                "ledger_total": 10,
                "difference": 2,
            }
        ],
    }


# --- permissions -------------------------------------------------------------------------


def test_permissions(client_as: Any, container: Container, store: dict[str, int]) -> None:
    sh1 = store["SH1"]
    analyst = client_as("analyst")  # inventory.read only
    assert analyst.get("/v1/inventory/stock").status_code == 200
    assert analyst.get("/v1/inventory/ledger/check").status_code == 200
    before = (movement_count(container), stock_of(container, "MUG"))
    writes = [
        ("post", "/v1/inventory/receipts", {"warehouse_id": sh1, "sku": "MUG", "quantity": 1}),
        (
            "post",
            "/v1/inventory/adjustments",
            {"warehouse_id": sh1, "sku": "MUG", "delta": 1, "reason": "x"},
        ),
        ("post", "/v1/inventory/warehouses", {"code": "X1", "name": "X", "region": "CN"}),
        ("patch", f"/v1/inventory/warehouses/{sh1}", {"priority": 1}),
        ("put", "/v1/inventory/thresholds/MUG", {"low_stock_threshold": 1}),
    ]
    for method, url, body in writes:
        answer = getattr(analyst, method)(url, json=body)
        problem(answer, 403, "auth.permission_denied")
    assert (movement_count(container), stock_of(container, "MUG")) == before
    marketing = client_as("marketing")  # no inventory permission at all
    for url in ("/v1/inventory/stock", "/v1/inventory/movements", "/v1/inventory/warehouses"):
        problem(marketing.get(url), 403, "auth.permission_denied")
    warehouse = client_as("warehouse")
    answer = warehouse.post(
        "/v1/inventory/receipts", json={"warehouse_id": sh1, "sku": "MUG", "quantity": 1}
    )
    assert answer.status_code == 201

"""/v1/shipping-methods: CRUD, quotes, problem+json bodies; checkout and the cart
simulator quoting the fee from the table."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from shopops.auth.permissions import Role
from tests.promotions.conftest import Shop
from tests.shipping.conftest import add_rate_table, count_rows

BASE = "/v1/shipping-methods"
PROBLEM = "application/problem+json"
ADDRESS = {
    "recipient": "Wang Fang",
    "line1": "88 Nanjing Road",
    "city": "Shanghai",
    "region": "CN-SH",
    "country": "CN",
}


def problem(response: Any, status: int, code: str) -> list[tuple[str, str]]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert (body["status"], body["code"]) == (status, code)
    return [(e["field"], e["code"]) for e in body.get("errors", [])]


@pytest.fixture
def client_for(store: Shop, staff_on: Any, client_on: Any) -> Any:
    def factory(role: Role) -> TestClient:
        return client_on(store.container, staff_on(store.container, role).token)  # type: ignore[no-any-return]

    return factory


def test_methods_and_rates_are_created_read_changed_and_deleted(client_for: Any) -> None:
    ops = client_for(Role.OPS_MANAGER)
    created = ops.post(
        BASE,
        json={
            "code": "Standard",
            "name": "Standard (3-5 days)",
            "rates": [
                {"country": "cn", "fee": "8.00", "free_over": "99.00"},
                {"country": "CN", "region": "cn-xz", "fee": "25"},
                {"country": "*", "fee": "60.00"},
            ],
        },
    )
    assert created.status_code == 201, created.text
    assert created.json() == {
        "id": 1,
        "code": "standard",
        "name": "Standard (3-5 days)",
        "is_active": True,
        "sort_order": 0,
        "rates": [
            {
                "id": 1,
                "country": "CN",
                "region": None,
                "currency": "CNY",
                "fee": "8.00",
                "free_over": "99.00",
            },
            {
                "id": 2,
                "country": "CN",
                "region": "CN-XZ",
                "currency": "CNY",
                "fee": "25.00",
                "free_over": None,
            },
            {
                "id": 3,
                "country": "*",
                "region": None,
                "currency": "CNY",
                "fee": "60.00",
                "free_over": None,
            },
        ],
    }
    assert (
        ops.post(BASE, json={"code": "express", "name": "Express", "sort_order": 5}).status_code
        == 201
    )
    rate = ops.post(f"{BASE}/express/rates", json={"country": "CN", "fee": "20.00"})
    assert (rate.status_code, rate.json()["fee"]) == (201, "20.00")
    replaced = ops.put(
        f"{BASE}/express/rates/{rate.json()['id']}",
        json={"country": "CN", "fee": "18.00", "free_over": "300"},
    )
    assert (replaced.json()["fee"], replaced.json()["free_over"]) == ("18.00", "300.00")
    changed = ops.patch(f"{BASE}/express", json={"is_active": False, "name": "Express!"})
    assert (changed.json()["is_active"], changed.json()["name"]) == (False, "Express!")

    listed = ops.get(BASE).json()
    assert [m["code"] for m in listed["items"]] == ["standard", "express"]
    assert listed["next_cursor"] is None
    active = ops.get(BASE, params={"include_inactive": "false"}).json()
    assert [m["code"] for m in active["items"]] == ["standard"]
    assert ops.get(f"{BASE}/express").json()["rates"][0]["fee"] == "18.00"

    assert ops.delete(f"{BASE}/standard/rates/3").status_code == 204
    assert ops.delete(f"{BASE}/express").status_code == 204
    assert problem(ops.get(f"{BASE}/express"), 404, "shipping.method_not_found") == []
    assert problem(ops.delete(f"{BASE}/standard/rates/3"), 404, "shipping.rate_not_found") == []
    assert [len(m["rates"]) for m in ops.get(BASE).json()["items"]] == [2]


def test_bad_input_lists_every_field_error_and_writes_nothing(store: Shop, client_for: Any) -> None:
    add_rate_table(store.container)
    ops = client_for(Role.OPS_MANAGER)
    before = count_rows(store.container)
    response = ops.post(
        BASE,
        json={
            "code": "standard",
            "name": "Again",
            "rates": [
                {"country": "CHN", "fee": "-1"},
                {"country": "US", "fee": "5.00"},
                {"country": "us", "fee": "6.00"},
                {"country": "JP", "fee": "1.001", "free_over": "0"},
            ],
        },
    )
    assert problem(response, 422, "validation.failed") == [
        ("code", "shipping.duplicate_code"),
        ("rates.0.country", "shipping.invalid_country"),
        ("rates.0.fee", "shipping.invalid_fee"),
        ("rates.3.fee", "shipping.invalid_fee"),
        ("rates.3.free_over", "shipping.invalid_free_over"),
        ("rates.2.country", "shipping.duplicate_rate"),
    ]
    duplicate = ops.post(f"{BASE}/standard/rates", json={"country": "cn", "fee": "1.00"})
    assert problem(duplicate, 422, "validation.failed") == [("country", "shipping.duplicate_rate")]
    negative = ops.put(f"{BASE}/standard/rates/1", json={"country": "C", "fee": "-0.01"})
    assert problem(negative, 422, "validation.failed") == [
        ("country", "shipping.invalid_country"),
        ("fee", "shipping.invalid_fee"),
    ]
    wrong_shape = ops.post(BASE, json={"code": "x", "rates": [{"fee": "1"}], "extra": 1})
    assert problem(wrong_shape, 422, "validation.failed") == [
        ("name", "validation.missing"),
        ("rates.0.country", "validation.missing"),
        ("extra", "validation.extra_forbidden"),
    ]
    assert count_rows(store.container) == before


def test_only_shipping_manage_changes_the_table(store: Shop, client_for: Any) -> None:
    add_rate_table(store.container)
    warehouse = client_for(Role.WAREHOUSE)
    before = count_rows(store.container)
    assert len(warehouse.get(BASE).json()["items"]) == 3
    for response in (
        warehouse.post(BASE, json={"code": "x", "name": "X"}),
        warehouse.patch(f"{BASE}/standard", json={"is_active": False}),
        warehouse.delete(f"{BASE}/standard"),
        warehouse.post(f"{BASE}/standard/rates", json={"country": "JP", "fee": "1"}),
        warehouse.delete(f"{BASE}/standard/rates/1"),
    ):
        assert problem(response, 403, "auth.permission_denied") == []
        assert response.json()["details"]["permission"] == "shipping.manage"
    assert count_rows(store.container) == before


def test_a_quote_names_the_rate_and_the_threshold(store: Shop, client_for: Any) -> None:
    add_rate_table(store.container)
    analyst = client_for(Role.ANALYST)
    under = analyst.get(
        f"{BASE}/standard/quote", params={"country": "cn", "region": "cn-sh", "subtotal": "149.99"}
    )
    assert under.json() == {
        "method": "standard",
        "currency": "CNY",
        "fee": "8.00",
        "free_over_reached": False,
        "rate": {
            "id": 1,
            "country": "CN",
            "region": None,
            "currency": "CNY",
            "fee": "8.00",
            "free_over": "150.00",
        },
    }
    over = analyst.get(f"{BASE}/standard/quote", params={"country": "CN", "subtotal": "150"})
    assert (over.json()["fee"], over.json()["free_over_reached"]) == ("0.00", True)
    tibet = analyst.get(f"{BASE}/standard/quote", params={"country": "CN", "region": "CN-XZ"})
    assert tibet.json()["fee"] == "25.00"

    off = analyst.get(f"{BASE}/courier/quote", params={"country": "CN"})
    assert problem(off, 422, "shipping.unknown_method") == [("method", "shipping.unknown_method")]
    assert off.json()["details"] == {"allowed": ["standard", "express"]}
    nowhere = analyst.get(f"{BASE}/express/quote", params={"country": "FR"})
    assert problem(nowhere, 422, "shipping.no_rate_for_destination") == [
        ("country", "shipping.no_rate_for_destination")
    ]
    bad = analyst.get(f"{BASE}/standard/quote", params={"country": "France", "subtotal": "x"})
    assert problem(bad, 422, "validation.failed") == [
        ("country", "shipping.invalid_country"),
        ("subtotal", "shipping.invalid_subtotal"),
    ]


def test_checkout_charges_the_fee_and_refuses_an_unknown_method(
    store: Shop, client_for: Any
) -> None:
    add_rate_table(store.container)
    clerk = client_for(Role.CS_AGENT)
    body = {
        "lines": [{"sku": "TEE", "quantity": 1}],
        "shipping_address": ADDRESS,
        "guest": {"email": "guest@example.com"},
        "channel": "web",
        "shipping_method": "express",
    }
    placed = clerk.post("/v1/orders", json=body)
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert (order["subtotal"], order["shipping"], order["total"]) == ("100.00", "20.00", "120.00")
    assert order["pricing"]["shipping_method"] == "express"
    assert order["pricing"]["shipping_rate"] == {
        "id": 4,
        "country": "CN",
        "region": None,
        "fee": "20.00",
        "free_over_reached": False,
    }
    refused = clerk.post("/v1/orders", json=body | {"shipping_method": "drone"})
    assert problem(refused, 422, "validation.failed") == [
        ("shipping_method", "shipping.unknown_method")
    ]
    assert "allowed: standard, express" in refused.json()["errors"][0]["message"]


def test_the_cart_simulator_quotes_the_fee_from_the_table(store: Shop, client_for: Any) -> None:
    marketing = client_for(Role.MARKETING)
    cart = {"currency": "CNY", "lines": [{"sku": "TEE", "quantity": 1}]}

    def quote(shipping: dict[str, Any]) -> Any:
        return marketing.post("/v1/pricing/quote", json=cart | {"shipping": shipping})

    # no methods yet: no fee, as at checkout
    assert quote({"country": "CN"}).json()["shipping"] == "0.00"
    add_rate_table(store.container)
    assert quote({"country": "CN", "region": "CN-XZ"}).json()["shipping"] == "25.00"
    assert quote({"country": "CN", "method": "express"}).json()["shipping"] == "20.00"
    assert quote({"country": "CN", "fee": "3.00"}).json()["shipping"] == "3.00"  # given wins
    assert quote({}).json()["shipping"] == "0.00"
    over = marketing.post(
        "/v1/pricing/quote",
        json=cart | {"lines": [{"sku": "TEE", "quantity": 2}], "shipping": {"country": "CN"}},
    )
    assert (over.json()["shipping"], over.json()["total"]) == ("0.00", "200.00")
    unknown = quote({"country": "CN", "method": "drone"})
    assert problem(unknown, 422, "shipping.unknown_method") == [
        ("shipping.method", "shipping.unknown_method")
    ]
    assert problem(quote({"country": "XYZ"}), 422, "validation.failed") == [
        ("shipping.country", "shipping.invalid_country")
    ]

"""Returns over HTTP: the whole flow, refusals with their codes, permissions."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from shopops.auth.permissions import Role
from shopops.bootstrap import Container
from tests.payments.shop import Shop, open_shop, snapshot


@pytest.fixture
def shop(container: Container) -> Shop:
    return open_shop(container)


@pytest.fixture
def owner(client_as: Any) -> TestClient:
    return client_as(Role.OWNER)


def shipped(shop: Shop) -> tuple[int, int, int]:
    order_id = shop.place(("TEE", 2), ("MUG", 1))
    shop.pay(order_id)
    shop.ship(order_id)
    tee, mug = shop.lines(order_id)
    return order_id, tee.id, mug.id


def test_request_approve_receive_refund(shop: Shop, owner: TestClient) -> None:
    order_id, tee, mug = shipped(shop)
    created = owner.post(
        "/v1/returns",
        json={
            "order_id": order_id,
            "lines": [
                {"order_line_id": tee, "quantity": 2, "reason": "size_fit"},
                {"order_line_id": mug, "quantity": 1, "reason": "damaged", "note": "cracked"},
            ],
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    return_id = body["id"]
    assert (body["status"], body["currency"], len(body["lines"])) == ("requested", "USD", 2)
    approved = owner.post(f"/v1/returns/{return_id}/approve", json={"note": "fine"})
    assert approved.json()["status"] == "approved"
    tee_line, mug_line = (line["id"] for line in body["lines"])
    received = owner.post(
        f"/v1/returns/{return_id}/receive",
        json={
            "lines": [
                {
                    "return_line_id": tee_line,
                    "disposition": "restock",
                    "warehouse_id": shop.warehouse_id,
                },
                {"return_line_id": mug_line, "disposition": "write_off"},
            ]
        },
    )
    assert received.status_code == 200, received.text
    refunded = owner.post(f"/v1/returns/{return_id}/refund")
    assert refunded.status_code == 200, refunded.text
    assert (refunded.json()["status"], refunded.json()["refund"]) == ("refunded", "52.50")
    assert [line["refund"] for line in refunded.json()["lines"]] == ["40.00", "12.50"]
    listed = owner.get("/v1/returns", params={"order_id": order_id}).json()
    assert [r["status"] for r in listed["items"]] == ["refunded"]
    assert owner.get(f"/v1/returns/{return_id}").json()["refund_id"] is not None
    assert shop.order(order_id).payment_status == "refunded"


def test_refusals_have_their_codes_and_change_nothing(shop: Shop, owner: TestClient) -> None:
    order_id, tee, _ = shipped(shop)
    line = {"order_line_id": tee, "quantity": 1, "reason": "damaged"}
    return_id = owner.post("/v1/returns", json={"order_id": order_id, "lines": [line]}).json()["id"]
    before = snapshot(shop.container)
    cases = [
        (
            "/v1/returns",
            {"order_id": order_id, "lines": [{**line, "quantity": 2}]},
            422,
            "returns.quantity_exceeds_returnable",
        ),
        (
            "/v1/returns",
            {"order_id": order_id, "lines": [{**line, "reason": "meh"}]},
            422,
            "validation.failed",
        ),
        ("/v1/returns", {"order_id": 999999, "lines": [line]}, 404, "orders.not_found"),
        (f"/v1/returns/{return_id}/receive", {"lines": []}, 409, "returns.invalid_transition"),
        (f"/v1/returns/{return_id}/refund", None, 409, "returns.invalid_transition"),
        (f"/v1/returns/{return_id}/reject", {"reason": ""}, 422, "validation.failed"),
        ("/v1/returns/999999/approve", {}, 404, "returns.not_found"),
    ]
    for path, payload, status, code in cases:
        response = owner.post(path, json=payload)
        assert (response.status_code, response.json()["code"]) == (status, code), path
    assert snapshot(shop.container) == before
    owner.post(f"/v1/returns/{return_id}/reject", json={"reason": "worn"})
    again = owner.post(f"/v1/returns/{return_id}/approve", json={})
    assert (again.status_code, again.json()["code"]) == (409, "returns.invalid_transition")
    assert again.json()["details"] == {"from": "rejected", "to": "approved"}


def test_permissions(shop: Shop, client_as: Any, owner: TestClient) -> None:
    order_id, tee, _ = shipped(shop)
    line = {"order_line_id": tee, "quantity": 1, "reason": "damaged"}
    return_id = owner.post("/v1/returns", json={"order_id": order_id, "lines": [line]}).json()["id"]
    matrix = [
        (Role.ANALYST, "POST", "/v1/returns", {"order_id": order_id, "lines": [line]}, 403),
        (Role.FINANCE, "POST", f"/v1/returns/{return_id}/approve", {}, 403),
        (Role.MARKETING, "GET", "/v1/returns", None, 403),
        (Role.MARKETING, "GET", f"/v1/returns/{return_id}", None, 403),
        (Role.ANALYST, "GET", "/v1/returns", None, 200),
        (Role.CS_AGENT, "POST", f"/v1/returns/{return_id}/approve", {}, 200),
    ]
    for role, method, path, body, status in matrix:
        client = client_as(role)
        before = snapshot(shop.container)
        response = client.request(method, path, json=body)
        assert response.status_code == status, (role, path, response.text)
        if status == 403:
            assert response.json()["code"] == "auth.permission_denied"
            assert snapshot(shop.container) == before

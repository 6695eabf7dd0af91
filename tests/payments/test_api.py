"""Payments over HTTP: pay, refund, lists, settlement, gateway notifications, permissions."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from shopops.adapters.payments import Operation
from shopops.auth.permissions import Role
from shopops.bootstrap import Container
from shopops.contexts import payments
from tests.payments.shop import Shop, open_shop, snapshot


@pytest.fixture
def shop(container: Container) -> Shop:
    return open_shop(container)


@pytest.fixture
def owner(client_as: Any) -> TestClient:
    return client_as(Role.OWNER)


def test_pay_refund_and_read_back(shop: Shop, owner: TestClient) -> None:
    order_id = shop.place(("TEE", 2), ("MUG", 1))
    paid = owner.post(f"/v1/orders/{order_id}/payments", json={})
    assert paid.status_code == 201, paid.text
    body = paid.json()
    assert (body["status"], body["amount"], body["captured"], body["fee"], body["currency"]) == (
        "captured",
        "52.50",
        "52.50",
        "1.82",
        "USD",
    )
    listed = owner.get("/v1/payments", params={"order_id": order_id}).json()
    assert [p["id"] for p in listed["items"]] == [body["id"]]
    assert listed["next_cursor"] is None
    assert owner.get(f"/v1/payments/{body['id']}").json()["status"] == "captured"

    refund = owner.post(
        f"/v1/orders/{order_id}/refunds", json={"amount": "10.00", "reason": "late delivery"}
    )
    assert refund.status_code == 201, refund.text
    assert [line["amount"] for line in refund.json()["lines"]] == ["7.62", "2.38"]
    assert refund.json()["status"] == "succeeded"
    refunds = owner.get("/v1/refunds", params={"order_id": order_id}).json()["items"]
    assert [(r["amount"], r["status"]) for r in refunds] == [("10.00", "succeeded")]
    assert shop.order(order_id).payment_status == "partially_refunded"


def test_declined_payment_answers_failed_and_the_order_stays_unpaid(
    shop: Shop, owner: TestClient
) -> None:
    order_id = shop.place(("MUG", 1))
    declined = owner.post(f"/v1/orders/{order_id}/payments", json={"source": "tok_declined"})
    assert declined.status_code == 201
    assert (declined.json()["status"], declined.json()["error_code"]) == (
        "failed",
        "card_declined",
    )
    assert shop.order(order_id).status == "pending_payment"


def test_bad_requests_get_their_own_codes_and_change_nothing(shop: Shop, owner: TestClient) -> None:
    order_id = shop.place(("TEE", 2), ("MUG", 1))
    owner.post(f"/v1/orders/{order_id}/payments", json={})
    tee, _ = shop.lines(order_id)
    before = snapshot(shop.container)
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        ("refunds", {"amount": "52.51", "reason": "x"}, 409, "payments.refund_exceeds_captured"),
        (
            "refunds",
            {"lines": [{"order_line_id": tee.id, "amount": "40.01"}], "reason": "x"},
            409,
            "payments.refund_exceeds_line",
        ),
        (
            "refunds",
            {"amount": "1.00", "lines": [], "reason": "x"},
            422,
            "payments.invalid_refund_lines",
        ),
        ("refunds", {"amount": "1.001", "reason": "x"}, 422, "money.too_precise"),
        ("refunds", {"amount": "1.00", "reason": ""}, 422, "validation.failed"),
        ("payments", {}, 409, "payments.already_paid"),
        ("payments", {"method": "cheque"}, 409, "payments.already_paid"),
    ]
    for resource, payload, status, code in cases:
        response = owner.post(f"/v1/orders/{order_id}/{resource}", json=payload)
        assert (response.status_code, response.json()["code"]) == (status, code), payload
        assert response.headers["content-type"] == "application/problem+json"
    assert (
        owner.post("/v1/orders/999999/refunds", json={"amount": "1", "reason": "x"}).json()["code"]
        == "orders.not_found"
    )
    assert snapshot(shop.container) == before


def test_refund_retried_with_the_same_idempotency_key_refunds_once(
    shop: Shop, owner: TestClient
) -> None:
    order_id = shop.place(("MUG", 1))
    owner.post(f"/v1/orders/{order_id}/payments", json={})
    headers = {"Idempotency-Key": "refund-1"}
    body = {"amount": "2.00", "reason": "scratched"}
    first = owner.post(f"/v1/orders/{order_id}/refunds", json=body, headers=headers)
    again = owner.post(f"/v1/orders/{order_id}/refunds", json=body, headers=headers)
    assert first.json() == again.json()
    assert shop.order(order_id).refunded_minor == 200


def test_gateway_down_answers_202_requested(shop: Shop, owner: TestClient) -> None:
    order_id = shop.place(("MUG", 1))
    owner.post(f"/v1/orders/{order_id}/payments", json={})
    shop.sandbox.configure(unavailable=frozenset({Operation.REFUND}))
    response = owner.post(f"/v1/orders/{order_id}/refunds", json={"amount": "1", "reason": "x"})
    assert (response.status_code, response.json()["status"]) == (202, "requested")
    shop.sandbox.configure(unavailable=frozenset({Operation.AUTHORIZE}))
    other = shop.place(("MUG", 1))
    down = owner.post(f"/v1/orders/{other}/payments", json={})
    assert (down.status_code, down.json()["code"]) == (503, "payments.gateway_unavailable")


def test_settlement_endpoint(shop: Shop, owner: TestClient) -> None:
    order_id = shop.place(("MUG", 1))
    owner.post(f"/v1/orders/{order_id}/payments", json={})
    today = shop.container.clock.now().date().isoformat()
    report = owner.get(f"/v1/settlements/{today}")
    assert report.status_code == 200, report.text
    assert report.json()["totals"] == [
        {
            "currency": "USD",
            "captured": "12.50",
            "refunded": "0.00",
            "fees": "0.66",
            "net": "11.84",
            "payments": 1,
            "refunds": 0,
        }
    ]
    assert report.json()["mismatches"] == []
    assert owner.get("/v1/settlements/2026-02-30").status_code == 422


def test_gateway_notifications_are_authenticated_by_signature(
    shop: Shop, app_client: TestClient
) -> None:
    order_id = shop.place(("MUG", 1))
    shop.sandbox.configure(lose_response=frozenset({Operation.CAPTURE}))
    with pytest.raises(payments.GatewayUnavailableError):
        shop.pay(order_id)
    shop.sandbox.configure(lose_response=frozenset())
    [note] = shop.sandbox.take_notifications()
    url = "/v1/payments/notifications/sandbox"
    before = snapshot(shop.container)
    tampered = app_client.post(url, content=note.body + b" ", headers=note.headers)
    assert (tampered.status_code, tampered.json()["code"]) == (400, "payments.invalid_signature")
    assert snapshot(shop.container) == before
    first = app_client.post(url, content=note.body, headers=note.headers)
    assert first.status_code == 200, first.text
    assert (first.json()["status"], first.json()["outcome"]) == ("processed", "captured")
    assert shop.order(order_id).payment_status == "paid"
    again = app_client.post(url, content=note.body, headers=note.headers)
    assert again.json()["status"] == "duplicate"


# (role, method, path template, body, expected status)
MATRIX: list[tuple[Role, str, str, dict[str, Any] | None, int]] = [
    (Role.WAREHOUSE, "GET", "/v1/payments", None, 403),
    (Role.WAREHOUSE, "GET", "/v1/refunds", None, 403),
    (Role.WAREHOUSE, "GET", "/v1/settlements/2026-03-10", None, 403),
    (Role.WAREHOUSE, "POST", "/v1/orders/{order}/payments", {}, 403),
    (Role.MARKETING, "GET", "/v1/payments/{payment}", None, 403),
    (Role.ANALYST, "POST", "/v1/orders/{order}/refunds", {"amount": "1", "reason": "x"}, 403),
    (Role.CS_AGENT, "POST", "/v1/orders/{order}/refunds", {"amount": "1", "reason": "x"}, 403),
    (Role.OPS_MANAGER, "POST", "/v1/orders/{order}/refunds", {"amount": "1", "reason": "x"}, 403),
    (Role.FINANCE, "POST", "/v1/orders/{order}/payments", {}, 403),
    (Role.ANALYST, "GET", "/v1/payments", None, 200),
    (Role.FINANCE, "GET", "/v1/settlements/2026-03-10", None, 200),
    (Role.FINANCE, "POST", "/v1/orders/{order}/refunds", {"amount": "1", "reason": "x"}, 201),
]


def test_permission_matrix(shop: Shop, client_as: Any, owner: TestClient) -> None:
    order_id = shop.place(("MUG", 1))
    payment_id = owner.post(f"/v1/orders/{order_id}/payments", json={}).json()["id"]
    for role, method, template, body, status in MATRIX:
        path = template.format(order=order_id, payment=payment_id)
        client = client_as(role)
        before = snapshot(shop.container)
        response = client.request(method, path, json=body)
        assert response.status_code == status, (role, method, path, response.text)
        if status == 403:
            assert response.json()["code"] == "auth.permission_denied"
            assert snapshot(shop.container) == before
    anonymous = TestClient(owner.app)
    assert anonymous.get("/v1/payments").status_code == 401

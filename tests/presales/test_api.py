"""Presales over HTTP: offers, placing, paying the deposit, listing orders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shopops.auth.permissions import Role
from shopops.bootstrap import Container
from tests.commerce import add_skus, add_warehouse

ADDRESS = {
    "recipient": "Wang Fang",
    "line1": "88 Nanjing Road",
    "city": "Shanghai",
    "country": "CN",
}


def terms(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    body = {
        "name": "Boots",
        "sku": "BOOT",
        "price": "299.00",
        "deposit": "50.00",
        "deposit_worth": "100.00",
        "deposit_starts_at": (now - timedelta(hours=1)).isoformat(),
        "deposit_ends_at": (now + timedelta(days=1)).isoformat(),
        "balance_starts_at": (now + timedelta(days=1)).isoformat(),
        "balance_ends_at": (now + timedelta(days=2)).isoformat(),
    }
    body.update(overrides)
    return body


def test_presales_over_http(container: Container, client_as: Any) -> None:
    add_skus(container, {"BOOT": 32900})
    add_warehouse(container, "SH1", stock={"BOOT": 5})
    marketing, agent = client_as(Role.MARKETING), client_as(Role.CS_AGENT)
    assert agent.post("/v1/presales", json=terms()).status_code == 403
    bad = marketing.post("/v1/presales", json=terms(deposit="120.00"))
    assert bad.status_code == 422
    assert [(e["field"], e["code"]) for e in bad.json()["errors"]] == [
        ("deposit_worth", "presales.worth_below_deposit")
    ]
    created = marketing.post("/v1/presales", json=terms())
    assert created.status_code == 201, created.text
    presale = created.json()
    assert (presale["balance"], presale["currency"], presale["status"]) == (
        "199.00",
        "USD",
        "active",
    )

    placed = agent.post(
        f"/v1/presales/{presale['id']}/orders",
        json={"guest": {"email": "g@example.com"}, "shipping_address": ADDRESS},
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert (order["total"], order["deposit"], order["balance"], order["payment_status"]) == (
        "249.00",
        "50.00",
        "199.00",
        "unpaid",
    )
    detail = agent.get(f"/v1/orders/{order['order_id']}").json()
    assert detail["pricing"]["offer"]["deposit"] == "50.00"
    assert detail["pricing"]["offer"]["reference"] == f"presale:{presale['id']}"
    owner = client_as(Role.OWNER)
    paid = owner.post(f"/v1/orders/{order['order_id']}/payments", json={})
    assert paid.status_code == 201, paid.text
    assert paid.json()["amount"] == "50.00"
    again = owner.post(f"/v1/orders/{order['order_id']}/payments", json={})
    assert (again.status_code, again.json()["code"]) == (409, "orders.balance_not_due")
    listed = agent.get(f"/v1/presales/{presale['id']}/orders").json()["items"]
    assert [(o["order_number"], o["payment_status"], o["captured"]) for o in listed] == [
        (order["order_number"], "deposit_paid", "50.00")
    ]
    ended = marketing.post(f"/v1/presales/{presale['id']}/end").json()
    assert ended["status"] == "ended"
    late = agent.post(
        f"/v1/presales/{presale['id']}/orders",
        json={"guest": {"email": "g@example.com"}, "shipping_address": ADDRESS},
    )
    assert (late.status_code, late.json()["code"]) == (409, "presales.not_running")

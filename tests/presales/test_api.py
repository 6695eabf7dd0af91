"""Presales over HTTP: offers, placing, paying the deposit, listing orders, performance."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from shopops.api.app import create_app
from shopops.api.introspection import iter_endpoints
from shopops.auth.permissions import Role
from shopops.bootstrap import Container
from tests.commerce import add_skus, add_warehouse
from tests.presales.conftest import BALANCE_ENDS, Shop, sell

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


def test_performance_over_http_and_the_cli_say_the_same(
    shop: Shop, staff_on: Any, client_on: Any, cli: Any
) -> None:
    presale = sell(shop)
    marketing = client_on(shop.container, staff_on(shop.container, Role.MARKETING).token)
    response = marketing.get(f"/v1/presales/{presale}/performance")
    assert response.status_code == 200, response.text
    body = response.json()
    assert datetime.fromisoformat(body.pop("as_of")) == BALANCE_ENDS
    assert body == {
        "presale_id": presale,
        "name": "Autumn boots",
        "status": "active",
        "currency": "USD",
        "orders_placed": 6,
        "awaiting_deposit": 0,
        "cancelled_before_deposit": 1,
        "deposits_paid": 5,
        "deposits_paid_amount": "350.00",
        "balances_paid": 2,
        "balances_paid_amount": "597.00",
        "conversion_rate": 0.4,
        "open": 0,
        "balance_overdue": 0,
        "forfeited": 2,
        "forfeited_amount": "150.00",
        "cancelled_after_deposit": 1,
        "discount": "150.00",
        "gmv": "747.00",
    }
    result = cli(shop.container, "presales", "performance", str(presale), "--format", "json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert datetime.fromisoformat(printed.pop("as_of")) == BALANCE_ENDS
    assert printed == body

    missing = marketing.get(f"/v1/presales/{presale + 1}/performance")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["code"] == "presales.not_found"
    for role in (Role.CS_AGENT, Role.WAREHOUSE, Role.FINANCE):  # no promotions.read
        denied = client_on(shop.container, staff_on(shop.container, role).token).get(
            f"/v1/presales/{presale}/performance"
        )
        assert (denied.status_code, denied.json()["code"]) == (403, "auth.permission_denied")
        assert denied.json()["details"] == {"permission": "promotions.read"}


def test_performance_is_guarded_like_reading_the_presale(container: Container) -> None:
    """The role matrix (tests/architecture) walks every guarded endpoint: this one is
    there, with the permission of reading the presale."""
    guards = {(e.method, e.path): e.permissions for e in iter_endpoints(create_app(container))}
    assert guards[("GET", "/v1/presales/{presale_id}/performance")] == ("promotions.read",)
    assert guards[("GET", "/v1/presales/{presale_id}")] == ("promotions.read",)

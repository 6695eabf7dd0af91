"""Group buying over HTTP: offers, opening and joining groups, reading them, performance."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shopops.api.app import create_app
from shopops.api.introspection import iter_endpoints
from shopops.auth.permissions import Role
from shopops.bootstrap import Container
from shopops.contexts import customers
from tests.commerce import SYSTEM, add_skus, add_warehouse
from tests.group_buying.conftest import Shop, sell

ADDRESS = {
    "recipient": "Wang Fang",
    "line1": "88 Nanjing Road",
    "city": "Shanghai",
    "country": "CN",
}


@pytest.fixture
def buyers(container: Container) -> list[int]:
    add_skus(container, {"TEA": 9990})
    add_warehouse(container, "SH1", stock={"TEA": 20})
    found = []
    for number in range(3):
        with container.uow(SYSTEM) as uow:
            view = customers.register_customer(
                uow, customers.RegisterCustomer(email=f"b{number}@example.com")
            )
            uow.commit()
            found.append(view.id)
    return found


def offer_body(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    body = {
        "name": "Tea for two",
        "sku": "TEA",
        "group_price": "59.90",
        "group_size": 2,
        "duration_minutes": 60,
        "starts_at": (now - timedelta(minutes=5)).isoformat(),
        "ends_at": (now + timedelta(days=1)).isoformat(),
    }
    body.update(overrides)
    return body


def test_offers_and_groups_over_http(client_as: Any, buyers: list[int]) -> None:
    marketing, agent = client_as(Role.MARKETING), client_as(Role.CS_AGENT)
    denied = agent.post("/v1/group-buys", json=offer_body())
    assert (denied.status_code, denied.json()["code"]) == (403, "auth.permission_denied")
    bad = marketing.post("/v1/group-buys", json=offer_body(group_size=1, group_price="-1"))
    assert bad.status_code == 422
    assert sorted((e["field"], e["code"]) for e in bad.json()["errors"]) == [
        ("group_price", "group_buys.invalid_price"),
        ("group_size", "group_buys.invalid_size"),
    ]
    created = marketing.post("/v1/group-buys", json=offer_body())
    assert created.status_code == 201, created.text
    offer = created.json()
    assert (offer["list_price"], offer["group_price"], offer["currency"]) == (
        "99.90",
        "59.90",
        "USD",
    )
    assert [o["id"] for o in marketing.get("/v1/group-buys").json()["items"]] == [offer["id"]]

    url = f"/v1/group-buys/{offer['id']}/orders"
    opened = agent.post(url, json={"customer_id": buyers[0], "shipping_address": ADDRESS})
    assert opened.status_code == 201, opened.text
    first = opened.json()
    assert (first["opened"], first["total"], first["group"]["joined"]) == (True, "59.90", 1)
    group_id = first["group"]["id"]
    joined = agent.post(
        url, json={"customer_id": buyers[1], "group_id": group_id, "shipping_address": ADDRESS}
    )
    assert joined.status_code == 201, joined.text
    assert joined.json()["group"]["joined"] == 2
    full = agent.post(
        url, json={"customer_id": buyers[2], "group_id": group_id, "shipping_address": ADDRESS}
    )
    assert (full.status_code, full.json()["code"]) == (409, "group_buys.group_full")

    group = agent.get(f"/v1/group-buys/groups/{group_id}").json()
    assert [m["customer_id"] for m in group["members"]] == buyers[:2]
    assert [m["status"] for m in group["members"]] == ["joined", "joined"]
    order = agent.get(f"/v1/orders/{first['order_id']}").json()
    assert order["number"] == first["order_number"]
    listed = agent.get(f"/v1/group-buys/{offer['id']}/groups", params={"status": "open"}).json()
    assert [g["id"] for g in listed["items"]] == [group_id]

    ended = marketing.post(f"/v1/group-buys/{offer['id']}/end")
    assert ended.json()["status"] == "ended"
    refused = agent.post(url, json={"customer_id": buyers[2], "shipping_address": ADDRESS})
    assert (refused.status_code, refused.json()["code"]) == (409, "group_buys.offer_not_running")
    missing = agent.get("/v1/group-buys/groups/999")
    assert (missing.status_code, missing.json()["code"]) == (404, "group_buys.group_not_found")


def test_performance_over_http_and_the_cli_say_the_same(
    shop: Shop, staff_on: Any, client_on: Any, cli: Any
) -> None:
    offer = sell(shop)
    marketing = client_on(shop.container, staff_on(shop.container, Role.MARKETING).token)
    response = marketing.get(f"/v1/group-buys/{offer}/performance")
    assert response.status_code == 200, response.text
    body = response.json()
    assert datetime.fromisoformat(body.pop("as_of")) == shop.clock.now()
    assert body == {
        "offer_id": offer,
        "name": "Three for 59.90",
        "status": "active",
        "currency": "USD",
        "groups_opened": 3,
        "groups_succeeded": 1,
        "groups_failed": 1,
        "groups_open": 1,
        "success_rate": 0.5,
        "members_joined": 6,
        "members_left": 1,
        "orders_paid": 3,
        "orders_cancelled": 2,
        "orders_refunded": 1,
        "orders_refunded_amount": "59.90",
        "orders_succeeded": 2,
        "units_succeeded": 3,
        "discount": "120.00",
        "gmv": "179.70",
    }
    result = cli(shop.container, "group-buys", "performance", str(offer), "--format", "json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert datetime.fromisoformat(printed.pop("as_of")) == shop.clock.now()
    assert printed == body

    missing = marketing.get(f"/v1/group-buys/{offer + 1}/performance")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["code"] == "group_buys.not_found"
    for role in (Role.CS_AGENT, Role.WAREHOUSE, Role.FINANCE):  # no promotions.read
        denied = client_on(shop.container, staff_on(shop.container, role).token).get(
            f"/v1/group-buys/{offer}/performance"
        )
        assert (denied.status_code, denied.json()["code"]) == (403, "auth.permission_denied")
        assert denied.json()["details"] == {"permission": "promotions.read"}


def test_performance_is_guarded_like_reading_the_offer(container: Container) -> None:
    """The role matrix (tests/architecture) walks every guarded endpoint: this one is
    there, with the permission of reading the offer."""
    guards = {(e.method, e.path): e.permissions for e in iter_endpoints(create_app(container))}
    assert guards[("GET", "/v1/group-buys/{offer_id}/performance")] == ("promotions.read",)
    assert guards[("GET", "/v1/group-buys/{offer_id}")] == ("promotions.read",)

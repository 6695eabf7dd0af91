"""POST /v1/orders answers from the rows the batch wrote, not by reading the order back:
the answer must be exactly what GET /v1/orders/{id} returns right afterwards."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from shopops.auth.principal import actor_for_user
from shopops.contexts import access
from tests.commerce import add_warehouse
from tests.promotions.conftest import Shop, build_shop

ADDRESS = {
    "recipient": "  Wang Fang ",
    "line1": "88 Nanjing Road ",
    "line2": "Room 1203",
    "city": "Shanghai",
    "region": "CN-SH",
    "postal_code": "200001",
    "country": "cn",
    "phone": "13812345678",
}


@pytest.fixture
def shop(make_container: Any) -> Shop:
    # The system clock: every timestamp of the answer comes from its own clock reading.
    built = build_shop(make_container())
    add_warehouse(built.container, "SH1", stock={"TEE": 20, "SHOE": 10, "BAG": 10, "MUG": 3})
    built.create({"name": "Ten", "kind": "percentage", "params": {"percent": 10}})
    built.create(
        {
            "name": "Mug",
            "kind": "gift",
            "currency": "CNY",
            "params": {"sku": "MUG"},
            "conditions": {"min_spend": "250"},
        }
    )
    return built


def _storefront_token(shop: Shop, staff_on: Any) -> str:
    """A token for orders only, as a storefront holds: no `customers.pii.read`."""
    owner = staff_on(shop.container, "owner")
    with shop.container.uow(actor_for_user(owner.user)) as uow:
        issued = access.issue_token(
            uow, access.IssueToken("storefront", ("orders.read", "orders.write"))
        )
        uow.commit()
    return issued.secret


@pytest.mark.parametrize("caller", ["owner", "storefront"])
def test_the_answer_is_the_order_as_read_back(
    shop: Shop, staff_on: Any, client_on: Any, caller: str
) -> None:
    token = (
        staff_on(shop.container, "owner").token
        if caller == "owner"
        else _storefront_token(shop, staff_on)
    )
    client = client_on(shop.container, token)
    statements: list[str] = []
    event.listen(
        shop.container.engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_: statements.append(statement),
    )
    placed = client.post(
        "/v1/orders",
        json={
            "lines": [{"sku": "SHOE", "quantity": 1}, {"sku": "TEE", "quantity": 2}],
            "shipping_address": ADDRESS,
            "channel": "app",
            "guest": {"email": " Guest@Example.com", "name": "Guest Buyer", "phone": "139000011"},
            "tags": ["gift", " vip ", "gift"],
            "note": "ring twice",
        },
    )
    assert placed.status_code == 201, placed.text
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    read_back = [
        s
        for s in reads
        if any(f"FROM {table}" in s for table in ("orders", "order_lines", "order_events"))
        and "max(" not in s  # SQLite hands out keys after the current maximum
    ]
    assert read_back == []
    answer = placed.json()
    assert answer == client.get(f"/v1/orders/{answer['id']}").json()
    # and it is the whole order: discounted lines, the gift, stock held, the timeline
    assert [(line["sku"], line["total"]) for line in answer["lines"]] == [
        ("SHOE", "270.00"),
        ("TEE", "180.00"),
        ("MUG", "0.00"),
    ]
    assert [line["line_number"] for line in answer["lines"]] == [1, 2, 3]
    assert sorted((r["sku"], r["quantity"]) for r in answer["reservations"]) == [
        ("MUG", 1),
        ("SHOE", 1),
        ("TEE", 2),
    ]
    assert (answer["tags"], [e["kind"] for e in answer["timeline"]]) == (
        ["gift", "vip"],
        ["placed"],
    )
    assert answer["timeline"][0]["reason"] == "ring twice"
    contact, address = answer["contact"], answer["shipping_address"]
    if caller == "owner":
        assert (contact["guest_email"], address["recipient"]) == ("guest@example.com", "Wang Fang")
    else:
        assert contact["pii_masked"] is True
        assert (contact["guest_email"], address["phone"]) == ("g***@example.com", "138****5678")

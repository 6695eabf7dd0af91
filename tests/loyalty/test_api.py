"""/v1/loyalty over HTTP: settings, tiers, accounts and ledger, adjustments, campaigns."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from shopops.auth.permissions import Role
from tests.loyalty.conftest import Shop

LADDER: list[dict[str, Any]] = [
    {"code": "bronze", "name": "Bronze", "min_spend_minor": 0},
    {"code": "silver", "name": "Silver", "min_spend_minor": 10_000, "discount_percent": 2},
    {
        "code": "gold",
        "name": "Gold",
        "min_spend_minor": 50_000,
        "discount_percent": 5,
        "free_shipping": True,
        "points_multiplier_percent": 150,
    },
]
PROGRAM = {
    "currency": "USD",
    "points_per_unit": 2,
    "unit_size": 1,
    "credit_on": "paid",
    "redemption_cap_percent": 30,
    "point_value_minor": 1,
    "expiry_months": 6,
}


@pytest.fixture
def as_role(shop: Shop, staff_on: Any, client_on: Any) -> Any:
    def factory(role: Role) -> TestClient:
        return client_on(shop.container, staff_on(shop.container, role).token)

    return factory


@pytest.fixture
def marketing(as_role: Any) -> TestClient:
    return as_role(Role.MARKETING)


def test_program_settings(marketing: TestClient) -> None:
    assert marketing.get("/v1/loyalty/program").json() == {
        "currency": "USD",
        "points_per_unit": 1,
        "unit_size": 1,
        "credit_on": "paid",
        "redemption_cap_percent": 50,
        "point_value_minor": 1,
        "expiry_months": 12,
        "updated_at": None,
    }
    saved = marketing.put("/v1/loyalty/program", json=PROGRAM)
    assert saved.status_code == 200, saved.text
    assert {k: v for k, v in saved.json().items() if k != "updated_at"} == PROGRAM
    assert saved.json()["updated_at"] == "2026-03-01T08:00:00Z"
    bad = marketing.put(
        "/v1/loyalty/program", json=PROGRAM | {"credit_on": "shipped", "unit_size": 0}
    )
    assert bad.status_code == 422
    assert [(e["field"], e["code"]) for e in bad.json()["errors"]] == [
        ("unit_size", "loyalty.invalid_setting"),
        ("credit_on", "loyalty.invalid_setting"),
    ]
    assert marketing.get("/v1/loyalty/program").json()["points_per_unit"] == 2


def test_tiers_are_validated_in_order(marketing: TestClient) -> None:
    swapped = [LADDER[0], LADDER[2], LADDER[1]]
    refused = marketing.put("/v1/loyalty/tiers", json={"tiers": swapped})
    assert refused.status_code == 422
    assert refused.json()["code"] == "loyalty.tiers_out_of_order"
    assert refused.json()["errors"] == [
        {
            "field": "tiers.2.min_spend_minor",
            "code": "loyalty.tiers_out_of_order",
            "message": "must be above the previous tier's 50000",
        }
    ]
    assert marketing.get("/v1/loyalty/tiers").json() == []
    saved = marketing.put("/v1/loyalty/tiers", json={"tiers": LADDER})
    assert saved.status_code == 200, saved.text
    assert [t["code"] for t in saved.json()] == ["bronze", "silver", "gold"]
    assert marketing.get("/v1/loyalty/tiers").json()[2] == LADDER[2]


def test_an_account_with_its_ledger_pages(shop: Shop, marketing: TestClient, as_role: Any) -> None:
    buyer = shop.customer()
    shop.buy(buyer, ("TEE", 1))  # 20 points
    for points in (5, 6, 7):
        created = marketing.post(
            f"/v1/loyalty/accounts/{buyer}/adjustments", json={"points": points, "reason": "promo"}
        )
        assert created.status_code == 201, created.text
    reader = as_role(Role.CS_AGENT)
    account = reader.get(f"/v1/loyalty/accounts/{buyer}").json()
    assert (account["balance"], account["value_minor"], account["next_expiry_points"]) == (
        38,
        38,
        38,
    )
    seen: list[tuple[str, int]] = []
    cursor = None
    for _ in range(3):
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = reader.get(f"/v1/loyalty/accounts/{buyer}/ledger", params=params).json()
        seen += [(e["kind"], e["points"]) for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [("adjust", 7), ("adjust", 6), ("adjust", 5), ("earn", 20)]
    assert cursor is None
    missing = reader.get("/v1/loyalty/accounts/999")
    assert (missing.status_code, missing.json()["code"]) == (404, "loyalty.customer_not_found")


def test_adjustments_need_a_reason_and_a_balance(
    shop: Shop, marketing: TestClient, as_role: Any
) -> None:
    buyer = shop.customer()
    shop.buy(buyer, ("TEE", 1))
    url = f"/v1/loyalty/accounts/{buyer}/adjustments"
    agent = as_role(Role.CS_AGENT)
    before = shop.snapshot()
    over = marketing.post(url, json={"points": -21, "reason": "oops"})
    assert (over.status_code, over.json()["code"]) == (409, "loyalty.insufficient_points")
    assert over.json()["details"] == {"requested": 21, "balance": 20}
    blank = marketing.post(url, json={"points": 5, "reason": "  "})
    assert blank.status_code == 422
    assert blank.json()["errors"][0]["code"] == "loyalty.reason_required"
    assert marketing.post(url, json={"points": 5}).status_code == 422
    denied = agent.post(url, json={"points": 5, "reason": "me"})
    assert (denied.status_code, denied.json()["code"]) == (403, "auth.permission_denied")
    assert shop.snapshot() == before
    taken = marketing.post(url, json={"points": -20, "reason": "fraud"})
    assert (taken.status_code, taken.json()["balance"]) == (201, 0)


def test_campaigns_crud(marketing: TestClient) -> None:
    body = {
        "name": "Double weekend",
        "multiplier_percent": 200,
        "starts_at": "2026-03-06T00:00:00Z",
        "ends_at": "2026-03-09T00:00:00Z",
    }
    created = marketing.post("/v1/loyalty/campaigns", json=body)
    assert created.status_code == 201, created.text
    campaign_id = created.json()["id"]
    assert created.json()["is_active"] is True
    reversed_window = body | {"ends_at": "2026-03-01T00:00:00Z"}
    bad = marketing.post("/v1/loyalty/campaigns", json=reversed_window)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "ends_at"
    changed = marketing.patch(f"/v1/loyalty/campaigns/{campaign_id}", json={"is_active": False})
    assert changed.json()["is_active"] is False
    listed = marketing.get("/v1/loyalty/campaigns").json()
    assert [c["id"] for c in listed["items"]] == [campaign_id]
    assert marketing.get("/v1/loyalty/campaigns", params={"active_only": True}).json() == {
        "items": [],
        "next_cursor": None,
    }
    assert marketing.delete(f"/v1/loyalty/campaigns/{campaign_id}").status_code == 204
    gone = marketing.get(f"/v1/loyalty/campaigns/{campaign_id}")
    assert (gone.status_code, gone.json()["code"]) == (404, "loyalty.campaign_not_found")


def test_recalculate_tiers_now(shop: Shop, marketing: TestClient, as_role: Any) -> None:
    marketing.put("/v1/loyalty/tiers", json={"tiers": LADDER})
    buyer = shop.customer()
    shop.buy(buyer, ("TEE", 30))  # 600.00
    denied = as_role(Role.CS_AGENT).post("/v1/loyalty/recalculate-tiers")
    assert denied.status_code == 403
    result = marketing.post("/v1/loyalty/recalculate-tiers")
    assert result.json() == {"evaluated": 1, "upgraded": 1, "downgraded": 0}
    account = marketing.get(f"/v1/loyalty/accounts/{buyer}").json()
    assert (account["tier_code"], account["tier"]["free_shipping"]) == ("gold", True)
    customer = marketing.get(f"/v1/customers/{buyer}").json()
    assert customer["tier"] == "gold"

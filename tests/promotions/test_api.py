"""The promotions API: definitions in and out, coupons, the pricing simulator, errors."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from shopops.auth.permissions import Role
from shopops.contexts import loyalty
from tests.promotions.conftest import SYSTEM, Shop

TIERS: dict[str, Any] = {
    "name": "Spend more, save more",
    "kind": "spend_tiers",
    "currency": "CNY",
    "params": {"tiers": [{"spend": "300", "save": "50"}, {"spend": "500", "save": "100"}]},
    "stacking": {"exclusive": True},
    "limits": {"max_discount": "1000"},
}


@pytest.fixture
def marketing(shop: Shop, staff_on: Any, client_on: Any) -> TestClient:
    return client_on(shop.container, staff_on(shop.container, Role.MARKETING).token)  # type: ignore[no-any-return]


@pytest.fixture
def analyst(shop: Shop, staff_on: Any, client_on: Any) -> TestClient:
    return client_on(shop.container, staff_on(shop.container, Role.ANALYST).token)  # type: ignore[no-any-return]


def _created(client: TestClient, definition: dict[str, Any], *, activate: bool = True) -> int:
    response = client.post("/v1/promotions", json=definition)
    assert response.status_code == 201, response.text
    promotion_id = int(response.json()["id"])
    if activate:
        assert client.post(f"/v1/promotions/{promotion_id}/activate").status_code == 200
    return promotion_id


def test_promotion_lifecycle_over_http(marketing: TestClient) -> None:
    response = marketing.post("/v1/promotions", json=TIERS)
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["revision"], body["kind"]) == ("draft", 1, "spend_tiers")
    assert body["params"] == {
        "tiers": [{"spend": "300.00", "save": "50.00"}, {"spend": "500.00", "save": "100.00"}]
    }
    assert body["stacking"] == {
        "group": "order",
        "priority": 100,
        "exclusive": True,
        "combinable_with": None,
    }
    assert body["usage"] == {"redemptions_used": 0, "budget_used": "0.00", "units_sold": None}
    promotion_id = body["id"]
    active = marketing.post(f"/v1/promotions/{promotion_id}/activate").json()
    assert active["status"] == "active"
    patched = marketing.patch(
        f"/v1/promotions/{promotion_id}", json={"limits": {"per_customer": 1}}
    )
    assert patched.json()["limits"]["per_customer"] == 1
    assert patched.json()["limits"]["max_discount"] == "1000.00"
    assert patched.json()["revision"] == 2
    page = marketing.get("/v1/promotions", params={"status": "active", "limit": 1}).json()
    assert [p["id"] for p in page["items"]] == [promotion_id]
    again = marketing.post(f"/v1/promotions/{promotion_id}/activate")
    assert (again.status_code, again.json()["code"]) == (409, "promotions.invalid_status")
    assert marketing.post(f"/v1/promotions/{promotion_id}/deactivate").json()["status"] == (
        "inactive"
    )


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"params": {"percent": 120}}, "promotions.invalid_percentage"),
        (
            {"schedule": {"starts_at": "2026-03-01T00:00:00Z", "ends_at": "2026-02-01T00:00:00Z"}},
            "promotions.invalid_schedule",
        ),
        ({"kind": "teleport"}, "promotions.unknown_kind"),
    ],
)
def test_bad_definitions_are_problem_details_with_stable_codes(
    marketing: TestClient, shop: Shop, change: dict[str, Any], code: str
) -> None:
    before = shop.counts()
    definition = {"name": "Bad", "kind": "percentage", "params": {"percent": 10}, **change}
    response = marketing.post("/v1/promotions", json=definition)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    assert response.json()["errors"][0]["code"] == code
    assert shop.counts() == before


def test_validate_returns_the_canonical_form_and_saves_nothing(
    marketing: TestClient, shop: Shop
) -> None:
    before = shop.counts()
    response = marketing.post(
        "/v1/promotions/validate",
        json={"name": "Second half", "kind": "nth_item", "params": {"n": 2, "percent": 50}},
    )
    assert response.status_code == 200
    assert response.json()["params"] == {"n": 2, "percent": "50"}
    assert shop.counts() == before


def test_coupons_over_http(marketing: TestClient) -> None:
    voucher = {
        "name": "Voucher",
        "kind": "fixed_amount",
        "currency": "CNY",
        "params": {"amount": "20"},
        "requires_coupon": True,
    }
    promotion_id = _created(marketing, voucher)
    public = marketing.post(
        f"/v1/promotions/{promotion_id}/coupons", json={"code": "spring10", "max_uses": 100}
    )
    assert public.status_code == 201
    assert (public.json()["code"], public.json()["max_uses"]) == ("SPRING10", 100)
    taken = marketing.post(f"/v1/promotions/{promotion_id}/coupons", json={"code": "SPRING10"})
    assert (taken.status_code, taken.json()["code"]) == (409, "coupons.code_taken")
    batch = marketing.post(
        f"/v1/promotions/{promotion_id}/coupon-batches", json={"count": 25, "prefix": "VIP"}
    )
    assert batch.status_code == 201
    codes = batch.json()["codes"]
    assert len(set(codes)) == 25
    assert all(code.startswith("VIP-") for code in codes)
    listed = marketing.get("/v1/coupons", params={"batch_id": batch.json()["id"], "limit": 10})
    assert len(listed.json()["items"]) == 10
    rest = marketing.get(
        "/v1/coupons",
        params={"batch_id": batch.json()["id"], "cursor": listed.json()["next_cursor"]},
    )
    assert len(rest.json()["items"]) == 15
    assert marketing.get(f"/v1/coupons/{codes[0].lower()}").json()["used"] == 0
    missing = marketing.get("/v1/coupons/NOPE")
    assert (missing.status_code, missing.json()["code"]) == (404, "coupons.not_found")


def test_quote_prices_a_cart_and_explains_every_promotion(
    marketing: TestClient, analyst: TestClient, shop: Shop
) -> None:
    tiers = _created(marketing, TIERS)
    ten = _created(
        marketing,
        {
            "name": "Ten",
            "kind": "percentage",
            "params": {"percent": 10},
            "stacking": {"group": "ten"},
        },
    )
    ship = _created(
        marketing,
        {
            "name": "Free shipping",
            "kind": "free_shipping",
            "params": {},
            "conditions": {"min_spend": "99"},
            "currency": "CNY",
        },
    )
    gold = _created(
        marketing,
        {
            "name": "Gold",
            "kind": "percentage",
            "params": {"percent": 5},
            "conditions": {"tiers": ["gold"]},
        },
    )
    cart = {
        "currency": "CNY",
        "lines": [{"sku": "SHOE", "quantity": 2}],
        "shipping": {"method": "standard", "fee": "12.00"},
        "tax_rate": "13",
    }
    before = shop.counts()
    response = analyst.post("/v1/pricing/quote", json=cart)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["subtotal"] == "600.00"
    # the exclusive tier (100.00) beats ten percent plus free shipping (60.00 + 12.00)
    assert (body["discount"], body["total"]) == ("100.00", "512.00")
    assert [(a["promotion_id"], a["discount"]) for a in body["applied"]] == [(tiers, "100.00")]
    assert {c["promotion_id"]: c["reason"] for c in body["explanation"]} == {
        tiers: "applied",
        ten: f"not_combinable_with:{tiers}",
        ship: f"not_combinable_with:{tiers}",
        gold: "customer_required",
    }
    assert body["tax"] == "58.90"  # 13 % included in 512.00
    assert body["lines"][0]["discounts"] == [
        {"promotion_id": tiers, "amount": "100.00", "level": "order"}
    ]
    assert shop.counts() == before  # a quote writes nothing


def test_quote_errors_are_clear(analyst: TestClient) -> None:
    def problem(cart: dict[str, Any]) -> tuple[int, str]:
        response = analyst.post("/v1/pricing/quote", json=cart)
        return response.status_code, response.json()["code"]

    line = [{"sku": "TEE", "quantity": 1}]
    assert problem({"currency": "CNY", "lines": line, "coupon_codes": ["NOPE"]}) == (
        422,
        "coupons.not_found",
    )
    assert problem({"currency": "USD", "lines": line}) == (422, "pricing.currency_mismatch")
    assert problem({"currency": "CNY", "lines": [{"sku": "ZZZ", "quantity": 1}]}) == (
        422,
        "pricing.unknown_sku",
    )
    assert problem({"currency": "CNY", "lines": []}) == (422, "pricing.empty_cart")


def test_first_order_is_worked_out_from_the_customers_orders(
    marketing: TestClient, analyst: TestClient, shop: Shop
) -> None:
    first = _created(
        marketing,
        {
            "name": "Welcome",
            "kind": "fixed_amount",
            "currency": "CNY",
            "params": {"amount": "10"},
            "conditions": {"first_order_only": True},
        },
    )
    cart = {
        "currency": "CNY",
        "lines": [{"sku": "TEE", "quantity": 1}],
        "customer_id": shop.ids["customer:gold"],
    }
    body = analyst.post("/v1/pricing/quote", json=cart).json()
    assert body["applied"][0]["promotion_id"] == first
    told = analyst.post("/v1/pricing/quote", json={**cart, "first_order": False}).json()
    assert told["explanation"][0]["reason"] == "not_first_order"


def test_writing_needs_promotions_write(analyst: TestClient, shop: Shop) -> None:
    before = shop.counts()
    response = analyst.post("/v1/promotions", json=TIERS)
    assert (response.status_code, response.json()["code"]) == (403, "auth.permission_denied")
    assert shop.counts() == before


def test_a_customers_quote_shows_their_tier_discount(
    marketing: TestClient, analyst: TestClient, shop: Shop
) -> None:
    with shop.container.uow(SYSTEM) as uow:
        loyalty.replace_tiers(
            uow,
            loyalty.ReplaceTiers((loyalty.TierSpec("gold", "Gold", 0, discount_percent=3),)),
        )
        uow.commit()
    ten = _created(marketing, {"name": "Ten", "kind": "percentage", "params": {"percent": 10}})
    cart = {"currency": "CNY", "lines": [{"sku": "TEE", "quantity": 2}], "first_order": False}
    member = analyst.post(
        "/v1/pricing/quote", json={**cart, "customer_id": shop.ids["customer:gold"]}
    ).json()
    # 10 % of 200.00, then the gold tier's 3 % of the 180.00 left
    assert (member["discount"], member["total"]) == ("25.40", "174.60")
    assert [
        (a["promotion_id"], a["name"], a["kind"], a["discount"]) for a in member["applied"]
    ] == [
        (ten, "Ten", "percentage", "20.00"),
        (-1, "Gold member 3% off", "member_discount", "5.40"),
    ]
    assert [(c["promotion_id"], c["reason"], c["discount"]) for c in member["explanation"]] == [
        (-1, "applied", "5.40"),
        (ten, "applied", "20.00"),
    ]
    assert member["lines"][0]["discounts"][-1] == {
        "promotion_id": -1,
        "amount": "5.40",
        "level": "order",
    }
    for other in ({**cart, "customer_id": shop.ids["customer:plain"]}, cart):
        body = analyst.post("/v1/pricing/quote", json=other).json()
        assert (body["total"], [c["promotion_id"] for c in body["explanation"]]) == (
            "180.00",
            [ten],
        )

"""Console promotion pages: list, the promotion form with inline validation, activation,
coupons, performance and the cart simulator."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from shopops.audit.models import AuditEntry
from shopops.auth.permissions import Role
from shopops.bootstrap import Container
from shopops.contexts import promotions
from shopops.contexts.promotions.models import Coupon, Promotion
from shopops.kernel.events import Actor
from tests.commerce import add_skus
from tests.console.conftest import ConsoleClient, ConsoleFactory

SYSTEM = Actor.system("test")

PERCENT: dict[str, Any] = {
    "name": "Summer ten",
    "description": "",
    "kind": "percentage",
    "currency": "USD",
    "params.percent": "10",
    "params.applies_to": "items",
    "params.max_discount": "",
    "schedule.starts_at": "",
    "schedule.ends_at": "",
    "schedule.start_time": "",
    "schedule.end_time": "",
    "scope.products": "",
    "scope.categories": "",
    "scope.brands": "",
    "scope.exclude_products": "",
    "scope.exclude_categories": "",
    "scope.exclude_brands": "",
    "conditions.min_spend": "",
    "conditions.min_quantity": "",
    "conditions.tiers": "",
    "conditions.segments": "",
    "stacking.group": "",
    "stacking.priority": "100",
    "stacking.combinable_with": "",
    "limits.max_discount": "500",
    "limits.max_redemptions": "",
    "limits.per_customer": "",
    "limits.quota_units": "",
    "limits.per_customer_units": "",
}


@pytest.fixture
def skus(container: Container) -> None:
    add_skus(container, {"TEE": 10_000, "MUG": 2_500}, currency="USD", cost=500)


def _promotions(container: Container) -> list[tuple[str, str, str, dict[str, Any]]]:
    with container.session_factory() as session:
        rows = session.scalars(select(Promotion).order_by(Promotion.id)).all()
        return [(r.name, r.kind, r.status, dict(r.params)) for r in rows]


def _audit_count(container: Container) -> int:
    with container.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def _create(container: Container, definition: dict[str, Any], *, active: bool = True) -> int:
    with container.uow(SYSTEM) as uow:
        view = promotions.create_promotion(uow, promotions.CreatePromotion(definition))
        if active:
            promotions.activate_promotion(uow, view.id)
        uow.commit()
    return view.id


def _field_error(html: str, key: str) -> str:
    found = re.search(rf'data-field="{re.escape(key)}">([^<]+)<', html)
    assert found is not None, f"no error for {key}"
    return found.group(1)


# --- the list -----------------------------------------------------------------------------


def test_the_list_empty_and_with_promotions(
    console_as: ConsoleFactory, container: Container
) -> None:
    owner = console_as(Role.OWNER)
    empty = owner.get("/console/promotions")
    assert empty.status_code == 200
    assert "No promotions yet." in empty.text
    first = _create(
        container,
        {
            "name": "Spend more",
            "kind": "spend_tiers",
            "currency": "USD",
            "params": {"tiers": [{"spend": "100", "save": "10"}, {"spend": "200", "save": "25"}]},
            "schedule": {"starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-02-01T00:00:00Z"},
            "stacking": {"group": "vouchers", "priority": 5, "exclusive": True},
            "limits": {"max_discount": "1000"},
        },
    )
    second = _create(
        container, {"name": "Ship free", "kind": "free_shipping", "params": {}}, active=False
    )
    page = owner.get("/console/promotions").text
    assert re.findall(r'data-promotion="(\d+)"', page) == [str(first), str(second)]
    row = page[page.index(f'data-promotion="{first}"') : page.index(f'data-promotion="{second}"')]
    assert "Spend tiers" in row
    assert 'data-status="active"' in row
    assert "vouchers · priority 5" in row
    assert "Exclusive" in row
    assert "$0.00 / $1,000.00" in row
    assert "1/1/30" in row  # the schedule, in the store's time zone
    drafts = owner.get("/console/promotions?status=draft", headers={"HX-Request": "true"})
    assert re.findall(r'data-promotion="(\d+)"', drafts.text) == [str(second)]
    assert "<html" not in drafts.text
    bad = owner.get("/console/promotions?status=paused")
    assert bad.status_code == 422
    assert 'data-field="status"' in bad.text


def test_reading_needs_promotions_read(console_as: ConsoleFactory) -> None:
    for url in ("/console/promotions", "/console/promotions/simulator", "/console/promotions/1"):
        response = console_as(Role.CS_AGENT).get(url)
        assert response.status_code == 403, url
        assert 'data-code="auth.permission_denied"' in response.text


# --- the form -----------------------------------------------------------------------------


def test_creating_a_promotion_from_the_form(
    console_as: ConsoleFactory, container: Container, skus: None
) -> None:
    marketing = console_as(Role.MARKETING)
    form = marketing.get("/console/promotions/new")
    assert form.status_code == 200
    assert 'name="params.percent"' in form.text
    params = marketing.get("/console/promotions/params?kind=spend_tiers")
    assert 'name="params.tiers.0.spend"' in params.text
    assert 'name="params.percent"' not in params.text

    created = marketing.post(
        "/console/promotions",
        {
            **PERCENT,
            "schedule.starts_at": "2030-01-01T09:00",
            "schedule.weekdays": ["5", "6"],
            "conditions.channels": ["web", "app"],
            "stacking.exclusive": "1",
            "activate": "1",
        },
    )
    assert created.status_code == 200, created.text
    [(name, kind, status, params_stored)] = _promotions(container)
    assert (name, kind, status, params_stored) == (
        "Summer ten",
        "percentage",
        "active",
        {"percent": "10", "applies_to": "items"},
    )
    with container.session_factory() as session:
        row = session.scalars(select(Promotion)).one()
        assert row.starts_at == datetime(2030, 1, 1, 9, tzinfo=UTC)
        assert row.recurring is not None
        assert row.recurring["weekdays"] == [5, 6]
        assert row.conditions["channels"] == ["app", "web"]
        assert row.exclusive
        assert row.max_discount_minor == 50_000
    assert created.headers["HX-Redirect"] == f"/console/promotions/{row.id}"

    plain = marketing.post("/console/promotions", {**PERCENT, "name": "Draft one"}, htmx=False,
                           follow_redirects=False)  # fmt: skip
    assert plain.status_code == 303
    assert [p[2] for p in _promotions(container)] == ["active", "draft"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"params.percent": "150"}, "params.percent", "A percentage must be between 0 and 100."),
        (
            {"schedule.starts_at": "2030-02-01T00:00", "schedule.ends_at": "2030-01-01T00:00"},
            "schedule.ends_at",
            "The schedule is not valid: the end must be after the start.",
        ),
        ({"name": "  "}, "name", "Give the promotion a name."),
        ({"limits.max_redemptions": "lots"}, "limits.max_redemptions", "Enter a whole number."),
        ({"scope.products": "9999"}, "scope.products", "Enter ids of existing items"),
        (
            {"schedule.start_time": "22:00", "schedule.end_time": "08:00"},
            "schedule.end_time",
            "Pick weekdays or a daily time window",
        ),
    ],
)
def test_a_bad_promotion_is_a_422_beside_the_field_and_nothing_is_written(
    console_as: ConsoleFactory,
    container: Container,
    skus: None,
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    marketing = console_as(Role.MARKETING)
    before = _audit_count(container)
    response = marketing.post("/console/promotions", {**PERCENT, **changes})
    assert response.status_code == 422
    assert message in _field_error(response.text, field)
    assert "Nothing was saved." in response.text
    assert 'value="Summer ten"' in response.text or field == "name"  # the input is kept
    assert _promotions(container) == []
    assert _audit_count(container) == before


def test_tiers_out_of_order_and_several_problems_at_once(
    console_as: ConsoleFactory, container: Container
) -> None:
    response = console_as(Role.MARKETING).post(
        "/console/promotions",
        {
            **PERCENT,
            "kind": "spend_tiers",
            "params.tiers.0.spend": "200",
            "params.tiers.0.save": "20",
            "params.tiers.1.spend": "100",
            "params.tiers.1.save": "30",
            "limits.quota_units": "5",
        },
    )
    assert response.status_code == 422
    assert _field_error(response.text, "params.tiers.1") == (
        "Tiers must go up in spend and in discount."
    )
    assert "flash sales and gifts" in _field_error(response.text, "limits.quota_units")
    assert 'value="200"' in response.text
    assert _promotions(container) == []


def test_an_overlapping_flash_sale_cannot_be_activated(
    console_as: ConsoleFactory, container: Container, skus: None
) -> None:
    window = {"starts_at": "2030-03-01T00:00:00Z", "ends_at": "2030-03-08T00:00:00Z"}
    _create(
        container,
        {
            "name": "Week sale",
            "kind": "flash_price",
            "currency": "USD",
            "params": {"price": "50"},
            "schedule": window,
            "limits": {"quota_units": 100},
        },
    )
    response = console_as(Role.MARKETING).post(
        "/console/promotions",
        {
            **PERCENT,
            "name": "Weekend sale",
            "kind": "flash_price",
            "params.price": "60",
            "schedule.starts_at": "2030-03-06T00:00",
            "schedule.ends_at": "2030-03-10T00:00",
            "limits.max_discount": "",
            "limits.quota_units": "20",
            "activate": "1",
        },
    )
    assert response.status_code == 422
    assert _field_error(response.text, "schedule.starts_at") == (
        "This schedule overlaps another one of the same promotion."
    )
    assert [p[0] for p in _promotions(container)] == ["Week sale"]


def test_editing_a_promotion(console_as: ConsoleFactory, container: Container, skus: None) -> None:
    promotion_id = _create(
        container,
        {"name": "Ten off", "kind": "percentage", "currency": "USD", "params": {"percent": 10}},
    )
    marketing = console_as(Role.MARKETING)
    form = marketing.get(f"/console/promotions/{promotion_id}/edit")
    assert form.status_code == 200
    assert 'name="params.percent" value="10"' in form.text
    saved = marketing.post(
        f"/console/promotions/{promotion_id}/edit",
        {**PERCENT, "name": "Fifteen off", "params.percent": "15", "limits.max_discount": ""},
    )
    assert saved.status_code == 200
    assert saved.headers["HX-Redirect"] == f"/console/promotions/{promotion_id}"
    assert _promotions(container) == [
        ("Fifteen off", "percentage", "active", {"percent": "15", "applies_to": "items"})
    ]
    refused = marketing.post(
        f"/console/promotions/{promotion_id}/edit", {**PERCENT, "params.percent": "0"}
    )
    assert refused.status_code == 422
    assert _field_error(refused.text, "params.percent") == (
        "A percentage must be between 0 and 100."
    )
    assert _promotions(container)[0][3]["percent"] == "15"


def test_writing_needs_promotions_write(
    console_as: ConsoleFactory, container: Container, skus: None
) -> None:
    analyst = console_as(Role.ANALYST)
    assert analyst.get("/console/promotions/new").status_code == 403
    refused = analyst.post("/console/promotions", {**PERCENT, "activate": "1"})
    assert refused.status_code == 403
    assert 'data-code="auth.permission_denied"' in refused.text
    assert _promotions(container) == []
    promotion_id = _create(
        container,
        {"name": "Ten off", "kind": "percentage", "params": {"percent": 10}},
        active=False,
    )
    assert analyst.post(f"/console/promotions/{promotion_id}/activate").status_code == 403
    assert _promotions(container)[0][2] == "draft"
    page = analyst.get(f"/console/promotions/{promotion_id}").text
    assert "/activate" not in page
    assert "/edit" not in page


# --- a promotion: switching, performance, coupons ----------------------------------------


def test_activate_and_deactivate(console_as: ConsoleFactory, container: Container) -> None:
    promotion_id = _create(
        container,
        {"name": "Ten off", "kind": "percentage", "params": {"percent": 10}},
        active=False,
    )
    marketing = console_as(Role.MARKETING)
    page = marketing.get(f"/console/promotions/{promotion_id}").text
    assert f'hx-post="/console/promotions/{promotion_id}/activate"' in page
    assert "No order has used this promotion yet." in page
    assert marketing.post(f"/console/promotions/{promotion_id}/activate").status_code == 200
    assert _promotions(container)[0][2] == "active"
    again = marketing.post(f"/console/promotions/{promotion_id}/activate")
    assert again.status_code == 409  # shown in the flash area
    assert 'data-code="promotions.invalid_status"' in again.text
    assert marketing.post(f"/console/promotions/{promotion_id}/deactivate").status_code == 200
    assert _promotions(container)[0][2] == "inactive"
    assert marketing.get("/console/promotions/999").status_code == 404


def test_performance_of_a_promotion(
    console_as: ConsoleFactory, container: Container, skus: None
) -> None:
    promotion_id = _create(
        container,
        {
            "name": "Ten off",
            "kind": "percentage",
            "currency": "USD",
            "params": {"percent": 10},
            "limits": {"max_discount": "100", "max_redemptions": 50},
        },
    )
    with container.uow(SYSTEM) as uow:
        for number in ("A-1", "A-2"):
            priced = promotions.quote(
                uow, promotions.PricingRequest((promotions.PricingLine("TEE", 2),))
            )
            promotions.redeem(uow, number, priced, None)
        uow.commit()
    owner = console_as(Role.ANALYST)
    page = owner.get(f"/console/promotions/{promotion_id}")
    text = page.text
    # two orders of 2 x $100.00 at 10 % off: $20.00 off each, $180.00 paid each
    row = re.search(r'data-currency="USD">(.*?)</tr>', text, re.S)
    assert row is not None
    cells = re.findall(r'class="num">([^<]+)<', row.group(1))
    assert cells == ["2", "$40.00", "$360.00", "0"]
    assert re.search(r'data-kpi="redemptions">.*?class="value">2<', text, re.S)
    assert "of $100.00 (40.0%)" in text
    partial = owner.get(
        f"/console/promotions/{promotion_id}/performance", headers={"HX-Request": "true"}
    )
    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert "$360.00" in partial.text
    moved = owner.get(f"/console/promotions/{promotion_id}/performance", follow_redirects=False)
    assert moved.status_code == 303
    assert moved.headers["location"] == f"/console/promotions/{promotion_id}#performance"


def test_coupon_codes_and_batches(
    console_as: ConsoleFactory, container: Container, skus: None
) -> None:
    promotion_id = _create(
        container,
        {
            "name": "Code ten",
            "kind": "percentage",
            "currency": "USD",
            "params": {"percent": 10},
            "requires_coupon": True,
        },
    )
    marketing = console_as(Role.MARKETING)
    page = marketing.get(f"/console/promotions/{promotion_id}").text
    assert "No coupon codes yet." in page
    created = marketing.post(
        f"/console/promotions/{promotion_id}/coupons", {"code": "spring10", "max_uses": "100"}
    )
    assert created.status_code == 200
    assert "Coupon code SPRING10 created." in created.text
    assert 'data-coupon="SPRING10"' in created.text
    taken = marketing.post(f"/console/promotions/{promotion_id}/coupons", {"code": "SPRING10"})
    assert taken.status_code == 422
    assert _field_error(taken.text, "code") == "This code is already taken."
    bad = marketing.post(
        f"/console/promotions/{promotion_id}/coupons", {"code": "x", "max_uses": "0"}
    )
    assert bad.status_code == 422
    assert _field_error(bad.text, "max_uses") == "Enter a number greater than zero."

    batch = marketing.post(
        f"/console/promotions/{promotion_id}/coupon-batches",
        {"count": "5", "length": "10", "prefix": "VIP", "max_uses": "1"},
    )
    assert batch.status_code == 200
    assert "5 codes generated." in batch.text
    shown = re.search(r"<textarea[^>]*data-codes>(.*?)</textarea>", batch.text, re.S)
    assert shown is not None
    codes = shown.group(1).split()
    assert len(codes) == 5
    assert all(c.startswith("VIP") for c in codes)
    with container.session_factory() as session:
        stored = set(session.scalars(select(Coupon.code)).all())
    assert stored == {"SPRING10", *codes}
    short = marketing.post(
        f"/console/promotions/{promotion_id}/coupon-batches", {"count": "5000", "length": "6"}
    )
    assert short.status_code == 422
    assert "length" in short.text
    assert 'data-field="length"' in short.text
    with container.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Coupon)) == 6


# --- the simulator ------------------------------------------------------------------------


def _simulate(console: ConsoleClient, query: str) -> Any:
    return console.get(f"/console/promotions/simulator?{query}", headers={"HX-Request": "true"})


def _explained(html: str) -> dict[int, tuple[str, str]]:
    return {
        int(p): (applied, reason)
        for p, applied, reason in re.findall(
            r'data-promotion="(\d+)" data-applied="(\w+)" data-reason="([^"]+)"', html
        )
    }


def test_the_simulator_prices_and_explains(
    console_as: ConsoleFactory, container: Container, skus: None
) -> None:
    ten = _create(
        container,
        {"name": "Ten off", "kind": "percentage", "currency": "USD", "params": {"percent": 10}},
    )
    tiers = _create(
        container,
        {
            "name": "Spend 500",
            "kind": "spend_tiers",
            "currency": "USD",
            "params": {"tiers": [{"spend": "500", "save": "50"}]},
        },
    )
    coded = _create(
        container,
        {
            "name": "Members",
            "kind": "fixed_amount",
            "currency": "USD",
            "params": {"amount": "5"},
            "requires_coupon": True,
        },
    )
    _create(container, {"name": "Draft", "kind": "percentage", "params": {"percent": 50}},
            active=False)  # fmt: skip
    analyst = console_as(Role.ANALYST)
    start = analyst.get("/console/promotions/simulator")
    assert start.status_code == 200
    assert "Enter at least one SKU" in start.text

    result = _simulate(analyst, "sku=TEE&qty=2&sku=MUG&qty=1&sku=&qty=&channel=web")
    assert result.status_code == 200
    text = result.text
    assert _explained(text) == {
        ten: ("true", "applied"),
        tiers: ("false", "min_spend_not_met"),
        coded: ("false", "coupon_required"),
    }
    assert "Minimum spend not reached" in text
    assert "Needs its coupon code" in text
    totals = dict(re.findall(r'data-total="(\w+)">(?:<strong>)?([^<]+)<', text))
    # 2 x $100.00 + $25.00 = $225.00; 10 % off each line: $22.50
    assert totals["subtotal"] == "$225.00"
    assert totals["item_discount"] == "$22.50"
    assert totals["total"] == "$202.50"


def test_simulator_input_problems_are_shown_beside_the_fields(
    console_as: ConsoleFactory, skus: None
) -> None:
    analyst = console_as(Role.ANALYST)
    unknown = _simulate(analyst, "sku=TEE&qty=1&sku=NOPE&qty=2")
    assert unknown.status_code == 422
    assert _field_error(unknown.text, "lines.1.sku") == "No product has this SKU."
    bad_quantity = _simulate(analyst, "sku=TEE&qty=0")
    assert bad_quantity.status_code == 422
    assert 'data-field="lines.0.quantity"' in bad_quantity.text
    no_code = _simulate(analyst, "sku=TEE&qty=1&coupons=NOSUCH")
    assert no_code.status_code == 422
    assert _field_error(no_code.text, "coupons") == "This coupon code does not exist."
    stranger = _simulate(analyst, "sku=TEE&qty=1&customer_id=424242")
    assert stranger.status_code == 422
    assert 'data-field="customer_id"' in stranger.text

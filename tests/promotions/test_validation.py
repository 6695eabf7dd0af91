"""Promotion definitions: bad input gets one clear error code per problem; good input
round-trips through its canonical form unchanged."""

from __future__ import annotations

from typing import Any

import pytest

from shopops.contexts.promotions import KINDS, definition_json, parse_definition
from shopops.kernel.errors import ValidationFailed


def _error(definition: dict[str, Any]) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        parse_definition(definition)
    return caught.value


def _base(**overrides: Any) -> dict[str, Any]:
    return {"name": "Test", "kind": "percentage", "params": {"percent": 10}, **overrides}


@pytest.mark.parametrize("percent", [101, 0, -5, "12.345", "abc", True])
def test_a_percentage_outside_0_to_100_is_refused(percent: object) -> None:
    error = _error(_base(params={"percent": percent}))
    assert error.code == "promotions.invalid_percentage"
    assert [e.field for e in error.errors] == ["params.percent"]


def test_tiers_out_of_order_are_refused() -> None:
    tiers = [{"spend": "500", "save": "100"}, {"spend": "300", "save": "50"}]
    error = _error(_base(kind="spend_tiers", currency="CNY", params={"tiers": tiers}))
    assert error.code == "promotions.tiers_out_of_order"
    assert error.errors[0].field == "params.tiers.1"
    shrinking = [{"spend": "300", "save": "80"}, {"spend": "500", "save": "50"}]
    assert (
        _error(_base(kind="spend_tiers", currency="CNY", params={"tiers": shrinking})).code
        == "promotions.tiers_out_of_order"
    )


@pytest.mark.parametrize(
    "schedule",
    [
        {"starts_at": "2026-03-02T00:00:00Z", "ends_at": "2026-03-01T00:00:00Z"},
        {"starts_at": "2026-03-01T00:00:00"},  # no time zone
        {"starts_at": "next tuesday"},
        {"recurring": {"weekdays": [7]}},
        {"recurring": {"weekdays": [2], "start_time": "22:00", "end_time": "10:00"}},
        {"recurring": {"weekdays": [2], "timezone": "Mars/Olympus"}},
        {"recurring": {}},
    ],
)
def test_invalid_schedules_are_refused(schedule: dict[str, Any]) -> None:
    assert _error(_base(schedule=schedule)).code == "promotions.invalid_schedule"


def test_amounts_need_a_currency_and_a_sane_value() -> None:
    assert (
        _error(_base(kind="fixed_amount", params={"amount": "5"})).code
        == "promotions.currency_required"
    )
    assert (
        _error(_base(kind="fixed_amount", currency="JPY", params={"amount": "5.5"})).code
        == "promotions.invalid_amount"
    )


def test_every_problem_is_listed_together() -> None:
    error = _error({"kind": "teleport", "stacking": {"priority": -1}, "colour": "red"})
    assert error.code == "promotions.invalid_definition"
    assert sorted(e.code for e in error.errors) == [
        "promotions.invalid_name",
        "promotions.invalid_stacking",
        "promotions.unknown_field",
        "promotions.unknown_kind",
    ]


def test_stacking_and_limits_contradictions_are_refused() -> None:
    contradiction = _base(stacking={"exclusive": True, "combinable_with": [3]})
    assert _error(contradiction).code == "promotions.invalid_stacking"
    assert _error(_base(limits={"quota_units": 5})).code == "promotions.invalid_limits"


EXAMPLES: dict[str, dict[str, Any]] = {
    "percentage": {"percent": "12.5", "applies_to": "order", "max_discount": "50.00"},
    "fixed_amount": {"amount": "5.00", "per": "unit"},
    "spend_tiers": {"tiers": [{"spend": "300.00", "save": "50.00"}]},
    "repeating_threshold": {"every": "300.00", "save": "30.00", "max_discount": "90.00"},
    "multi_buy": {"buy": 2, "get": 1, "percent": "100", "max_applications": 3},
    "nth_item": {"n": 2, "percent": "50"},
    "gift": {"sku": "MUG", "quantity": 1},
    "free_shipping": {"methods": ["standard"], "max_fee": "10.00"},
    "flash_price": {"price": "9.90"},
}


@pytest.mark.parametrize("kind", KINDS)
def test_canonical_definitions_round_trip(kind: str) -> None:
    definition = {
        "name": f"A {kind}",
        "kind": kind,
        "currency": "CNY",
        "params": EXAMPLES[kind],
        "scope": {"categories": [3], "exclude_products": [9]},
        "schedule": {
            "starts_at": "2026-03-01T00:00:00+00:00",
            "ends_at": "2026-04-01T00:00:00+00:00",
            "recurring": {"weekdays": [2], "days_of_month": [8, 18], "timezone": "Asia/Shanghai"},
        },
        "conditions": {"min_spend": "100", "tiers": ["gold"], "first_order_only": True},
        "stacking": {"group": "spring", "priority": 5, "combinable_with": [2, "shipping"]},
        "limits": {"max_discount": "10000", "max_redemptions": 500, "per_customer": 1},
    }
    canonical = definition_json(parse_definition(definition, 1))
    assert canonical["params"] == EXAMPLES[kind]
    assert canonical["conditions"]["min_spend"] == "100.00"
    assert canonical["stacking"]["combinable_with"] == [2, "shipping"]
    assert definition_json(parse_definition(canonical, 1)) == canonical

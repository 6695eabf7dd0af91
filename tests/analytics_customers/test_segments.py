"""Segment rules: validation errors that say what is allowed, and evaluation by hand."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from shopops.analytics.customers import segments
from shopops.analytics.customers.clv.summary import Transactions
from shopops.analytics.customers.features import CustomerAttributes, build_features
from shopops.kernel.errors import ValidationFailed

AS_OF = 20_000  # a day number
VIP_REGULARS_OR_STORE = {
    "any": [
        {
            "all": [
                {"field": "tag", "op": "has", "value": "vip"},
                {"field": "order_count", "op": "gte", "value": 3},
            ]
        },
        {"field": "source_channel", "op": "eq", "value": "store"},
    ]
}


@pytest.fixture
def table() -> Any:
    """Customers 1..5: 1 big recent spender, 2 lapsed, 3 one order, 4 none, 5 erased."""
    transactions = Transactions.from_arrays(
        customer_id=[1, 1, 1, 2, 2, 3, 5],
        day=[AS_OF - 300, AS_OF - 100, AS_OF - 2, AS_OF - 400, AS_OF - 200, AS_OF - 3, AS_OF - 1],
        amount=[50_000, 30_000, 40_000, 2_000, 3_000, 1_500, 9_999],
    )
    attributes = CustomerAttributes(
        customer_id=np.array([1, 2, 3, 4, 5]),
        tier=["gold", None, "silver", None, "gold"],
        region=["CN-SH", "CN-BJ", "CN-SH", None, "CN-SH"],
        source_channel=["web", "store", "web", "web", "web"],
        tags=[["vip"], ["vip", "wholesale"], [], ["newsletter"], ["vip"]],
        erased=np.array([False, False, False, False, True]),
    )
    purchases = {
        "bought_product": (np.array([1, 2, 3]), ["10", "11", "10"]),
        "bought_category": (np.array([1, 1, 2, 3]), ["7", "8", "8", "7"]),
    }
    return build_features(transactions, attributes, as_of_day=AS_OF, purchases=purchases)


def members(rule: dict[str, Any], table: Any) -> list[int]:
    mask = segments.evaluate(segments.parse_rule(rule), table)
    return [int(c) for c in table.customer_id[mask]]


def test_the_feature_table_by_hand(table: Any) -> None:
    assert table.numeric["order_count"].tolist() == [3, 2, 1, 0, 1]
    assert table.numeric["total_spend"].tolist() == [120_000, 5_000, 1_500, 0, 9_999]
    assert table.numeric["recency_days"][:3].tolist() == [2, 200, 3]
    assert np.isnan(table.numeric["recency_days"][3])
    assert table.text["lifecycle_stage"].tolist() == [
        "high_value", "churned", "new", "prospect", "new",
    ]  # fmt: skip
    assert table.text["rfm_segment"][3] == ""  # no orders, no RFM


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"field": "total_spend", "op": "gte", "value": 5000}, [1, 2]),
        ({"field": "order_count", "op": "between", "value": [1, 2]}, [2, 3]),
        ({"field": "recency_days", "op": "lt", "value": 30}, [1, 3]),
        ({"not": {"field": "recency_days", "op": "lt", "value": 30}}, [2, 4]),  # 4: no orders
        ({"field": "tier", "op": "eq", "value": "gold"}, [1]),  # 5 is erased
        ({"field": "tier", "op": "ne", "value": "gold"}, [2, 3, 4]),
        ({"field": "region", "op": "in", "value": ["CN-BJ", "CN-SH"]}, [1, 2, 3]),
        ({"field": "tag", "op": "has", "value": "vip"}, [1, 2]),
        ({"field": "tag", "op": "has_all", "value": ["vip", "wholesale"]}, [2]),
        ({"field": "tag", "op": "has_none", "value": ["vip"]}, [3, 4]),
        ({"field": "bought_product", "op": "has", "value": 10}, [1, 3]),
        ({"field": "bought_category", "op": "has_any", "value": ["8"]}, [1, 2]),
        ({"field": "lifecycle_stage", "op": "in", "value": ["churned", "prospect"]}, [2, 4]),
        ({"field": "predicted_clv", "op": "gt", "value": 0}, []),  # no model fitted
        (VIP_REGULARS_OR_STORE, [1, 2]),
    ],
)
def test_rules_select_by_hand(rule: dict[str, Any], expected: list[int], table: Any) -> None:
    assert members(rule, table) == expected


def test_an_unknown_field_lists_the_allowed_fields() -> None:
    rule = {
        "all": [
            {"field": "favourite_colour", "op": "eq", "value": "red"},
            {"field": "total_spend", "op": "gte", "value": 10},
            {"field": "shoe_size", "op": "gt", "value": 40},
        ]
    }
    with pytest.raises(ValidationFailed) as raised:
        segments.parse_rule(rule)
    error = raised.value
    assert error.code == "segments.unknown_field"
    assert error.message.startswith("unknown field(s) favourite_colour, shoe_size; allowed fields:")
    assert "total_spend" in error.message
    assert "bought_category" in error.message
    assert error.details == {"allowed_fields": list(segments.FIELDS)}
    assert [(e.field, e.code) for e in error.errors] == [
        ("rule.all[0].field", "segments.unknown_field"),
        ("rule.all[2].field", "segments.unknown_field"),
    ]


def test_every_other_problem_is_reported_together() -> None:
    rule = {
        "any": [
            {"field": "total_spend", "op": "has", "value": 1},
            {"field": "order_count", "op": "gte", "value": "three"},
            {"field": "rfm_segment", "op": "eq", "value": "Whales"},
            {"field": "order_count", "op": "between", "value": [5, 1]},
            {"field": "tag", "op": "has_any", "value": []},
            {"field": "tier", "op": "eq"},
            {"every": []},
            "total_spend > 5",
        ]
    }
    with pytest.raises(ValidationFailed) as raised:
        segments.parse_rule(rule)
    error = raised.value
    assert error.code == "segments.invalid_rule"
    assert [(e.field, e.code) for e in error.errors] == [
        ("rule.any[0].op", "segments.unknown_operator"),
        ("rule.any[1].value", "segments.invalid_value"),
        ("rule.any[2].value", "segments.invalid_value"),
        ("rule.any[3].value", "segments.invalid_value"),
        ("rule.any[4].value", "segments.invalid_value"),
        ("rule.any[5].value", "segments.invalid_value"),
        ("rule.any[6]", "segments.invalid_rule"),
        ("rule.any[7]", "segments.invalid_rule"),
    ]
    assert "eq, ne, gt, gte, lt, lte, between" in error.errors[0].message
    assert "Champions" in error.errors[2].message


def test_rules_cannot_nest_forever() -> None:
    rule: dict[str, Any] = {"field": "order_count", "op": "gt", "value": 0}
    for _ in range(segments.MAX_DEPTH + 1):
        rule = {"not": rule}
    with pytest.raises(ValidationFailed) as raised:
        segments.parse_rule(rule)
    assert raised.value.errors[0].message == f"rules nest at most {segments.MAX_DEPTH} deep"


def test_csv_export_of_selected_rows(table: Any) -> None:
    mask = segments.evaluate(
        segments.parse_rule({"field": "tier", "op": "eq", "value": "gold"}), table
    )
    lines = table.csv_text(mask).splitlines()
    assert lines[0].startswith("customer_id,order_count,total_spend,")
    assert len(lines) == 2
    # id, orders, spend, average, recency, tenure, R, F, M, (no CLV model: 3 blanks), texts
    assert lines[1] == "1,3,120000,40000,2,300,3,4,4,,,,gold,CN-SH,web,Loyal,high_value"

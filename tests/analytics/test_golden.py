"""Golden KPI values: the shop of dataset.py, every number worked out by hand.

Days are Shanghai days (UTC+8): order O2 placed at 17:00Z on 1 March counts on
2 March, and the cancelled O3 placed at 16:30Z on 28 February counts on 1 March.
"""

from __future__ import annotations

import pytest

from tests.analytics.conftest import KpiRunner, values

MAR1, MAR2 = "2026-03-01", "2026-03-02"


@pytest.mark.parametrize(
    ("name", "mar1", "mar2", "total"),
    [
        # Mar 1: O1 = A x2 @1000 (200 off) + B x1 @5000. Mar 2: O2 = A x1 @1000, O4 = B x1.
        ("gmv", 7000, 6000, 13000),
        # net = line totals - refunds: 6800; 6000 - 1000 (O2 refunded)
        ("net_sales", 6800, 5000, 11800),
        ("orders", 1, 2, 3),
        ("units", 3, 2, 5),
        ("average_order_value", 6800, 3000, round(12800 / 3, 6)),
        ("units_per_order", 3, 1, round(5 / 3, 6)),
        ("buyers", 1, 2, 2),
        # customer 1's first order is O1 (Mar 1); customer 2 first bought in January
        ("new_buyers", 1, 0, 1),
        ("returning_buyers", 0, 2, 1),
        # O3 (cancelled, 10000) and O1 placed on Mar 1
        ("cancellation_rate", 0.5, 0, 0.25),
        ("cancellation_rate_value", round(10000 / 17000, 6), 0, round(10000 / 23000, 6)),
        ("refund_rate", 0, 0.5, round(1 / 3, 6)),
        ("refund_rate_value", 0, round(1000 / 6000, 6), round(1000 / 12800, 6)),
        ("return_rate", 0, 0.5, round(1 / 3, 6)),
        ("return_rate_value", 0, round(1000 / 6000, 6), round(1000 / 13000, 6)),
        ("discount_rate", round(200 / 7000, 6), 0, round(200 / 13000, 6)),
        # cost A 400, B 2000: Mar 1 (6800 - 2800) / 6800; Mar 2 (6000 - 2400) / 6000
        ("gross_margin", round(4000 / 6800, 6), 0.6, round(7600 / 12800, 6)),
        # customer 1's cohort (Mar 1) bought again 25 hours later
        ("repurchase_rate_30d", 1, None, 1),
        ("repurchase_rate_365d", 1, None, 1),
        # Mar 1: P1 captured. Mar 2 (local): P2 failed, P3 refunded (succeeded), P4 pending
        ("payment_success_rate", 1, 0.5, round(2 / 3, 6)),
        # S1 shipped Mar 1 before its ship-by, 4 h after payment, delivered 2 days later;
        # S2 shipped Mar 2 after its ship-by, 14 h after payment, not delivered yet
        ("on_time_shipment_rate", 1, 0, 0.5),
        ("average_hours_to_ship", 4, 14, 9),
        ("average_days_to_deliver", 2, None, 2),
        # O1 used "Spring" (200 off): (6800 - 200) / 200
        ("promotion_redemptions", 1, 0, 1),
        ("promotion_roi", 33, None, 33),
    ],
)
def test_sales_and_operations(
    run_kpi: KpiRunner, name: str, mar1: object, mar2: object, total: object
) -> None:
    assert values(run_kpi(name)) == {MAR1: mar1, MAR2: mar2, "total": total}


@pytest.mark.parametrize(
    ("name", "mar1", "mar2", "total"),
    [
        # Stock (units/value at cost): start of Mar 1 20/11200, end of Mar 1 17/8400,
        # end of Mar 2 15/6000. Sold: Mar 1 3 units (2800), Mar 2 2 units (2400).
        ("inventory_turnover", round(2800 / 9800, 6), round(2400 / 7200, 6), round(5200 / 8600, 6)),
        ("days_of_cover", round(17 / 3, 6), 7.5, 6),
        # B at SH1 is out at the end of Mar 2 (back in on Mar 5): 1 of 3 positions
        ("stockout_rate", 0, round(1 / 3, 6), round(1 / 3, 6)),
        ("sell_through", 0.15, round(2 / 17, 6), 0.25),
    ],
)
def test_inventory(
    run_kpi: KpiRunner, name: str, mar1: object, mar2: object, total: object
) -> None:
    assert values(run_kpi(name)) == {MAR1: mar1, MAR2: mar2, "total": total}


def test_breakdowns(run_kpi: KpiRunner) -> None:
    assert values(run_kpi("gmv", by="channel", grain=None)) == {
        "app": 1000,
        "web": 12000,
        "total": 13000,
    }
    assert values(run_kpi("gmv", by="category", grain=None)) == {
        "Shoes": 10000,
        "Tops": 3000,
        "total": 13000,
    }
    assert values(run_kpi("orders", by="customer_tier", grain=None)) == {
        "(none)": 1,
        "gold": 2,
        "guest": 0,  # the guest's only order was cancelled
        "total": 3,
    }
    assert values(run_kpi("cancellation_rate", by="customer_tier", grain=None)) == {
        "(none)": 0,
        "gold": 0,
        "guest": 1,
        "total": 0.25,
    }
    assert values(run_kpi("gmv", by="promotion", grain=None)) == {
        "(none)": 6000,
        "Spring": 7000,
        "total": 13000,
    }
    assert values(run_kpi("on_time_shipment_rate", by="warehouse", grain=None)) == {
        "BJ1": 0,
        "SH1": 1,
        "total": 0.5,
    }
    assert values(run_kpi("stockout_rate", by="warehouse", grain=None)) == {
        "BJ1": 0,
        "SH1": 0.5,
        "total": round(1 / 3, 6),
    }
    by_day = values(run_kpi("gmv", by="channel", grain="day"))
    assert by_day == {
        f"{MAR1}|app": 0,
        f"{MAR1}|web": 7000,
        f"{MAR2}|app": 1000,
        f"{MAR2}|web": 5000,
        "total": 13000,
    }


def test_comparison_with_the_previous_period(run_kpi: KpiRunner) -> None:
    # the previous window is 27-28 February (local): no orders then
    answer = run_kpi("gmv", compare="previous")
    assert [(r.period, r.value, r.comparison) for r in answer.rows] == [
        (MAR1, 7000, 0),
        (MAR2, 6000, 0),
    ]
    assert answer.comparison_period is not None
    assert str(answer.comparison_period.start.date()) == "2026-02-27"
    assert answer.total.change is None  # nothing to compare with


def test_comparison_with_last_year(run_kpi: KpiRunner) -> None:
    answer = run_kpi("orders", compare="last_year", grain=None)
    assert answer.comparison_period is not None
    assert str(answer.comparison_period.start.date()) == "2025-03-01"
    assert (answer.total.value, answer.total.comparison) == (3, 0)


def test_week_and_month_grains(run_kpi: KpiRunner) -> None:
    # 1 March 2026 is a Sunday: the week of 23 February, then the week of 2 March
    assert values(run_kpi("gmv", grain="week")) == {
        "2026-02-23": 7000,
        "2026-03-02": 6000,
        "total": 13000,
    }
    assert values(run_kpi("gmv", grain="month")) == {"2026-03": 13000, "total": 13000}
    hours = values(run_kpi("orders", grain="hour"))
    assert len(hours) == 49
    assert hours["2026-03-01T09:00"] == 1  # O1 at 01:00Z
    assert hours["2026-03-02T01:00"] == 1  # O2 at 17:00Z the day before
    assert sum(v for k, v in hours.items() if k != "total") == 3  # type: ignore[misc]

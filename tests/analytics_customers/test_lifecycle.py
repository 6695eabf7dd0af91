"""Lifecycle stages of hand-made histories, as the days go by."""

from __future__ import annotations

import pytest

from shopops.analytics.customers import lifecycle
from shopops.analytics.customers.lifecycle import LifecycleWindows, Stage
from shopops.kernel.errors import ValidationFailed

WINDOWS = LifecycleWindows(
    new_days=7, at_risk_days=60, churn_days=120, reactivated_days=30,
    long_term_days=365, long_term_min_orders=3, high_value_min_spend=100_000,
)  # fmt: skip


def stage_on(day: int, orders: list[tuple[int, int]], windows: LifecycleWindows = WINDOWS) -> str:
    """The stage on ``day`` of one customer with (day, amount) orders."""
    seen = sorted(o for o in orders if o[0] <= day)
    days = sorted({d for d, _ in seen})
    result = lifecycle.stages(
        as_of_day=day,
        order_count=[len(seen)],
        first_day=[days[0] if days else day],
        last_day=[days[-1] if days else day],
        gap_before_last=[days[-1] - days[-2] if len(days) >= 2 else 0],
        total_spend=[sum(a for _, a in seen)],
        windows=windows,
    )
    return str(result[0])


def test_a_customer_going_through_every_stage() -> None:
    history = [(0, 5_000), (20, 5_000), (200, 5_000), (230, 5_000), (600, 90_000)]
    timeline = {day: stage_on(day, history) for day in (-1, 0, 7, 8, 59, 80, 140, 200, 229, 230)}
    assert timeline == {
        -1: Stage.PROSPECT,  # nothing bought yet
        0: Stage.NEW,
        7: Stage.NEW,  # first order 7 days ago: still new
        8: Stage.ACTIVE,
        59: Stage.ACTIVE,  # last order 39 days ago
        80: Stage.AT_RISK,  # 60 days without an order
        140: Stage.CHURNED,  # 120 days without an order
        200: Stage.REACTIVATED,  # came back after 180 days
        229: Stage.REACTIVATED,  # still within 30 days of the comeback
        230: Stage.ACTIVE,  # a regular order again, 30 days after the last one
    }
    assert stage_on(400, history) == Stage.CHURNED  # last order day 230
    assert stage_on(600, history) == Stage.REACTIVATED  # spent 110,000 but came back today
    assert stage_on(631, history) == Stage.HIGH_VALUE  # the comeback window closed


def test_long_term_needs_tenure_and_orders() -> None:
    loyal = [(0, 1_000), (150, 1_000), (300, 1_000), (360, 1_000)]
    assert stage_on(364, loyal) == Stage.ACTIVE  # not a year yet
    assert stage_on(366, loyal) == Stage.LONG_TERM
    assert stage_on(366, [loyal[0], loyal[3]]) == Stage.REACTIVATED  # 2 orders, 360 days apart
    assert stage_on(400, [loyal[0], loyal[3]]) == Stage.ACTIVE  # 2 orders are not long-term


def test_high_value_by_share_of_buyers() -> None:
    windows = LifecycleWindows(high_value_top_share=0.25)
    stages = lifecycle.stages(
        as_of_day=100,
        order_count=[1, 1, 1, 1, 0],
        first_day=[50, 50, 50, 50, 100],
        last_day=[90, 90, 90, 90, 100],
        gap_before_last=[0, 0, 0, 0, 0],
        total_spend=[100, 200, 300, 400, 0],
        windows=windows,
    )
    assert stages.tolist() == ["active", "active", "active", "high_value", "prospect"]


def test_windows_must_make_sense() -> None:
    with pytest.raises(ValidationFailed) as raised:
        LifecycleWindows(at_risk_days=200, churn_days=100)
    assert raised.value.code == "lifecycle.invalid_windows"

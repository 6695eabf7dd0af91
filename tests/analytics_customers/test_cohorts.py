"""Cohort matrices worked out by hand on a tiny history, and the heatmap PNG."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from shopops.analytics.customers import cohorts
from shopops.analytics.customers.clv.summary import Transactions, day_number
from shopops.kernel.errors import ValidationFailed


def tx(rows: list[tuple[int, date, float]]) -> Transactions:
    return Transactions.from_arrays(
        [r[0] for r in rows], [day_number(r[1]) for r in rows], [r[2] for r in rows]
    )


# January cohort: customers 1, 2, 3; February cohort: 4, 5. As of 2026-03-15.
HISTORY = tx(
    [
        (1, date(2026, 1, 5), 100.0),
        (1, date(2026, 1, 20), 50.0),  # same month: counts once for customers
        (1, date(2026, 2, 3), 30.0),
        (2, date(2026, 1, 9), 200.0),
        (2, date(2026, 3, 1), 20.0),
        (3, date(2026, 1, 31), 10.0),
        (4, date(2026, 2, 14), 40.0),
        (4, date(2026, 3, 14), 60.0),
        (5, date(2026, 2, 28), 80.0),
        (6, date(2026, 3, 20), 999.0),  # after as_of: not seen
    ]
)
AS_OF = day_number(date(2026, 3, 15))


def nan_to_none(matrix: np.ndarray) -> list[list[float | None]]:
    return [[None if math.isnan(v) else v for v in row] for row in matrix.tolist()]


def test_monthly_customer_retention() -> None:
    matrix = cohorts.cohort_matrix(HISTORY, periods=3, as_of_day=AS_OF)
    assert matrix.cohorts == ("2026-01", "2026-02")  # nobody started in March
    assert matrix.sizes.tolist() == [3, 2]
    assert nan_to_none(matrix.values) == [[3, 1, 1], [2, 1, None]]
    assert nan_to_none(matrix.rates) == [[1.0, 1 / 3, 1 / 3], [1.0, 0.5, None]]


def test_large_customer_ids_give_the_same_matrix() -> None:
    """Ids far apart take the sorting path rather than the direct index."""
    far = Transactions(HISTORY.customer_id * 10**12, HISTORY.day, HISTORY.amount)
    for measure in ("customers", "revenue"):
        near = cohorts.cohort_matrix(HISTORY, measure=measure, periods=3, as_of_day=AS_OF)
        apart = cohorts.cohort_matrix(far, measure=measure, periods=3, as_of_day=AS_OF)
        assert nan_to_none(apart.values) == nan_to_none(near.values)
        assert apart.sizes.tolist() == near.sizes.tolist() == [3, 2]


def test_monthly_revenue_retention() -> None:
    matrix = cohorts.cohort_matrix(HISTORY, measure="revenue", periods=3, as_of_day=AS_OF)
    assert nan_to_none(matrix.values) == [[360.0, 30.0, 20.0], [120.0, 60.0, None]]
    assert nan_to_none(matrix.rates) == [[1.0, 30 / 360, 20 / 360], [1.0, 0.5, None]]


def test_only_the_last_periods_are_shown() -> None:
    matrix = cohorts.cohort_matrix(HISTORY, periods=2, as_of_day=AS_OF)
    assert matrix.cohorts == ("2026-02",)  # January is 3 months back
    assert nan_to_none(matrix.values) == [[2, 1]]


def test_weekly_cohorts_start_on_monday() -> None:
    history = tx(
        [
            (1, date(2026, 3, 2), 10.0),  # Monday
            (1, date(2026, 3, 10), 10.0),  # next week's Tuesday
            (2, date(2026, 3, 8), 10.0),  # Sunday: the same week as the Monday
            (3, date(2026, 3, 9), 10.0),  # Monday of week 2
        ]
    )
    matrix = cohorts.cohort_matrix(history, grain="week", periods=2)
    assert matrix.cohorts == ("2026-03-02", "2026-03-09")
    assert matrix.sizes.tolist() == [2, 1]
    assert nan_to_none(matrix.values) == [[2, 1], [1, None]]


def test_csv_and_heatmap(tmp_path: Path) -> None:
    matrix = cohorts.cohort_matrix(HISTORY, periods=3, as_of_day=AS_OF)
    assert matrix.csv_text().splitlines() == [
        "cohort,customers,0,1,2",
        "2026-01,3,1,0.333333,0.333333",
        "2026-02,2,1,0.5,",
    ]
    written = matrix.heatmap(tmp_path / "cohorts.png")
    data = written.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 5_000


def test_no_history_and_bad_options() -> None:
    empty = cohorts.cohort_matrix(tx([]), periods=4)
    assert empty.cohorts == ()
    assert empty.values.shape == (0, 4)
    with pytest.raises(ValidationFailed):
        cohorts.cohort_matrix(HISTORY, periods=0)

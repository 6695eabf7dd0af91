"""How well a purchase model fits: likelihood figures and calibration against the holdout.

The holdout check is the one of Fader, Hardie & Lee (2005, figure 4): group
customers by their calibration frequency (the last group open-ended, "7+"),
and compare the mean number of purchases they actually made in the holdout
period with the mean the model expected for them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from shopops.analytics.customers.clv.summary import CustomerSummary
from shopops.analytics.customers.clv.value import PurchaseModel


@dataclass(frozen=True)
class FitStatistics:
    log_likelihood: float
    n_customers: int
    n_parameters: int

    @property
    def aic(self) -> float:
        return 2 * self.n_parameters - 2 * self.log_likelihood

    @property
    def bic(self) -> float:
        return self.n_parameters * math.log(max(self.n_customers, 1)) - 2 * self.log_likelihood


@dataclass(frozen=True)
class HoldoutRow:
    frequency: str  # "0" … "6", then "7+"
    customers: int
    actual_mean: float
    predicted_mean: float


@dataclass(frozen=True)
class HoldoutCalibration:
    holdout_length: float  # in model time units
    rows: tuple[HoldoutRow, ...]
    actual_total: float
    predicted_total: float

    @property
    def mean_absolute_error(self) -> float:
        """Customer-weighted mean absolute gap between the bins' actual and predicted means."""
        customers = sum(row.customers for row in self.rows)
        if customers == 0:
            return 0.0
        gaps = sum(row.customers * abs(row.actual_mean - row.predicted_mean) for row in self.rows)
        return gaps / customers


def calibration_vs_holdout(
    model: PurchaseModel, summary: CustomerSummary, *, max_frequency: int = 7
) -> HoldoutCalibration:
    """Actual against expected holdout purchases, by calibration frequency."""
    predicted = model.expected_purchases(
        summary.holdout_length, summary.frequency, summary.recency, summary.T
    )
    actual = summary.holdout_frequency
    bins = np.minimum(summary.frequency, max_frequency).astype(np.int64)
    rows: list[HoldoutRow] = []
    for value in range(max_frequency + 1):
        members = bins == value
        count = int(members.sum())
        label = f"{value}+" if value == max_frequency else str(value)
        rows.append(
            HoldoutRow(
                frequency=label,
                customers=count,
                actual_mean=float(actual[members].mean()) if count else 0.0,
                predicted_mean=float(predicted[members].mean()) if count else 0.0,
            )
        )
    return HoldoutCalibration(
        holdout_length=summary.holdout_length,
        rows=tuple(rows),
        actual_total=float(actual.sum()),
        predicted_total=float(predicted.sum()),
    )

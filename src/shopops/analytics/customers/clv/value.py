"""Customer lifetime value: a purchase model times a spend model, discounted.

    CLV = Σ_k  E[M] · (E[X(kΔ)] - E[X((k-1)Δ)]) / (1 + d)^k,   k = 1 … horizon/Δ

with Δ the discounting period (a month of 30 days by default), d the rate per
period derived from an annual discount rate, E[X(t)] the purchase model's
conditional expected purchases and E[M] the Gamma-Gamma expected mean
transaction value. Amounts are in the unit the spend model was fitted in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike

from shopops.analytics.customers.clv.fitting import Array
from shopops.analytics.customers.clv.gammagamma import GammaGammaParams
from shopops.kernel.errors import ValidationFailed


class PurchaseModel(Protocol):
    """What BG/NBD and Pareto/NBD parameters both offer."""

    def as_dict(self) -> dict[str, float]: ...

    def probability_alive(self, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Array: ...

    def expected_purchases(
        self,
        t: float | ArrayLike,
        x: ArrayLike,
        t_x: ArrayLike,
        T: ArrayLike,
    ) -> Array: ...


@dataclass(frozen=True)
class Discounting:
    horizon_days: int = 365
    period_days: int = 30
    annual_rate: float = 0.10

    def __post_init__(self) -> None:
        if self.horizon_days <= 0 or self.period_days <= 0 or self.annual_rate < 0:
            raise ValidationFailed(
                "clv.invalid_discounting",
                "horizon and period must be positive days and the rate not negative",
            )

    @property
    def rate_per_period(self) -> float:
        return float((1.0 + self.annual_rate) ** (self.period_days / 365.0) - 1.0)


def lifetime_value(
    purchases: PurchaseModel,
    spend: GammaGammaParams,
    *,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary: ArrayLike,
    unit_days: float,
    discounting: Discounting | None = None,
) -> Array:
    """Expected discounted value of each customer's purchases over the horizon."""
    terms = discounting or Discounting()
    x = np.asarray(frequency, dtype=np.float64)
    t_x = np.asarray(recency, dtype=np.float64)
    observed = np.asarray(T, dtype=np.float64)
    average = spend.expected_average_value(x, np.asarray(monetary, dtype=np.float64))
    periods = math.ceil(terms.horizon_days / terms.period_days)
    total = np.zeros_like(x)
    previous = np.zeros_like(x)
    for k in range(1, periods + 1):
        days = min(k * terms.period_days, terms.horizon_days)
        cumulative = purchases.expected_purchases(days / unit_days, x, t_x, observed)
        total += (cumulative - previous) / (1.0 + terms.rate_per_period) ** k
        previous = cumulative
    return np.asarray(total * average, dtype=np.float64)

"""Lifecycle stages from order history, with configurable windows (in days).

The first rule that matches wins, in this order:

1. ``prospect``: no order yet;
2. ``churned``: no order for ``churn_days`` or more;
3. ``at_risk``: no order for ``at_risk_days`` or more;
4. ``new``: the first order is at most ``new_days`` old;
5. ``reactivated``: the last order came after a gap of at least ``churn_days``
   (the customer had churned) and is at most ``reactivated_days`` old;
6. ``high_value``: total spend at least ``high_value_min_spend`` (minor units)
   or, when that is not set, in the top ``high_value_top_share`` of buyers;
7. ``long_term``: first order at least ``long_term_days`` ago and at least
   ``long_term_min_orders`` orders;
8. ``active``: everyone else (ordered within ``at_risk_days``).

Days are whole business days: an order placed today is 0 days old.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

from shopops.kernel.errors import ValidationFailed


class Stage(StrEnum):
    PROSPECT = "prospect"
    NEW = "new"
    ACTIVE = "active"
    HIGH_VALUE = "high_value"
    LONG_TERM = "long_term"
    AT_RISK = "at_risk"
    CHURNED = "churned"
    REACTIVATED = "reactivated"


@dataclass(frozen=True)
class LifecycleWindows:
    new_days: int = 7
    at_risk_days: int = 90
    churn_days: int = 180
    reactivated_days: int = 30
    long_term_days: int = 365
    long_term_min_orders: int = 3
    high_value_min_spend: int | None = None
    high_value_top_share: float = 0.10

    def __post_init__(self) -> None:
        problems: list[str] = []
        if min(self.new_days, self.reactivated_days, self.long_term_days) < 0:
            problems.append("windows cannot be negative")
        if not 0 < self.at_risk_days < self.churn_days:
            problems.append("at_risk_days must be positive and less than churn_days")
        if not 0 < self.high_value_top_share <= 1:
            problems.append("high_value_top_share must be in (0, 1]")
        if problems:
            raise ValidationFailed("lifecycle.invalid_windows", "; ".join(problems))


def stages(
    *,
    as_of_day: int,
    order_count: ArrayLike,
    first_day: ArrayLike,
    last_day: ArrayLike,
    gap_before_last: ArrayLike,
    total_spend: ArrayLike,
    windows: LifecycleWindows | None = None,
) -> NDArray[np.str_]:
    """The stage of each customer as of ``as_of_day`` (a day number).

    ``gap_before_last`` is the days between the last two order days (0 with
    fewer than two). ``first_day``/``last_day`` are ignored where there is no order.
    """
    w = windows or LifecycleWindows()
    orders = np.asarray(order_count, dtype=np.int64)
    first = np.asarray(first_day, dtype=np.int64)
    last = np.asarray(last_day, dtype=np.int64)
    gap = np.asarray(gap_before_last, dtype=np.int64)
    spend = np.asarray(total_spend, dtype=np.float64)
    buyer = orders > 0
    recency = as_of_day - last
    tenure = as_of_day - first
    if w.high_value_min_spend is not None:
        threshold = float(w.high_value_min_spend)
    elif buyer.any():
        threshold = float(np.quantile(spend[buyer], 1.0 - w.high_value_top_share))
    else:
        threshold = np.inf
    conditions = [
        ~buyer,
        recency >= w.churn_days,
        recency >= w.at_risk_days,
        tenure <= w.new_days,
        (orders >= 2) & (gap >= w.churn_days) & (recency <= w.reactivated_days),
        spend >= threshold,
        (tenure >= w.long_term_days) & (orders >= w.long_term_min_orders),
    ]
    choices = [
        Stage.PROSPECT,
        Stage.CHURNED,
        Stage.AT_RISK,
        Stage.NEW,
        Stage.REACTIVATED,
        Stage.HIGH_VALUE,
        Stage.LONG_TERM,
    ]
    return np.asarray(
        np.select(conditions, [str(c) for c in choices], default=str(Stage.ACTIVE)),
        dtype=np.str_,
    )

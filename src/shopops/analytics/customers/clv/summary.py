"""From transactions to the (frequency, recency, T, monetary) summary the models are fitted on.

Transactions are ``(customer_id, day, amount)`` with ``day`` the business date
as a day number (days since 1970-01-01). Purchases on the same day by the same
customer count as one purchase (their amounts add up), as in the published
CDNOW analyses. For the calibration period ending on ``calibration_end``
(inclusive), per customer:

* ``frequency`` (x): repeat purchase days, i.e. purchase days after the first;
* ``recency`` (t_x): time from the first purchase to the last one;
* ``T``: time from the first purchase to the end of calibration;
* ``monetary``: mean amount of the repeat purchases (the first is left out, as
  the Gamma-Gamma model is fitted on repeat spend); 0 when x is 0;

and for the holdout period ``(calibration_end, observation_end]`` the number of
purchase days and their total. Times are in units of ``unit_days`` days (7 for
the weekly CDNOW figures). Customers whose first purchase falls after the
calibration end are not in the summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from shopops.analytics.customers.clv.fitting import Array
from shopops.kernel.errors import ValidationFailed

EPOCH = date(1970, 1, 1)
IntArray = NDArray[np.int64]


def day_number(moment: date | datetime) -> int:
    """Day number of a date; an aware datetime counts by its UTC date."""
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            raise ValidationFailed("clv.naive_datetime", "pass an aware datetime")
        moment = moment.astimezone(UTC).date()
    return (moment - EPOCH).days


def day_to_date(day: int) -> date:
    return date.fromordinal(EPOCH.toordinal() + int(day))


@dataclass(frozen=True)
class Transactions:
    """Columnar transactions: one row per order (or per purchase line of a data set)."""

    customer_id: IntArray
    day: IntArray
    amount: Array

    def __post_init__(self) -> None:
        sizes = {len(self.customer_id), len(self.day), len(self.amount)}
        if len(sizes) != 1:
            raise ValidationFailed("clv.invalid_input", "transaction columns differ in length")

    def __len__(self) -> int:
        return len(self.customer_id)

    @classmethod
    def from_arrays(cls, customer_id: ArrayLike, day: ArrayLike, amount: ArrayLike) -> Transactions:
        return cls(
            np.asarray(customer_id, dtype=np.int64),
            np.asarray(day, dtype=np.int64),
            np.asarray(amount, dtype=np.float64),
        )

    @classmethod
    def from_frame(
        cls,
        frame: Any,
        *,
        customer: str = "customer_id",
        moment: str = "placed_at",
        amount: str = "amount",
        timezone: str = "UTC",
    ) -> Transactions:
        """From a pandas DataFrame; ``moment`` holds datetimes (naive ones are taken as UTC)
        and becomes the business date in ``timezone``."""
        moments = pd.to_datetime(frame[moment], utc=True).dt.tz_convert(timezone)
        days = moments.dt.tz_localize(None).to_numpy().astype("datetime64[D]").astype(np.int64)
        return cls.from_arrays(frame[customer].to_numpy(), days, frame[amount].to_numpy())

    def until(self, last_day: int) -> Transactions:
        keep = self.day <= last_day
        return Transactions(self.customer_id[keep], self.day[keep], self.amount[keep])


@dataclass(frozen=True)
class PurchaseDays:
    """Transactions collapsed to one row per (customer, day), sorted by customer then day."""

    customer_id: IntArray
    day: IntArray
    amount: Array


def purchase_days(transactions: Transactions) -> PurchaseDays:
    order = np.lexsort((transactions.day, transactions.customer_id))
    customers = transactions.customer_id[order]
    days = transactions.day[order]
    amounts = transactions.amount[order]
    if len(customers) == 0:
        return PurchaseDays(customers, days, amounts)
    change = np.ones(len(customers), dtype=bool)
    change[1:] = (customers[1:] != customers[:-1]) | (days[1:] != days[:-1])
    starts = np.flatnonzero(change)
    return PurchaseDays(customers[starts], days[starts], np.add.reduceat(amounts, starts))


@dataclass(frozen=True)
class CustomerSummary:
    customer_id: IntArray
    frequency: Array
    recency: Array
    T: Array
    monetary: Array
    first_day: IntArray
    holdout_frequency: Array
    holdout_monetary: Array  # total spent in the holdout period
    calibration_end: int  # day number
    observation_end: int
    unit_days: float

    def __len__(self) -> int:
        return len(self.customer_id)

    @property
    def holdout_length(self) -> float:
        return (self.observation_end - self.calibration_end) / self.unit_days

    @property
    def repeat(self) -> NDArray[np.bool_]:
        return self.frequency > 0

    def frame(self) -> Any:
        """As a pandas DataFrame (one row per customer)."""
        return pd.DataFrame(
            {
                "customer_id": self.customer_id,
                "frequency": self.frequency,
                "recency": self.recency,
                "T": self.T,
                "monetary": self.monetary,
                "holdout_frequency": self.holdout_frequency,
                "holdout_monetary": self.holdout_monetary,
            }
        )


def summarize(
    transactions: Transactions,
    *,
    calibration_end: date | int,
    observation_end: date | int | None = None,
    unit_days: float = 1.0,
) -> CustomerSummary:
    """The per-customer summary; see the module docstring for the definitions."""
    cal_end = calibration_end if isinstance(calibration_end, int) else day_number(calibration_end)
    if observation_end is None:
        obs_end = cal_end
    elif isinstance(observation_end, int):
        obs_end = observation_end
    else:
        obs_end = day_number(observation_end)
    if obs_end < cal_end:
        raise ValidationFailed(
            "clv.invalid_period", "the observation end comes before the calibration end"
        )
    if unit_days <= 0:
        raise ValidationFailed("clv.invalid_period", "the time unit must be positive")
    days = purchase_days(transactions.until(obs_end))
    calibration = days.day <= cal_end
    customers, first_index, counts = np.unique(
        days.customer_id[calibration], return_index=True, return_counts=True
    )
    cal_days = days.day[calibration]
    cal_amounts = days.amount[calibration]
    first_day = cal_days[first_index]
    last_day = cal_days[first_index + counts - 1]
    totals = np.add.reduceat(cal_amounts, first_index) if len(customers) else np.zeros(0)
    repeats = (counts - 1).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        monetary = np.where(repeats > 0, (totals - cal_amounts[first_index]) / repeats, 0.0)
    holdout = ~calibration
    holdout_customers = days.customer_id[holdout]
    if len(customers):
        position = np.minimum(np.searchsorted(customers, holdout_customers), len(customers) - 1)
        known = customers[position] == holdout_customers
    else:
        position = np.zeros(len(holdout_customers), dtype=np.int64)
        known = np.zeros(len(holdout_customers), dtype=bool)
    holdout_frequency = np.bincount(position[known], minlength=len(customers)).astype(np.float64)
    holdout_monetary = np.bincount(
        position[known], weights=days.amount[holdout][known], minlength=len(customers)
    )
    return CustomerSummary(
        customer_id=customers.astype(np.int64),
        frequency=repeats,
        recency=(last_day - first_day) / unit_days,
        T=(cal_end - first_day) / unit_days,
        monetary=np.asarray(monetary, dtype=np.float64),
        first_day=first_day.astype(np.int64),
        holdout_frequency=holdout_frequency,
        holdout_monetary=np.asarray(holdout_monetary, dtype=np.float64),
        calibration_end=cal_end,
        observation_end=obs_end,
        unit_days=float(unit_days),
    )


def read_cdnow(path: str, *, master: bool = False) -> Transactions:
    """Parse Fader & Hardie's CDNOW file (whitespace-separated, dates as YYYYMMDD).

    The sample has five columns (master id, sample id, date, CDs, dollars) and is
    keyed by the sample id; the master has four (id, date, CDs, dollars) and a header.
    """
    columns = ["customer_id", "date", "cds", "amount"]
    names = columns if master else ["master_id", *columns]
    frame = pd.read_csv(
        path,
        sep=r"\s+",
        header=0 if master else None,
        names=names,
        dtype={"date": str},
    )
    days = pd.to_datetime(frame["date"], format="%Y%m%d").to_numpy().astype("datetime64[D]")
    return Transactions.from_arrays(
        frame["customer_id"].to_numpy(), days.astype(np.int64), frame["amount"].to_numpy()
    )

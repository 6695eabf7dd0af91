"""Acquisition cohorts: retention by customers or by revenue, monthly or weekly.

A customer's cohort is the period (calendar month, or ISO week starting
Monday) of their first order. Cell (cohort c, offset k) holds, for the period
k after c:

* ``customers``: how many of the cohort ordered in it; the rate is that count
  over the cohort's size (offset 0 is always 100 %);
* ``revenue``: the cohort's revenue in it; the rate is that revenue over the
  cohort's revenue in its first period.

Only the last ``periods`` cohorts up to the period of ``as_of_day`` are shown,
with offsets 0 .. periods-1; cells after ``as_of_day``'s period are not yet
observed and are NaN (empty in CSV, blank in the heatmap).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray

from shopops.analytics.customers.clv.summary import Transactions, day_to_date
from shopops.kernel.errors import ValidationFailed

Array = NDArray[np.float64]


class Grain(StrEnum):
    MONTH = "month"
    WEEK = "week"


class Measure(StrEnum):
    CUSTOMERS = "customers"
    REVENUE = "revenue"


def period_of(days: NDArray[np.int64], grain: Grain) -> NDArray[np.int64]:
    """Month index (months since 1970-01) or week index (weeks since Monday 1969-12-29)."""
    if grain == Grain.MONTH:
        months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        return np.asarray(months, dtype=np.int64)
    return np.asarray((days + 3) // 7, dtype=np.int64)  # 1970-01-01 was a Thursday


def period_start(period: int, grain: Grain) -> date:
    if grain == Grain.MONTH:
        return date(1970 + period // 12, period % 12 + 1, 1)
    return day_to_date(period * 7 - 3)


def period_label(period: int, grain: Grain) -> str:
    start = period_start(period, grain)
    return start.strftime("%Y-%m") if grain == Grain.MONTH else start.isoformat()


@dataclass(frozen=True)
class CohortMatrix:
    grain: Grain
    measure: Measure
    cohorts: tuple[str, ...]  # labels, oldest first
    sizes: NDArray[np.int64]  # customers acquired per cohort
    values: Array  # cohorts x offsets: customers or revenue; NaN where not yet observed
    rates: Array  # values over the first column (customers: over the cohort size)

    @property
    def offsets(self) -> int:
        return int(self.values.shape[1])

    def csv_text(self, *, rates: bool = True) -> str:
        """cohort, customers, then one column per offset (rates, or raw values)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["cohort", "customers", *(str(k) for k in range(self.offsets))])
        table = self.rates if rates else self.values
        for label, size, row in zip(self.cohorts, self.sizes, table, strict=True):
            cells = ["" if np.isnan(v) else f"{v:.6g}" for v in row]
            writer.writerow([label, int(size), *cells])
        return buffer.getvalue()

    def heatmap(self, path: str | Path, *, title: str | None = None) -> Path:
        """Render the rates as a heatmap PNG (no display needed)."""
        target = Path(path)
        rows, columns = self.rates.shape
        figure = Figure(figsize=(max(6.0, 0.45 * columns + 2.5), max(3.0, 0.35 * rows + 1.8)))
        axes = figure.add_subplot()
        percent = self.rates * 100
        # Scale the colours to the later periods: offset 0 is 100 % for customers and would
        # wash everything else out; it is drawn saturated instead.
        later = percent[:, 1:]
        top = float(np.nanmax(later)) if np.isfinite(later).any() else 100.0
        top = top if top > 0 else 100.0
        image = axes.imshow(
            np.ma.masked_invalid(percent), cmap="YlGnBu", vmin=0, vmax=top, aspect="auto"
        )
        axes.set_xticks(range(columns), [str(k) for k in range(columns)], fontsize=7)
        axes.set_yticks(
            range(rows), [f"{c} ({n})" for c, n in zip(self.cohorts, self.sizes, strict=True)]
        )
        axes.tick_params(axis="y", labelsize=7)
        axes.set_xlabel(f"{self.grain.value}s since first order")
        axes.set_ylabel("cohort (customers)")
        what = "customer" if self.measure == Measure.CUSTOMERS else "revenue"
        axes.set_title(title or f"{what.capitalize()} retention by {self.grain.value}ly cohort")
        if columns <= 26 and rows <= 30:
            for (row, column), value in np.ndenumerate(percent):
                if not np.isnan(value):
                    colour = "white" if value > 0.6 * top else "black"
                    axes.text(
                        column, row, f"{value:.0f}", ha="center", va="center", size=6, color=colour
                    )
        figure.colorbar(image, ax=axes, label=f"{what} retention (%)")
        figure.tight_layout()
        figure.savefig(target, format="png", dpi=110)
        return target


def _customer_index(customers: NDArray[np.int64]) -> tuple[NDArray[np.int64], int]:
    """A dense index 0..count-1 per customer id (the ids themselves when they are small
    non-negative numbers, as database ids are: no sorting needed)."""
    low, high = int(customers.min()), int(customers.max())
    if low >= 0 and high < 4 * len(customers) + 1024:
        return customers, high + 1
    ids, inverse = np.unique(customers, return_inverse=True)
    return np.asarray(inverse, dtype=np.int64), len(ids)


def _distinct_pairs(keys: NDArray[np.int64], size: int) -> NDArray[np.int64]:
    """Sorted distinct keys in ``[0, size)``: marked in a bitmap when that is small enough,
    else by sorting (much faster than numpy's hash-based unique either way)."""
    if size <= 8 * len(keys) + 1_000_000:
        seen = np.zeros(size, dtype=bool)
        seen[keys] = True
        return np.flatnonzero(seen)
    ordered = np.sort(keys)
    keep = np.ones(len(ordered), dtype=bool)
    keep[1:] = ordered[1:] != ordered[:-1]
    return ordered[keep]


def cohort_matrix(
    transactions: Transactions,
    *,
    grain: Grain | str = Grain.MONTH,
    measure: Measure | str = Measure.CUSTOMERS,
    periods: int = 24,
    as_of_day: int | None = None,
) -> CohortMatrix:
    """The cohort matrix of the given transactions (see the module docstring)."""
    grain, measure = Grain(grain), Measure(measure)
    if not 1 <= periods <= 520:
        raise ValidationFailed("cohorts.invalid_periods", "periods must be between 1 and 520")
    if len(transactions) == 0:
        empty = np.zeros((0, periods))
        return CohortMatrix(grain, measure, (), np.zeros(0, dtype=np.int64), empty, empty)
    end_day = int(transactions.day.max()) if as_of_day is None else as_of_day
    seen = transactions.day <= end_day
    customers = transactions.customer_id[seen]
    period = period_of(transactions.day[seen], grain)
    amount = transactions.amount[seen]
    last = int(period_of(np.array([end_day], dtype=np.int64), grain)[0])
    first_cohort = last - periods + 1

    inverse, count = _customer_index(customers)
    first_period = np.full(count, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_period, inverse, period)
    cohort = first_period[inverse]
    offset = period - cohort
    keep = (cohort >= first_cohort) & (offset < periods)
    row = cohort[keep] - first_cohort
    cell = row * periods + offset[keep]
    if measure == Measure.CUSTOMERS:
        # each customer is in one cohort: distinct (customer, offset) pairs, then per cell
        pairs = _distinct_pairs(inverse[keep] * periods + offset[keep], count * periods)
        owner_row = first_period[pairs // periods] - first_cohort
        counts = np.bincount(owner_row * periods + pairs % periods, minlength=periods * periods)
        values = counts.astype(np.float64).reshape(periods, periods)
    else:
        sums = np.bincount(cell, weights=amount[keep], minlength=periods * periods)
        values = sums.astype(np.float64).reshape(periods, periods)
    member = (first_period >= first_cohort) & (first_period <= last)  # ids never seen: max
    sizes = np.bincount(first_period[member] - first_cohort, minlength=periods).astype(np.int64)
    return _matrix(grain, measure, first_cohort, values, sizes)


def from_cells(
    cohort: NDArray[np.int64],
    period: NDArray[np.int64],
    customers: NDArray[np.int64],
    revenue: Array,
    *,
    grain: Grain | str = Grain.MONTH,
    measure: Measure | str = Measure.CUSTOMERS,
    periods: int = 24,
    as_of_day: int,
) -> CohortMatrix:
    """The cohort matrix from cells already counted, one per (cohort, period): how many of
    the cohort's customers ordered in the period and what they spent, over transactions up
    to ``as_of_day`` (the analytics store keeps them: ``analytics_rollup_customer_cohorts``).
    The same matrix as ``cohort_matrix`` over those transactions."""
    grain, measure = Grain(grain), Measure(measure)
    if not 1 <= periods <= 520:
        raise ValidationFailed("cohorts.invalid_periods", "periods must be between 1 and 520")
    last = int(period_of(np.array([as_of_day], dtype=np.int64), grain)[0])
    first_cohort = last - periods + 1
    cohort = np.asarray(cohort, dtype=np.int64)
    offset = np.asarray(period, dtype=np.int64) - cohort
    keep = (cohort >= first_cohort) & (cohort <= last) & (offset >= 0) & (offset < periods)
    cell = (cohort[keep] - first_cohort) * periods + offset[keep]
    weights = np.asarray(customers if measure == Measure.CUSTOMERS else revenue)[keep]
    values: Array = np.bincount(
        cell, weights=weights.astype(np.float64), minlength=periods * periods
    ).astype(np.float64)
    first = keep & (offset == 0)  # everyone orders in their cohort's own period
    sizes = np.bincount(
        cohort[first] - first_cohort,
        weights=np.asarray(customers)[first].astype(np.float64),
        minlength=periods,
    ).astype(np.int64)
    return _matrix(grain, measure, first_cohort, values.reshape(periods, periods), sizes)


def _matrix(
    grain: Grain, measure: Measure, first_cohort: int, values: Array, sizes: NDArray[np.int64]
) -> CohortMatrix:
    """Cohorts x offsets of customers or revenue -> the matrix: unobserved cells NaN, cohorts
    without customers left out, rates."""
    periods = len(sizes)
    observed = np.add.outer(np.arange(periods), np.arange(periods)) < periods
    values = np.where(observed, values, np.nan)
    present = sizes > 0
    values, sizes = values[present], sizes[present]
    base = sizes.astype(np.float64) if measure == Measure.CUSTOMERS else values[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = np.where(base[:, None] > 0, values / base[:, None], np.nan)
    labels = tuple(
        period_label(first_cohort + int(index), grain) for index in np.flatnonzero(present)
    )
    return CohortMatrix(grain, measure, labels, sizes, values, rates)

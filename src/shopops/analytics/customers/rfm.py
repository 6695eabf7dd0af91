"""RFM: recency, frequency and monetary scores by quantile bins, and the named segments.

Each score runs from 1 (worst) to ``bins`` (best). A customer's score is
``1 + floor(bins · share)``, where ``share`` is the fraction of customers with a
strictly worse value, so equal values always get equal scores (a plain quantile
cut would split ties arbitrarily, and frequency is mostly ties). Recency is in
days since the last order: fewer is better.

The segment comes from the recency score and the FM score (the mean of F and
M, halves rounded up) through a grid: one row per recency score, one column
per FM score. The default 5 x 5 grid (``SEGMENT_GRID``) names the eleven
standard segments; for another bin count it is resampled at the bins' centres
(with 3 bins, scores 1, 2, 3 read grid rows/columns 1, 3, 5).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from shopops.analytics.customers.clv.summary import Transactions
from shopops.kernel.errors import ValidationFailed

IntArray = NDArray[np.int64]

CHAMPIONS = "Champions"
LOYAL = "Loyal"
POTENTIAL_LOYALIST = "Potential Loyalist"
NEW = "New"
PROMISING = "Promising"
NEED_ATTENTION = "Need Attention"
ABOUT_TO_SLEEP = "About to Sleep"
AT_RISK = "At Risk"
CANNOT_LOSE = "Cannot Lose Them"
HIBERNATING = "Hibernating"
LOST = "Lost"

SEGMENTS: tuple[str, ...] = (
    CHAMPIONS,
    LOYAL,
    POTENTIAL_LOYALIST,
    NEW,
    PROMISING,
    NEED_ATTENTION,
    ABOUT_TO_SLEEP,
    AT_RISK,
    CANNOT_LOSE,
    HIBERNATING,
    LOST,
)

# Rows: recency score 5 (bought most recently) down to 1; columns: FM score 1 .. 5.
_GRID_TOP_DOWN: tuple[tuple[str, ...], ...] = (
    (NEW, POTENTIAL_LOYALIST, POTENTIAL_LOYALIST, CHAMPIONS, CHAMPIONS),  # R = 5
    (PROMISING, POTENTIAL_LOYALIST, POTENTIAL_LOYALIST, LOYAL, CHAMPIONS),  # R = 4
    (ABOUT_TO_SLEEP, ABOUT_TO_SLEEP, NEED_ATTENTION, LOYAL, LOYAL),  # R = 3
    (HIBERNATING, HIBERNATING, AT_RISK, AT_RISK, CANNOT_LOSE),  # R = 2
    (LOST, LOST, AT_RISK, CANNOT_LOSE, CANNOT_LOSE),  # R = 1
)
# Indexed [R - 1][FM - 1].
SEGMENT_GRID: tuple[tuple[str, ...], ...] = tuple(reversed(_GRID_TOP_DOWN))


def resample_grid(grid: Sequence[Sequence[str]], bins: int) -> tuple[tuple[str, ...], ...]:
    """The grid for ``bins`` scores, read at the centre of each bin."""
    size = len(grid)
    picks = [min(size - 1, int((index + 0.5) * size / bins)) for index in range(bins)]
    return tuple(tuple(grid[row][column] for column in picks) for row in picks)


@dataclass(frozen=True)
class RfmConfig:
    bins: int = 5
    grid: tuple[tuple[str, ...], ...] | None = None  # bins x bins; default: SEGMENT_GRID
    _grid: tuple[tuple[str, ...], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 2 <= self.bins <= 10:
            raise ValidationFailed("rfm.invalid_bins", "the number of bins must be 2 to 10")
        grid = self.grid if self.grid is not None else resample_grid(SEGMENT_GRID, self.bins)
        if len(grid) != self.bins or any(len(row) != self.bins for row in grid):
            raise ValidationFailed(
                "rfm.invalid_grid", f"the segment grid must be {self.bins} x {self.bins}"
            )
        unknown = sorted({name for row in grid for name in row} - set(SEGMENTS))
        if unknown:
            raise ValidationFailed(
                "rfm.invalid_grid", f"unknown segment names in the grid: {', '.join(unknown)}"
            )
        object.__setattr__(self, "_grid", grid)

    @property
    def segment_grid(self) -> tuple[tuple[str, ...], ...]:
        return self._grid


def _count_below(values: NDArray[Any]) -> IntArray:
    """For each value, how many values are strictly smaller (ties count each other as equal)."""
    n = values.size
    order = np.argsort(values)  # the vectorised quicksort; ties are resolved below
    ordered = values[order]
    run_start = np.ones(n, dtype=bool)
    run_start[1:] = ordered[1:] != ordered[:-1]
    first_of_run = np.maximum.accumulate(np.where(run_start, np.arange(n), 0))
    below = np.empty(n, dtype=np.int64)
    below[order] = first_of_run
    return below


def quantile_scores(values: ArrayLike, bins: int, *, higher_is_better: bool = True) -> IntArray:
    """Scores 1..bins by the share of values strictly worse than each one."""
    array = np.asarray(values)
    if array.dtype.kind != "i":
        array = array.astype(np.float64)
    n = array.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    low, high = array.min(), array.max()
    whole = array.dtype.kind == "i" or bool(np.array_equal(array, np.round(array)))
    if whole and float(high) - float(low) < 4 * n:
        # Whole numbers over a small range (days, order counts, amounts in minor units):
        # counting, no sorting; the score of each distinct value, then of each customer.
        if array.dtype.kind == "i" and low >= 0 and float(high) < 4 * n:
            index = array  # the values themselves index the counts
        else:
            index = (array - low).astype(np.intp, copy=False)
        # in place: fresh pages are expensive, and these arrays are as long as the range
        counts = np.bincount(index)
        up_to = np.cumsum(counts)
        worse = np.subtract(up_to, counts, out=counts) if higher_is_better else up_to
        if not higher_is_better:
            np.subtract(n, up_to, out=worse)
        worse *= bins
        worse //= n
        worse += 1
        return np.asarray(worse[index], dtype=np.int64)
    below = _count_below(array if higher_is_better else -array)
    return np.asarray(1 + (below * bins) // n, dtype=np.int64)


@dataclass(frozen=True)
class RfmScores:
    recency: IntArray
    frequency: IntArray
    monetary: IntArray
    fm: IntArray
    segment_code: NDArray[np.int8]  # index into SEGMENTS

    @property
    def segment(self) -> NDArray[np.str_]:
        """Segment names (built on demand: codes are much cheaper to carry around)."""
        return np.asarray(np.array(SEGMENTS, dtype=np.str_)[self.segment_code], dtype=np.str_)

    def code(self, index: int) -> str:
        """The usual three-digit form, e.g. "545"."""
        return f"{self.recency[index]}{self.frequency[index]}{self.monetary[index]}"


def score(
    recency_days: ArrayLike,
    frequency: ArrayLike,
    monetary: ArrayLike,
    config: RfmConfig | None = None,
) -> RfmScores:
    """Scores and segments for customers who have ordered (one entry per customer)."""
    settings = config or RfmConfig()
    r = quantile_scores(recency_days, settings.bins, higher_is_better=False)
    f = quantile_scores(frequency, settings.bins)
    m = quantile_scores(monetary, settings.bins)
    if not len(r) == len(f) == len(m):
        raise ValidationFailed("rfm.invalid_input", "recency, frequency and monetary differ")
    fm = f + m
    fm += 1
    fm >>= 1  # the mean of F and M, halves rounded up
    codes = np.array(
        [[SEGMENTS.index(name) for name in row] for row in settings.segment_grid], dtype=np.int8
    )
    # codes[r - 1, fm - 1], as one index into the grid read row by row
    cell = r * settings.bins
    cell += fm
    cell -= settings.bins + 1
    segment_code = codes.ravel()[cell]
    return RfmScores(recency=r, frequency=f, monetary=m, fm=fm, segment_code=segment_code)


@dataclass(frozen=True)
class CustomerRfm:
    """Each buyer's recency (days since the last purchase day), frequency (orders) and
    monetary value (total spent) as of a day, with their scores; ids ascending."""

    customer_id: IntArray
    recency_days: IntArray
    frequency: IntArray
    monetary: NDArray[np.float64]
    scores: RfmScores


def from_transactions(
    transactions: Transactions, as_of_day: int, config: RfmConfig | None = None
) -> CustomerRfm:
    """RFM of every customer with a transaction on or before ``as_of_day`` (as the feature
    table computes it: orders counted, amounts summed, recency from the last day)."""
    seen = transactions.day <= as_of_day
    customers = transactions.customer_id[seen]
    days = transactions.day[seen]
    amounts = transactions.amount[seen]
    if len(customers) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return _scored(empty, empty, empty, empty, as_of_day, config)
    low, high = int(customers.min()), int(customers.max())
    ids: IntArray | None = None
    if low >= 0 and high < 4 * len(customers) + 1024:  # database ids: index by the id itself
        index, size = customers, high + 1
    else:
        ids, inverse = np.unique(customers, return_inverse=True)
        index, size = np.asarray(inverse, dtype=np.int64), len(ids)
    frequency = np.bincount(index, minlength=size)
    monetary = np.bincount(index, weights=amounts, minlength=size)
    last = np.full(size, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last, index, days)
    present = np.flatnonzero(frequency)
    customer_id = present if ids is None else ids[present]
    return _scored(
        customer_id, last[present], frequency[present], monetary[present], as_of_day, config
    )


def from_totals(
    customer_id: ArrayLike,
    last_day: ArrayLike,
    frequency: ArrayLike,
    monetary: ArrayLike,
    as_of_day: int,
    config: RfmConfig | None = None,
) -> CustomerRfm:
    """RFM from each buyer's totals up to ``as_of_day``, in any order (one entry per
    customer): last purchase day, number of orders, amount spent. The same as
    ``from_transactions`` over the transactions these totals sum up; the analytics store
    keeps them per customer (``analytics_rollup_customers``)."""
    ids = np.asarray(customer_id, dtype=np.int64)
    days = np.asarray(last_day, dtype=np.int64)
    orders = np.asarray(frequency, dtype=np.int64)
    spent = np.asarray(monetary)  # whole amounts (minor units) are scored without sorting
    if spent.dtype.kind != "i":
        spent = spent.astype(np.float64)
    if len(ids) > 1 and not bool(np.all(ids[1:] > ids[:-1])):
        order = _ascending(ids)
        ids, days, orders, spent = ids[order], days[order], orders[order], spent[order]
    return _scored(ids, days, orders, spent, as_of_day, config)


def _ascending(ids: IntArray) -> IntArray:
    """The permutation that sorts distinct ids; database ids (small, non-negative) are
    placed by value instead of sorted."""
    if len(ids) == 0:
        return np.zeros(0, dtype=np.int64)
    low, high = int(ids.min()), int(ids.max())
    if low >= 0 and high < 4 * len(ids) + 1024:
        slot = np.full(high + 1, -1, dtype=np.int64)
        slot[ids] = np.arange(len(ids), dtype=np.int64)
        return np.asarray(slot[slot >= 0], dtype=np.int64)
    return np.asarray(np.argsort(ids, kind="stable"), dtype=np.int64)


def _scored(
    customer_id: ArrayLike,
    last_day: ArrayLike,
    frequency: ArrayLike,
    monetary: ArrayLike,
    as_of_day: int,
    config: RfmConfig | None,
) -> CustomerRfm:
    """Buyers in id order with their totals -> recency and scores."""
    recency = as_of_day - np.asarray(last_day, dtype=np.int64)
    frequency = np.asarray(frequency, dtype=np.int64)
    return CustomerRfm(
        customer_id=np.asarray(customer_id, dtype=np.int64),
        recency_days=np.asarray(recency, dtype=np.int64),
        frequency=frequency,
        monetary=np.asarray(monetary, dtype=np.float64),
        scores=score(recency, frequency, monetary, config),
    )

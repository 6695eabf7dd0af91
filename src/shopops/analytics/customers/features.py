"""The customer feature table: one row per customer, what segments, insights and exports read.

Built from plain arrays (order history, customer attributes, purchased
products), so it is the same whether the history comes from the operational
database or from the analytics store. Money is in minor units of one currency.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from shopops.analytics.customers import lifecycle, rfm
from shopops.analytics.customers.clv.summary import CustomerSummary, Transactions, purchase_days

IntArray = NDArray[np.int64]
Array = NDArray[np.float64]
TextArray = NDArray[np.str_]

NUMERIC_COLUMNS = (
    "order_count",
    "total_spend",
    "average_order_value",
    "recency_days",
    "days_since_first_order",
    "rfm_recency",
    "rfm_frequency",
    "rfm_monetary",
    "predicted_clv",
    "probability_alive",
    "expected_purchases_90d",
)
TEXT_COLUMNS = ("tier", "region", "source_channel", "rfm_segment", "lifecycle_stage")
SET_COLUMNS = ("tag", "bought_product", "bought_category")


@dataclass(frozen=True)
class CustomerAttributes:
    """Plaintext profile fields (no personal data), aligned by position."""

    customer_id: IntArray
    tier: Sequence[str | None]
    region: Sequence[str | None]
    source_channel: Sequence[str | None]
    tags: Sequence[Sequence[str]]
    erased: NDArray[np.bool_]

    @classmethod
    def only_ids(cls, customer_ids: Iterable[int]) -> CustomerAttributes:
        ids = np.asarray(sorted(set(customer_ids)), dtype=np.int64)
        blanks: list[str | None] = [None] * len(ids)
        return cls(ids, blanks, blanks, blanks, [[] for _ in ids], np.zeros(len(ids), bool))


@dataclass(frozen=True)
class Predictions:
    """Per-customer model outputs aligned with a summary's customer ids."""

    customer_id: IntArray
    clv: Array
    probability_alive: Array
    expected_purchases_90d: Array


Predictor = Callable[[CustomerSummary], Predictions]


@dataclass
class CustomerFeatures:
    as_of_day: int
    customer_id: IntArray  # sorted ascending
    numeric: dict[str, Array]
    text: dict[str, TextArray]
    sets: dict[str, dict[str, IntArray]]  # column -> value -> sorted customer ids holding it
    erased: NDArray[np.bool_]
    rfm_bins: int = 5
    _position: dict[int, int] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.customer_id)

    def index_of(self, customer_id: int) -> int | None:
        if not self._position:
            self._position = {int(c): i for i, c in enumerate(self.customer_id)}
        return self._position.get(customer_id)

    def row(self, index: int) -> dict[str, object]:
        data: dict[str, object] = {"customer_id": int(self.customer_id[index])}
        for name in NUMERIC_COLUMNS:
            value = float(self.numeric[name][index])
            data[name] = None if math.isnan(value) else value
        for name in TEXT_COLUMNS:
            data[name] = str(self.text[name][index]) or None
        return data

    def csv_text(self, mask: NDArray[np.bool_] | None = None) -> str:
        """customer_id and every numeric and text column, for the rows in ``mask``."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["customer_id", *NUMERIC_COLUMNS, *TEXT_COLUMNS])
        rows = np.flatnonzero(mask) if mask is not None else range(len(self))
        for index in rows:
            row = self.row(int(index))
            writer.writerow(["" if v is None else _csv_cell(v) for v in row.values()])
        return buffer.getvalue()


def _csv_cell(value: object) -> str:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.6g}"
    return str(value)


def _text(values: Sequence[str | None]) -> TextArray:
    return np.array(["" if v is None else str(v) for v in values], dtype=np.str_)


def _index(pairs_customer: IntArray, pairs_value: Sequence[str]) -> dict[str, IntArray]:
    grouped: dict[str, list[int]] = {}
    for customer, value in zip(pairs_customer.tolist(), pairs_value, strict=True):
        grouped.setdefault(value, []).append(customer)
    return {key: np.unique(np.asarray(ids, dtype=np.int64)) for key, ids in grouped.items()}


def build_features(
    transactions: Transactions,
    attributes: CustomerAttributes,
    *,
    as_of_day: int,
    purchases: Mapping[str, tuple[IntArray, Sequence[str]]] | None = None,
    rfm_config: rfm.RfmConfig | None = None,
    windows: lifecycle.LifecycleWindows | None = None,
    summary: CustomerSummary | None = None,
    predictor: Predictor | None = None,
) -> CustomerFeatures:
    """One row per customer in ``attributes`` (customers with no orders are prospects).

    ``purchases`` maps "bought_product"/"bought_category" to (customer ids, values)
    pairs. ``predictor`` turns the CLV summary (calibration ending at ``as_of_day``)
    into predictions; without one the CLV columns are NaN.
    """
    ids = attributes.customer_id
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    n = len(ids)
    days = purchase_days(transactions.until(as_of_day))
    known = np.isin(days.customer_id, ids)
    position = np.searchsorted(ids, days.customer_id[known])
    seen = transactions.day <= as_of_day
    in_ids = np.isin(transactions.customer_id, ids) & seen
    order_count = np.bincount(
        np.searchsorted(ids, transactions.customer_id[in_ids]), minlength=n
    ).astype(np.float64)
    spend = np.bincount(
        np.searchsorted(ids, transactions.customer_id[in_ids]),
        weights=transactions.amount[in_ids],
        minlength=n,
    ).astype(np.float64)
    first = np.full(n, as_of_day, dtype=np.int64)
    last = np.full(n, as_of_day, dtype=np.int64)
    previous = np.full(n, as_of_day, dtype=np.int64)
    purchase_day = days.day[known]
    # purchase days are sorted by customer then day: the last write per customer wins
    np.minimum.at(first, position, purchase_day)
    last[position] = purchase_day
    has_previous = np.zeros(len(position), dtype=bool)
    has_previous[1:] = position[1:] == position[:-1]
    previous_rows = np.flatnonzero(has_previous)
    previous[position[previous_rows]] = purchase_day[previous_rows - 1]
    gap = np.where(np.bincount(position, minlength=n) >= 2, last - previous, 0)
    buyer = order_count > 0
    nan = np.full(n, np.nan)
    recency = np.where(buyer, as_of_day - last, np.nan)
    tenure = np.where(buyer, as_of_day - first, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        average = np.where(buyer, spend / order_count, np.nan)

    config = rfm_config or rfm.RfmConfig()
    scores = rfm.score(recency[buyer], order_count[buyer], spend[buyer], config)
    r_score, f_score, m_score = nan.copy(), nan.copy(), nan.copy()
    r_score[buyer], f_score[buyer], m_score[buyer] = (
        scores.recency,
        scores.frequency,
        scores.monetary,
    )
    segment = np.full(n, "", dtype=object)
    segment[buyer] = scores.segment
    stage = lifecycle.stages(
        as_of_day=as_of_day,
        order_count=order_count,
        first_day=first,
        last_day=last,
        gap_before_last=gap,
        total_spend=spend,
        windows=windows,
    )

    clv, alive, expected = nan.copy(), nan.copy(), nan.copy()
    if predictor is not None and summary is not None and len(summary):
        predicted = predictor(summary)
        matched = np.isin(predicted.customer_id, ids)
        where = np.searchsorted(ids, predicted.customer_id[matched])
        clv[where] = predicted.clv[matched]
        alive[where] = predicted.probability_alive[matched]
        expected[where] = predicted.expected_purchases_90d[matched]

    def aligned(values: Sequence[str | None]) -> TextArray:
        return _text([values[i] for i in order.tolist()])

    tags_customer: list[int] = []
    tags_value: list[str] = []
    for customer, tags in zip(attributes.customer_id.tolist(), attributes.tags, strict=True):
        for tag in tags:
            tags_customer.append(customer)
            tags_value.append(tag)
    sets = {"tag": _index(np.asarray(tags_customer, dtype=np.int64), tags_value)}
    for name in ("bought_product", "bought_category"):
        customers, values = (purchases or {}).get(name, (np.zeros(0, np.int64), []))
        sets[name] = _index(np.asarray(customers, dtype=np.int64), list(values))
    return CustomerFeatures(
        as_of_day=as_of_day,
        customer_id=ids,
        numeric={
            "order_count": order_count,
            "total_spend": spend,
            "average_order_value": average,
            "recency_days": recency,
            "days_since_first_order": tenure,
            "rfm_recency": r_score,
            "rfm_frequency": f_score,
            "rfm_monetary": m_score,
            "predicted_clv": clv,
            "probability_alive": alive,
            "expected_purchases_90d": expected,
        },
        text={
            "tier": aligned(attributes.tier),
            "region": aligned(attributes.region),
            "source_channel": aligned(attributes.source_channel),
            "rfm_segment": np.asarray(segment.astype(str), dtype=np.str_),
            "lifecycle_stage": stage,
        },
        sets=sets,
        erased=np.asarray(attributes.erased, dtype=bool)[order],
        rfm_bins=config.bins,
    )

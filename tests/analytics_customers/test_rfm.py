"""RFM: quantile scores within their bins, ties kept together, the named segment table."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopops.analytics.customers import rfm
from shopops.analytics.customers.clv.summary import Transactions
from shopops.analytics.customers.features import CustomerAttributes, build_features
from shopops.kernel.errors import ValidationFailed


@given(
    values=st.lists(st.integers(0, 50), min_size=1, max_size=200),
    bins=st.integers(2, 10),
    higher_is_better=st.booleans(),
)
def test_scores_stay_in_their_bins_and_follow_the_values(
    values: list[int], bins: int, higher_is_better: bool
) -> None:
    scores = rfm.quantile_scores(values, bins, higher_is_better=higher_is_better)
    assert scores.min() >= 1
    assert scores.max() <= bins
    for i, j in zip(range(len(values)), reversed(range(len(values))), strict=True):
        better = values[i] > values[j] if higher_is_better else values[i] < values[j]
        if values[i] == values[j]:
            assert scores[i] == scores[j]  # ties share a score
        elif better:
            assert scores[i] >= scores[j]


@given(
    values=st.lists(st.integers(-(10**12), 10**12), min_size=1, max_size=60),
    spread=st.sampled_from([1, 3, 1000, 10**9]),
    bins=st.integers(2, 10),
    higher_is_better=st.booleans(),
    as_float=st.booleans(),
)
def test_scores_follow_the_definition_whichever_way_they_are_counted(
    values: list[int], spread: int, bins: int, higher_is_better: bool, as_float: bool
) -> None:
    """1 + floor(bins * share of strictly worse values): by counting over small ranges of
    whole numbers (integers or floats, negative or not), by sorting otherwise."""
    scaled = [v // spread for v in values]
    data = np.asarray(scaled, dtype=np.float64 if as_float else np.int64)
    scores = rfm.quantile_scores(data, bins, higher_is_better=higher_is_better)
    n = len(scaled)
    expected = [
        1 + bins * sum((w < v) if higher_is_better else (w > v) for w in scaled) // n
        for v in scaled
    ]
    assert scores.tolist() == expected
    assert scores.dtype == np.int64


@given(
    rows=st.lists(
        st.tuples(st.integers(1, 40), st.integers(0, 30), st.integers(0, 5000)),
        min_size=1,
        max_size=80,
    ),
    bins=st.integers(2, 6),
)
def test_rfm_from_totals_is_rfm_from_their_transactions(
    rows: list[tuple[int, int, int]], bins: int
) -> None:
    """The per-customer totals the analytics store keeps, in any order, give the same RFM
    as the transactions they sum up."""
    customer, day, amount = (np.asarray(column) for column in zip(*rows, strict=True))
    config = rfm.RfmConfig(bins=bins)
    expected = rfm.from_transactions(Transactions.from_arrays(customer, day, amount), 30, config)
    ids = np.unique(customer)[::-1]  # descending: the permutation is exercised
    last = np.array([day[customer == c].max() for c in ids])
    count = np.array([(customer == c).sum() for c in ids])
    spent = np.array([amount[customer == c].sum() for c in ids])
    got = rfm.from_totals(ids, last, count, spent, 30, config)
    for name in ("customer_id", "recency_days", "frequency", "monetary"):
        assert getattr(got, name).tolist() == getattr(expected, name).tolist()
    for name in ("recency", "frequency", "monetary", "fm", "segment_code"):
        assert getattr(got.scores, name).tolist() == getattr(expected.scores, name).tolist()


def test_distinct_values_fill_the_bins_evenly() -> None:
    assert rfm.quantile_scores(range(10), 5).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # recency: fewer days is better
    assert rfm.quantile_scores([0, 10, 20, 30, 40], 5, higher_is_better=False).tolist() == [
        5,
        4,
        3,
        2,
        1,
    ]
    # most customers ordered once: they all share the lowest frequency score
    assert rfm.quantile_scores([1, 1, 1, 1, 1, 1, 2, 2, 3, 9], 5).tolist() == [
        1, 1, 1, 1, 1, 1, 4, 4, 5, 5,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("r", "f", "m", "segment"),
    [
        (5, 5, 5, rfm.CHAMPIONS),
        (4, 5, 4, rfm.CHAMPIONS),
        (5, 1, 1, rfm.NEW),
        (4, 1, 1, rfm.PROMISING),
        (5, 2, 3, rfm.POTENTIAL_LOYALIST),
        (3, 4, 5, rfm.LOYAL),
        (4, 4, 3, rfm.LOYAL),  # FM = 4 (3.5 rounds up)
        (3, 3, 3, rfm.NEED_ATTENTION),
        (3, 1, 2, rfm.ABOUT_TO_SLEEP),
        (2, 3, 4, rfm.AT_RISK),
        (1, 5, 5, rfm.CANNOT_LOSE),
        (2, 5, 5, rfm.CANNOT_LOSE),
        (2, 2, 1, rfm.HIBERNATING),
        (1, 1, 1, rfm.LOST),
        (1, 2, 2, rfm.LOST),
    ],
)
def test_named_segments(r: int, f: int, m: int, segment: str) -> None:
    grid = rfm.RfmConfig().segment_grid
    assert grid[r - 1][(f + m + 1) // 2 - 1] == segment


def test_the_default_grid_names_all_eleven_segments() -> None:
    names = {name for row in rfm.SEGMENT_GRID for name in row}
    assert names == set(rfm.SEGMENTS)
    assert len(rfm.SEGMENTS) == 11


def test_scoring_end_to_end() -> None:
    recency = [1, 2, 3, 4, 5, 100, 200, 300, 400, 500]
    frequency = [9, 8, 1, 1, 1, 7, 6, 1, 1, 1]
    monetary = [900, 800, 10, 10, 10, 700, 600, 10, 10, 10]
    scores = rfm.score(recency, frequency, monetary)
    assert scores.recency.tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert scores.frequency.tolist() == [5, 5, 1, 1, 1, 4, 4, 1, 1, 1]
    assert scores.segment.tolist() == [
        rfm.CHAMPIONS, rfm.CHAMPIONS, rfm.PROMISING, rfm.PROMISING, rfm.ABOUT_TO_SLEEP,
        rfm.LOYAL, rfm.AT_RISK, rfm.HIBERNATING, rfm.LOST, rfm.LOST,
    ]  # fmt: skip
    assert scores.code(0) == "555"


def test_other_bin_counts_resample_the_grid() -> None:
    three = rfm.RfmConfig(bins=3).segment_grid
    assert three == (
        (rfm.LOST, rfm.AT_RISK, rfm.CANNOT_LOSE),
        (rfm.ABOUT_TO_SLEEP, rfm.NEED_ATTENTION, rfm.LOYAL),
        (rfm.NEW, rfm.POTENTIAL_LOYALIST, rfm.CHAMPIONS),
    )
    scores = rfm.score([1, 50, 99], [3, 2, 1], [300, 200, 100], rfm.RfmConfig(bins=3))
    assert scores.segment.tolist() == [rfm.CHAMPIONS, rfm.NEED_ATTENTION, rfm.LOST]


def test_bad_configurations_are_refused() -> None:
    with pytest.raises(ValidationFailed) as raised:
        rfm.RfmConfig(bins=1)
    assert raised.value.code == "rfm.invalid_bins"
    with pytest.raises(ValidationFailed) as raised:
        rfm.RfmConfig(bins=2, grid=(("Lost", "Whales"), ("Lost", "Lost")))
    assert raised.value.code == "rfm.invalid_grid"
    assert "Whales" in raised.value.message


def test_no_customers_no_scores() -> None:
    scores = rfm.score(np.zeros(0), np.zeros(0), np.zeros(0))
    assert len(scores.segment) == 0


def test_rfm_from_transactions_matches_the_feature_table() -> None:
    """Recency from the last purchase day, orders counted, amounts summed; later days unseen;
    the same scores as the feature table gives, with small or far-apart customer ids."""
    rng = np.random.default_rng(3)
    customer = rng.integers(1, 60, 400)
    day = rng.integers(20_000, 20_400, 400)
    amount = rng.integers(100, 10_000, 400).astype(float)
    as_of = 20_350
    history = Transactions.from_arrays(customer, day, amount)
    table = build_features(history, CustomerAttributes.only_ids(range(1, 60)), as_of_day=as_of)
    for ids in (customer, customer * 10**12):
        got = rfm.from_transactions(Transactions.from_arrays(ids, day, amount), as_of)
        assert got.customer_id.tolist() == sorted(set(ids[day <= as_of].tolist()))
        rows = [
            table.index_of(int(c) // (1 if ids is customer else 10**12)) for c in got.customer_id
        ]
        assert got.frequency.tolist() == [table.numeric["order_count"][r] for r in rows]
        assert got.monetary.tolist() == [table.numeric["total_spend"][r] for r in rows]
        assert got.recency_days.tolist() == [table.numeric["recency_days"][r] for r in rows]
        assert got.scores.segment.tolist() == [table.text["rfm_segment"][r] for r in rows]
        # worked out for one customer: their last purchase day and count by hand
        mine = (customer == customer[0]) & (day <= as_of)
        first = got.customer_id.tolist().index(int(ids[0]))
        assert got.recency_days[first] == as_of - day[mine].max()
        assert got.frequency[first] == mine.sum()

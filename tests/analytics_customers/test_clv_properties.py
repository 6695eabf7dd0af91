"""Properties of the CLV models that hold for any parameters and any customer."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopops.analytics.customers.clv import bgnbd, gammagamma, paretonbd
from shopops.analytics.customers.clv.fitting import compress
from shopops.kernel.errors import ValidationFailed

shape = st.floats(0.05, 5.0)
scale = st.floats(0.5, 50.0)


@st.composite
def customers(draw: st.DrawFn) -> tuple[float, float, float]:
    observed = draw(st.floats(0.0, 100.0))
    frequency = draw(st.integers(0, 60))
    last = draw(st.floats(0.0, 1.0)) * observed if frequency else 0.0
    return float(frequency), last, observed


bgnbd_params = st.builds(
    bgnbd.BgNbdParams, r=shape, alpha=scale, a=st.floats(0.1, 5.0), b=st.floats(0.1, 5.0)
).filter(lambda p: abs(p.a - 1) > 0.01)  # the closed form divides by a - 1
pareto_params = st.builds(paretonbd.ParetoNbdParams, r=shape, alpha=scale, s=shape, beta=scale)
horizons = st.tuples(st.floats(0.5, 200.0), st.floats(0.5, 200.0)).map(sorted)


@settings(max_examples=150, deadline=None)
@given(params=st.one_of(bgnbd_params, pareto_params), customer=customers(), horizon=horizons)
def test_probability_alive_and_expected_purchases_behave(
    params: bgnbd.BgNbdParams | paretonbd.ParetoNbdParams,
    customer: tuple[float, float, float],
    horizon: list[float],
) -> None:
    x, t_x, T = customer
    alive = float(params.probability_alive(x, t_x, T)[()])
    assert 0.0 <= alive <= 1.0
    shorter, longer = (float(params.expected_purchases(t, x, t_x, T)[()]) for t in horizon)
    assert np.isfinite(shorter)
    assert 0.0 <= shorter <= longer * (1 + 1e-9) + 1e-12
    assert np.isfinite(float(params.log_likelihood(x, t_x, T)[()]))


@settings(max_examples=60, deadline=None)
@given(params=bgnbd_params, customer=customers())
def test_bgnbd_gradient_matches_finite_differences(
    params: bgnbd.BgNbdParams, customer: tuple[float, float, float]
) -> None:
    x, t_x, T = (np.array([v]) for v in customer)
    _, gradient = bgnbd._terms(params, x, t_x, T)
    values = np.array(list(params.as_dict().values()))
    for index in range(4):
        step = np.zeros(4)
        step[index] = 1e-6 * values[index]
        up = bgnbd.BgNbdParams(*(values + step)).log_likelihood(x, t_x, T)[0]
        down = bgnbd.BgNbdParams(*(values - step)).log_likelihood(x, t_x, T)[0]
        numeric = (up - down) / (2 * step[index])
        assert gradient[index, 0] == pytest.approx(numeric, rel=1e-4, abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    params=st.builds(
        gammagamma.GammaGammaParams, p=shape, q=st.floats(1.1, 10.0), gamma=st.floats(1.0, 100.0)
    ),
    frequency=st.integers(1, 50),
    mean_spend=st.floats(0.5, 1000.0),
)
def test_gamma_gamma_shrinks_the_mean_towards_the_population(
    params: gammagamma.GammaGammaParams, frequency: int, mean_spend: float
) -> None:
    expected = float(params.expected_average_value(frequency, mean_spend)[()])
    low, high = sorted((params.population_mean, mean_spend))
    assert low * (1 - 1e-9) <= expected <= high * (1 + 1e-9)
    assert float(params.expected_average_value(0, 0.0)[()]) == pytest.approx(params.population_mean)
    _, gradient = gammagamma._terms(params, np.array([float(frequency)]), np.array([mean_spend]))
    values = np.array(list(params.as_dict().values()))
    for index in range(3):
        step = np.zeros(3)
        step[index] = 1e-6 * values[index]
        up = gammagamma.GammaGammaParams(*(values + step)).log_likelihood(frequency, mean_spend)
        down = gammagamma.GammaGammaParams(*(values - step)).log_likelihood(frequency, mean_spend)
        numeric = float((up - down)[()]) / (2 * step[index])
        assert gradient[index, 0] == pytest.approx(numeric, rel=1e-4, abs=1e-6)


@given(rows=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=40))
def test_compression_keeps_every_row_once_with_its_count(rows: list[tuple[int, int]]) -> None:
    first = np.array([r[0] for r in rows], dtype=float)
    second = np.array([r[1] for r in rows], dtype=float)
    (unique_first, unique_second), counts = compress(first, second)
    assert counts.sum() == len(rows)
    assert sorted(zip(unique_first, unique_second, strict=True)) == sorted(set(rows))
    for a, b, count in zip(unique_first, unique_second, counts, strict=True):
        assert count == rows.count((a, b))


def test_a_fit_needs_customers_and_finite_input() -> None:
    with pytest.raises(ValidationFailed) as raised:
        bgnbd.fit([1.0], [1.0], [2.0])
    assert raised.value.code == "clv.not_enough_data"
    with pytest.raises(ValidationFailed) as raised:
        paretonbd.fit([1.0, np.nan], [1.0, 1.0], [2.0, 2.0])
    assert raised.value.code == "clv.invalid_input"
    with pytest.raises(ValidationFailed) as raised:
        gammagamma.fit([0.0, 0.0, 1.0], [0.0, 0.0, 5.0])  # one repeat customer only
    assert raised.value.code == "clv.not_enough_data"


def test_pareto_expected_purchases_at_s_equal_one_is_the_limit() -> None:
    near = paretonbd.ParetoNbdParams(r=0.5, alpha=10.0, s=1.0 + 1e-7, beta=12.0)
    exact = paretonbd.ParetoNbdParams(r=0.5, alpha=10.0, s=1.0, beta=12.0)
    assert float(exact.expected_purchases(30, 3, 20, 39)[()]) == pytest.approx(
        float(near.expected_purchases(30, 3, 20, 39)[()]), rel=1e-6
    )

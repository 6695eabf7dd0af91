"""Golden tests: the published CDNOW estimates, reproduced to three significant figures.

The CDNOW sample (2,357 customers, Fader & Hardie; data/cdnow/) with a 39-week
calibration period (1997-01-01 .. 1997-09-30) in weeks:

* BG/NBD (Fader, Hardie & Lee 2005): r 0.243, alpha 4.414, a 0.793, b 2.426, LL -9582.4
* Pareto/NBD (Fader & Hardie's note): r 0.553, alpha 10.578, s 0.606, beta 11.669, LL -9595.0
* Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV"): p 6.25, q 3.74, gamma 15.44
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from shopops.analytics.customers.clv import bgnbd, gammagamma, paretonbd
from shopops.analytics.customers.clv.diagnostics import calibration_vs_holdout
from shopops.analytics.customers.clv.summary import CustomerSummary, read_cdnow, summarize
from shopops.analytics.customers.clv.value import Discounting, lifetime_value
from tests.analytics_customers.conftest import DATA


def significant(value: float, digits: int = 3) -> float:
    return float(f"{value:.{digits}g}")


@pytest.fixture(scope="module")
def cdnow() -> CustomerSummary:
    return summarize(
        read_cdnow(str(DATA / "CDNOW_sample.txt")),
        calibration_end=date(1997, 9, 30),
        observation_end=date(1998, 6, 30),
        unit_days=7,
    )


def test_the_sample_summarises_as_published(cdnow: CustomerSummary) -> None:
    assert len(cdnow) == 2357
    assert int(cdnow.repeat.sum()) == 946
    assert cdnow.frequency.sum() == 2457  # repeat purchase days in calibration
    assert cdnow.T.max() == pytest.approx(272 / 7)  # bought on 1997-01-01
    assert cdnow.holdout_length == 39
    assert cdnow.holdout_frequency.sum() == 1882  # purchase days; 1,959 transactions
    # customer 1 of the sample: repeat purchases on 1997-01-18 and 1997-08-02
    assert (cdnow.frequency[0], cdnow.recency[0]) == (2, 213 / 7)
    assert cdnow.monetary[0] == pytest.approx((29.73 + 14.96) / 2)


def test_bgnbd_reproduces_the_published_estimates(cdnow: CustomerSummary) -> None:
    fitted = bgnbd.fit(cdnow.frequency, cdnow.recency, cdnow.T)
    params = fitted.params
    assert fitted.converged
    assert [significant(v) for v in (params.r, params.alpha, params.a, params.b)] == [
        0.243,
        4.41,
        0.793,
        2.43,
    ]
    assert round(params.alpha, 3) == 4.414
    assert round(params.b, 3) == 2.426
    assert round(fitted.log_likelihood, 1) == -9582.4
    assert fitted.n_rows < len(cdnow)  # identical (x, t_x, T) rows were compressed


def test_paretonbd_reproduces_the_published_estimates(cdnow: CustomerSummary) -> None:
    fitted = paretonbd.fit(cdnow.frequency, cdnow.recency, cdnow.T)
    params = fitted.params
    assert fitted.converged
    assert [round(v, 3) for v in (params.r, params.alpha, params.s, params.beta)] == [
        0.553,
        10.578,
        0.606,
        11.669,
    ]
    assert round(fitted.log_likelihood, 1) == -9595.0


def test_gamma_gamma_reproduces_the_published_estimates(cdnow: CustomerSummary) -> None:
    fitted = gammagamma.fit(cdnow.frequency, cdnow.monetary)
    params = fitted.params
    assert fitted.n_customers == 946
    assert (round(params.p, 2), round(params.q, 2), round(params.gamma, 2)) == (6.25, 3.74, 15.44)
    # the population mean spend per transaction, p·gamma/(q-1)
    assert params.population_mean == pytest.approx(35.17, abs=0.01)


def test_the_log_likelihood_at_the_published_point_matches(cdnow: CustomerSummary) -> None:
    at_published = bgnbd.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
    total = at_published.log_likelihood(cdnow.frequency, cdnow.recency, cdnow.T).sum()
    assert total == pytest.approx(-9582.4, abs=0.2)
    pareto = paretonbd.ParetoNbdParams(r=0.553, alpha=10.578, s=0.606, beta=11.669)
    assert pareto.log_likelihood(cdnow.frequency, cdnow.recency, cdnow.T).sum() == pytest.approx(
        -9595.0, abs=0.2
    )


def test_calibration_against_the_holdout(cdnow: CustomerSummary) -> None:
    params = bgnbd.fit(cdnow.frequency, cdnow.recency, cdnow.T).params
    check = calibration_vs_holdout(params, cdnow)
    assert [row.frequency for row in check.rows] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert [row.customers for row in check.rows] == [1411, 439, 214, 100, 62, 38, 29, 64]
    assert check.actual_total == 1882
    assert check.rows[0].actual_mean == pytest.approx(334 / 1411)
    assert abs(check.predicted_total - check.actual_total) / check.actual_total < 0.15
    predicted = [row.predicted_mean for row in check.rows]
    assert predicted == sorted(predicted)  # more past purchases, more expected
    assert check.mean_absolute_error < 0.25


def test_probability_alive_and_expectations_by_hand() -> None:
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    params = bgnbd.BgNbdParams(r=r, alpha=alpha, a=a, b=b)
    # a customer with no repeat purchase is alive by assumption of the model
    assert params.probability_alive(0, 0, 38.86)[()] == 1.0
    by_hand = 1 / (1 + a / (b + 2 - 1) * ((alpha + 38.86) / (alpha + 30.43)) ** (r + 2))
    assert params.probability_alive(2, 30.43, 38.86)[()] == pytest.approx(by_hand, rel=1e-12)
    # E[X(t)] for a new customer (equation 9) with the 2F1 series summed term by term
    t = 39.0
    z, term, series = t / (alpha + t), 1.0, 0.0
    for n in range(2000):
        series += term
        term *= (r + n) * (b + n) / ((a + b - 1 + n) * (n + 1)) * z
    expected = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * series)
    assert params.expected_purchases_new_customer(t)[()] == pytest.approx(expected, rel=1e-9)
    # ... and the conditional expectation of a customer observed for no time is the same
    assert params.expected_purchases(t, 0, 0, 0)[()] == pytest.approx(expected, rel=1e-9)


def test_lifetime_value_is_discounted_and_bounded(cdnow: CustomerSummary) -> None:
    purchases = bgnbd.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
    spend = gammagamma.GammaGammaParams(p=6.25, q=3.74, gamma=15.44)
    arguments = {
        "frequency": cdnow.frequency,
        "recency": cdnow.recency,
        "T": cdnow.T,
        "monetary": cdnow.monetary,
        "unit_days": 7,
    }
    undiscounted = lifetime_value(
        purchases, spend, discounting=Discounting(annual_rate=0.0), **arguments
    )
    discounted = lifetime_value(purchases, spend, **arguments)
    expected_spend = purchases.expected_purchases(
        365 / 7, cdnow.frequency, cdnow.recency, cdnow.T
    ) * spend.expected_average_value(cdnow.frequency, cdnow.monetary)
    np.testing.assert_allclose(undiscounted, expected_spend, rtol=1e-9)
    assert np.all(discounted < undiscounted)
    assert np.all(discounted > undiscounted / 1.1)
    assert math.isfinite(float(discounted.sum()))

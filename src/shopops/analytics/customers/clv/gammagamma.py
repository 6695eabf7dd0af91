"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV: Using Iso-Value Curves").

Each transaction's value is Gamma(p, nu) with nu ~ Gamma(q, gamma) across customers.
For a customer with x repeat transactions of mean value m̄ (x > 0):

    f(m̄ | p, q, gamma, x) = Γ(px+q) / (Γ(px) Γ(q)) · gamma^q x^(px) m̄^(px-1) / (gamma + x m̄)^(px+q)

It is fitted on repeat customers only (x > 0, m̄ > 0); the spend of a
customer's first purchase is left out of m̄ (see ``summary``). The expected
mean transaction value is the credibility-weighted
E[M] = (q-1)/(px+q-1) · gammap/(q-1) + px/(px+q-1) · m̄.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import digamma, gammaln

from shopops.analytics.customers.clv.fitting import (
    Array,
    ModelFit,
    as_float_array,
    compress,
    maximise,
    require_rows,
)
from shopops.kernel.errors import ValidationFailed

NAME = "gammagamma"


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    gamma: float

    def as_dict(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "gamma": self.gamma}

    def log_likelihood(self, x: ArrayLike, monetary: ArrayLike) -> Array:
        xs, ms = np.broadcast_arrays(
            np.asarray(x, dtype=np.float64), np.asarray(monetary, dtype=np.float64)
        )
        return _terms(self, xs, ms)[0]

    @property
    def population_mean(self) -> float:
        """E[M] for a customer about whom nothing is known (needs q > 1)."""
        if self.q <= 1:
            return float("inf")
        return self.p * self.gamma / (self.q - 1)

    def expected_average_value(self, x: ArrayLike, monetary: ArrayLike) -> Array:
        """E[M | x, m̄]; the population mean for customers without repeat purchases."""
        xs, ms = np.broadcast_arrays(
            np.asarray(x, dtype=np.float64), np.asarray(monetary, dtype=np.float64)
        )
        p, q, gamma = self.p, self.q, self.gamma
        with np.errstate(divide="ignore", invalid="ignore"):
            value = (gamma + xs * ms) * p / (p * xs + q - 1)
        return np.asarray(np.where(xs > 0, value, self.population_mean), dtype=np.float64)


def _terms(params: GammaGammaParams, x: Array, m: Array) -> tuple[Array, Array]:
    """Per-customer log-likelihood and its gradient w.r.t. (p, q, gamma), shape (3, n)."""
    p, q, gamma = params.p, params.q, params.gamma
    px = p * x
    log_total = np.log(gamma + x * m)
    value = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + px * np.log(x)
        + (px - 1) * np.log(m)
        - (px + q) * log_total
    )
    shared = digamma(px + q)
    gradient = np.stack(
        [
            x * (shared - digamma(px) + np.log(x) + np.log(m) - log_total),
            shared - digamma(q) + np.log(gamma) - log_total,
            q / gamma - (px + q) / (gamma + x * m),
        ]
    )
    return value, gradient


def fit(
    frequency: ArrayLike,
    monetary: ArrayLike,
    *,
    start: GammaGammaParams | None = None,
) -> ModelFit[GammaGammaParams]:
    """Maximum-likelihood parameters from the repeat customers among those given."""
    xs = as_float_array(frequency, "frequency")
    ms = as_float_array(monetary, "monetary")
    if len(xs) != len(ms):
        raise ValidationFailed("clv.invalid_input", "frequency and monetary differ in length")
    repeat = (xs > 0) & (ms > 0)
    require_rows(int(repeat.sum()), 2, "customers with repeat purchases and positive spend")
    (ux, um), weights = compress(xs[repeat], ms[repeat])
    initial = start or GammaGammaParams(p=1.0, q=1.0, gamma=float(np.mean(ms[repeat])))

    def objective(log_params: Array) -> tuple[float, Array]:
        values, gradient = _terms(GammaGammaParams(*np.exp(log_params)), ux, um)
        return float(weights @ values), (gradient @ weights) * np.exp(log_params)

    point, log_likelihood, iterations, converged, message = maximise(
        objective, list(initial.as_dict().values()), total_weight=float(weights.sum())
    )
    return ModelFit(
        params=GammaGammaParams(*(float(v) for v in np.exp(point))),
        log_likelihood=log_likelihood,
        n_customers=int(repeat.sum()),
        n_rows=len(ux),
        iterations=iterations,
        converged=converged,
        message=message,
    )

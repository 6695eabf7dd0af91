"""BG/NBD purchase model (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way").

While alive a customer buys as a Poisson process with rate λ ~ Gamma(r, alpha);
after each purchase they drop out with probability p ~ Beta(a, b). For one
customer with ``x`` repeat purchases, the last at ``t_x``, observed for ``T``
(all in the same time unit):

    L = B(a, b+x)/B(a, b) · Γ(r+x) alpha^r / (Γ(r) (alpha+T)^(r+x))
        + [x > 0] · B(a+1, b+x-1)/B(a, b) · Γ(r+x) alpha^r / (Γ(r) (alpha+t_x)^(r+x))

evaluated in logs (``logaddexp`` of the two terms) with its closed-form
gradient, so the fit is exact to the optimiser's tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betaln, digamma, gammaln, hyp2f1

from shopops.analytics.customers.clv.fitting import (
    Array,
    ModelFit,
    as_float_array,
    compress,
    maximise,
    require_rows,
)

NAME = "bgnbd"


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float

    def as_dict(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}

    def log_likelihood(self, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Array:
        """Per-customer log-likelihood."""
        return _terms(self, *_arrays(x, t_x, T))[0]

    def probability_alive(self, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Array:
        """P(still alive at T | x, t_x, T); 1 for customers without repeat purchases."""
        xs, txs, Ts = _arrays(x, t_x, T)
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        with np.errstate(divide="ignore", invalid="ignore"):
            log_odds = (
                np.log(a)
                - np.log(np.maximum(b + xs - 1, 1e-300))
                + (r + xs) * (np.log(alpha + Ts) - np.log(alpha + txs))
            )
        odds = np.where(xs > 0, np.exp(np.minimum(log_odds, 700.0)), 0.0)
        return np.asarray(1.0 / (1.0 + odds), dtype=np.float64)

    def expected_purchases(
        self,
        t: float | ArrayLike,
        x: ArrayLike,
        t_x: ArrayLike,
        T: ArrayLike,
    ) -> Array:
        """E[purchases in (T, T+t] | x, t_x, T] (equation 10 of the paper)."""
        xs, txs, Ts = _arrays(x, t_x, T)
        horizon = np.broadcast_to(np.asarray(t, dtype=np.float64), xs.shape)
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        z = horizon / (alpha + Ts + horizon)
        hyper = hyp2f1(r + xs, b + xs, a + b + xs - 1, z)
        decay = np.exp((r + xs) * (np.log(alpha + Ts) - np.log(alpha + Ts + horizon)))
        bracket = (a + b + xs - 1) / (a - 1) * (1.0 - decay * hyper)
        expected = bracket * self.probability_alive(xs, txs, Ts)
        return np.asarray(np.maximum(expected, 0.0), dtype=np.float64)

    def expected_purchases_new_customer(self, t: float | ArrayLike) -> Array:
        """E[X(t)] for a customer just acquired (equation 9)."""
        horizon = np.asarray(t, dtype=np.float64)
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        z = horizon / (alpha + horizon)
        decay = (alpha / (alpha + horizon)) ** r
        value = (a + b - 1) / (a - 1) * (1.0 - decay * hyp2f1(r, b, a + b - 1, z))
        return np.asarray(value, dtype=np.float64)


def _arrays(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> tuple[Array, Array, Array]:
    xs, txs, Ts = np.broadcast_arrays(
        np.asarray(x, dtype=np.float64),
        np.asarray(t_x, dtype=np.float64),
        np.asarray(T, dtype=np.float64),
    )
    return xs, txs, Ts


def _terms(
    params: BgNbdParams,
    x: Array,
    t_x: Array,
    T: Array,
) -> tuple[Array, Array]:
    """Per-customer log-likelihood and its gradient w.r.t. (r, alpha, a, b), shape (4, n)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    repeat = x > 0
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    b_x1 = np.where(repeat, b + x - 1, 1.0)
    a4 = np.where(
        repeat,
        np.log(a) - np.log(b_x1) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    mixed = np.logaddexp(a3, a4)
    weight = np.exp(a4 - mixed)  # share of the "dropped out at t_x" term; 0 when x == 0
    # a2 = lnΓ(b+x) + lnΓ(a+b) - lnΓ(b) - lnΓ(a+b+x) (the Γ(a) terms cancel)
    d_ab = digamma(a + b) - digamma(a + b + x)
    gradient = np.stack(
        [
            digamma(r + x)
            - digamma(r)
            + np.log(alpha)
            - (1 - weight) * np.log(alpha + T)
            - weight * np.log(alpha + t_x),
            r / alpha - (1 - weight) * (r + x) / (alpha + T) - weight * (r + x) / (alpha + t_x),
            d_ab + weight / a,
            d_ab + digamma(b + x) - digamma(b) - np.where(repeat, weight / b_x1, 0.0),
        ]
    )
    return a1 + a2 + mixed, gradient


def fit(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    start: BgNbdParams | None = None,
) -> ModelFit[BgNbdParams]:
    """Maximum-likelihood BG/NBD parameters for the customers given."""
    xs = as_float_array(frequency, "frequency")
    txs = as_float_array(recency, "recency")
    Ts = as_float_array(T, "T")
    require_rows(len(xs), 2, "customers")
    (ux, utx, uT), weights = compress(xs, txs, Ts)
    initial = start or BgNbdParams(r=1.0, alpha=max(float(np.mean(Ts)), 1e-3), a=1.0, b=1.0)

    def objective(log_params: Array) -> tuple[float, Array]:
        params = BgNbdParams(*np.exp(log_params))
        values, gradient = _terms(params, ux, utx, uT)
        total = float(weights @ values)
        # chain rule: d/d log θ = θ · d/dθ
        return total, (gradient @ weights) * np.exp(log_params)

    point, log_likelihood, iterations, converged, message = maximise(
        objective, list(initial.as_dict().values()), total_weight=float(weights.sum())
    )
    return ModelFit(
        params=BgNbdParams(*(float(v) for v in np.exp(point))),
        log_likelihood=log_likelihood,
        n_customers=len(xs),
        n_rows=len(ux),
        iterations=iterations,
        converged=converged,
        message=message,
    )

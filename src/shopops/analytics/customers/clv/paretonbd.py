"""Pareto/NBD purchase model (Schmittlein, Morrison & Colombo 1987).

While alive a customer buys as a Poisson process with rate λ ~ Gamma(r, alpha)
and has an exponential lifetime with rate μ ~ Gamma(s, β). The likelihood is
the form in Fader & Hardie's note "A Note on Deriving the Pareto/NBD Model and
Related Expressions" (2005), with ``Z = r + s + x``:

    L = Γ(r+x) alpha^r β^s / Γ(r) · [ 1/((alpha+T)^(r+x) (β+T)^s) + s/Z · A0 ]

    A0 = F(t_x) - F(T),  for alpha ≥ β: F(t) = 2F1(Z, s+1; Z+1; (alpha-β)/(alpha+t)) / (alpha+t)^Z
                         for alpha < β: F(t) = 2F1(Z, r+x; Z+1; (β-alpha)/(β+t)) / (β+t)^Z

A0 is a difference of two nearly equal numbers for customers with t_x close
to T, and each F can over- or underflow for large x, so everything stays in
logs: log A0 = log F(t_x) + log1p(-exp(log F(T) - log F(t_x))). The Gaussian
hypergeometric is evaluated after Euler's transformation,
2F1(Z, b; Z+1; z) = (1-z)^(1-b) 2F1(1, Z+1-b; Z+1; z), whose series has
positive terms falling at least as fast as z^n, so there is no cancellation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import gammaln, hyp2f1

from shopops.analytics.customers.clv.fitting import (
    Array,
    ModelFit,
    as_float_array,
    central_gradient,
    compress,
    maximise,
    require_rows,
)

NAME = "paretonbd"


@dataclass(frozen=True)
class ParetoNbdParams:
    r: float
    alpha: float
    s: float
    beta: float

    def as_dict(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "s": self.s, "beta": self.beta}

    def log_likelihood(self, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Array:
        """Per-customer log-likelihood."""
        xs, txs, Ts = _arrays(x, t_x, T)
        head, alive, dead = _log_parts(self, xs, txs, Ts)
        return np.asarray(head + np.logaddexp(alive, dead), dtype=np.float64)

    def probability_alive(self, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Array:
        """P(still alive at T | x, t_x, T): the "alive" share of the likelihood."""
        xs, txs, Ts = _arrays(x, t_x, T)
        _, alive, dead = _log_parts(self, xs, txs, Ts)
        return np.asarray(np.exp(alive - np.logaddexp(alive, dead)), dtype=np.float64)

    def expected_purchases(
        self,
        t: float | ArrayLike,
        x: ArrayLike,
        t_x: ArrayLike,
        T: ArrayLike,
    ) -> Array:
        """E[purchases in (T, T+t] | x, t_x, T]:

        (r+x)(β+T)/((alpha+T)(s-1)) · [1 - ((β+T)/(β+T+t))^(s-1)] · P(alive),
        written with expm1/log1p so that s = 1 (the limit ln(1+t/(β+T))) is exact.
        """
        xs, txs, Ts = _arrays(x, t_x, T)
        horizon = np.broadcast_to(np.asarray(t, dtype=np.float64), xs.shape)
        growth = np.log1p(horizon / (self.beta + Ts))
        exponent = self.s - 1.0
        exact_limit = abs(exponent) < 1e-9
        lifetime = growth if exact_limit else -np.expm1(-exponent * growth) / exponent
        rate = (self.r + xs) / (self.alpha + Ts) * (self.beta + Ts)
        return np.asarray(rate * lifetime * self.probability_alive(xs, txs, Ts), dtype=np.float64)

    def expected_purchases_new_customer(self, t: float | ArrayLike) -> Array:
        """E[X(t)] for a customer just acquired: rβ/(alpha(s-1)) · [1 - (β/(β+t))^(s-1)]."""
        zeros = np.zeros_like(np.asarray(t, dtype=np.float64))
        expected = self.expected_purchases(t, zeros, zeros, zeros)
        return np.asarray(expected, dtype=np.float64)


def _arrays(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> tuple[Array, Array, Array]:
    xs, txs, Ts = np.broadcast_arrays(
        np.asarray(x, dtype=np.float64),
        np.asarray(t_x, dtype=np.float64),
        np.asarray(T, dtype=np.float64),
    )
    return xs, txs, Ts


def _log_hyp2f1_c_is_a_plus_1(big_z: Array, b: Array, z: Array) -> Array:
    """log 2F1(Z, b; Z+1; z) for 0 <= z < 1, through Euler's transformation."""
    return np.asarray(
        (1.0 - b) * np.log1p(-z) + np.log(hyp2f1(1.0, big_z + 1.0 - b, big_z + 1.0, z))
    )


def _log_parts(
    params: ParetoNbdParams,
    x: Array,
    t_x: Array,
    T: Array,
) -> tuple[Array, Array, Array]:
    """(log Γ(r+x)alpha^rβ^s/Γ(r), log of the alive term, log of s/Z · A0)."""
    r, alpha, s, beta = params.r, params.alpha, params.s, params.beta
    big_z = r + s + x
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    if alpha >= beta:
        b_array, base, gap = np.full(x.shape, s + 1.0), alpha, alpha - beta
    else:
        b_array, base, gap = r + x, beta, beta - alpha
    log_f_tx = _log_hyp2f1_c_is_a_plus_1(big_z, b_array, gap / (base + t_x)) - big_z * np.log(
        base + t_x
    )
    log_f_T = _log_hyp2f1_c_is_a_plus_1(big_z, b_array, gap / (base + T)) - big_z * np.log(base + T)
    with np.errstate(divide="ignore"):
        log_a0 = log_f_tx + np.log(-np.expm1(np.minimum(log_f_T - log_f_tx, 0.0)))
    dead = np.log(s) - np.log(big_z) + log_a0
    return head, alive, dead


def fit(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    start: ParetoNbdParams | None = None,
) -> ModelFit[ParetoNbdParams]:
    """Maximum-likelihood Pareto/NBD parameters (central-difference gradient)."""
    xs = as_float_array(frequency, "frequency")
    txs = as_float_array(recency, "recency")
    Ts = as_float_array(T, "T")
    require_rows(len(xs), 2, "customers")
    (ux, utx, uT), weights = compress(xs, txs, Ts)
    mean_T = max(float(np.mean(Ts)), 1e-3)
    initial = start or ParetoNbdParams(r=1.0, alpha=mean_T, s=1.0, beta=mean_T)

    def total(log_params: Array) -> float:
        params = ParetoNbdParams(*np.exp(log_params))
        return float(weights @ params.log_likelihood(ux, utx, uT))

    point, log_likelihood, iterations, converged, message = maximise(
        central_gradient(total),
        list(initial.as_dict().values()),
        total_weight=float(weights.sum()),
    )
    return ModelFit(
        params=ParetoNbdParams(*(float(v) for v in np.exp(point))),
        log_likelihood=log_likelihood,
        n_customers=len(xs),
        n_rows=len(ux),
        iterations=iterations,
        converged=converged,
        message=message,
    )

"""What every lifetime-value model shares: row compression and the maximum-likelihood fit.

The models are fitted by maximising the log-likelihood with L-BFGS-B over the
logarithms of their (positive) parameters. Customers with identical
``(x, t_x, T)`` (or ``(x, mean spend)``) contribute identical terms, so the rows
are compressed to unique combinations with a weight each: on data recorded to
the day that cuts a million customers to a few tens of thousands of rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from shopops.kernel.errors import ValidationFailed

Array = NDArray[np.float64]
ParamsT = TypeVar("ParamsT")

# exp(±10) spans 4.5e-5 .. 22,026: wider than any published estimate, and it keeps
# degenerate fits (tiny data sets, where the likelihood grows without bound) finite.
LOG_BOUND = 10.0


@dataclass(frozen=True)
class ModelFit(Generic[ParamsT]):
    """A fitted model: its parameters and how the fit went."""

    params: ParamsT
    log_likelihood: float
    n_customers: int
    n_rows: int  # unique rows actually evaluated
    iterations: int
    converged: bool
    message: str = field(default="", compare=False)


def as_float_array(values: ArrayLike, name: str) -> Array:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValidationFailed("clv.invalid_input", f"{name} must be one-dimensional")
    if not np.all(np.isfinite(array)):
        raise ValidationFailed("clv.invalid_input", f"{name} holds a missing or infinite value")
    return array


def compress(*columns: Array) -> tuple[list[Array], Array]:
    """Unique rows of the given equal-length columns and how many times each occurs."""
    n = len(columns[0])
    if n == 0:
        return [c[:0] for c in columns], np.zeros(0)
    order = np.lexsort(columns[::-1])
    sorted_columns = [c[order] for c in columns]
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for column in sorted_columns:
        change[1:] |= column[1:] != column[:-1]
    starts = np.flatnonzero(change)
    counts = np.diff(np.append(starts, n)).astype(np.float64)
    return [c[starts] for c in sorted_columns], counts


Objective = Callable[[Array], tuple[float, Array]]


def central_gradient(function: Callable[[Array], float], step: float = 1e-6) -> Objective:
    """Value and central-difference gradient, for likelihoods without a closed-form gradient."""

    def value_and_gradient(point: Array) -> tuple[float, Array]:
        value = function(point)
        gradient = np.empty_like(point)
        for index in range(point.size):
            shift = np.zeros_like(point)
            shift[index] = step
            gradient[index] = (function(point + shift) - function(point - shift)) / (2 * step)
        return value, gradient

    return value_and_gradient


def maximise(
    objective: Objective,
    start: Sequence[float],
    *,
    total_weight: float,
) -> tuple[Array, float, int, bool, str]:
    """Maximise a total log-likelihood over log-parameters with L-BFGS-B.

    ``objective(log_params)`` returns the total log-likelihood and its gradient
    with respect to the log-parameters. It is scaled by the number of customers
    so the tolerances mean the same for a thousand customers or a million.
    Returns (log_params, log_likelihood, iterations, converged, message).
    """

    def negative_mean(point: Array) -> tuple[float, Array]:
        value, gradient = objective(point)
        if not np.isfinite(value):
            return np.inf, np.zeros_like(point)
        return -value / total_weight, -gradient / total_weight

    x0 = np.log(np.asarray(start, dtype=np.float64))
    # L-BFGS-B's few-parameter vector steps call BLAS; a BLAS thread pool only adds
    # wake-up latency to them (tenfold on a busy machine), so it is held to one thread.
    with threadpool_limits(limits=1, user_api="blas"):
        result = minimize(
            negative_mean,
            x0,
            jac=True,
            method="L-BFGS-B",
            bounds=[(-LOG_BOUND, LOG_BOUND)] * x0.size,
            options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9, "maxcor": 20},
        )
    point = np.asarray(result.x, dtype=np.float64)
    log_likelihood = float(-result.fun * total_weight)
    return point, log_likelihood, int(result.nit), bool(result.success), str(result.message)


def require_rows(count: int, minimum: int, what: str) -> None:
    if count < minimum:
        raise ValidationFailed(
            "clv.not_enough_data",
            f"fitting needs at least {minimum} {what}; got {count}",
            details={"needed": minimum, "got": count},
        )

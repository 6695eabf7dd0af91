"""Customer analytics benchmark: RFM scoring, a 24-month cohort matrix, CLV model fits.

    .venv/bin/python bench/customer_analytics.py                       # small sizes
    .venv/bin/python bench/customer_analytics.py --rfm 500000 --cohort-transactions 2000000 \
        --fit 1000000                                                  # the targets' sizes

Targets: RFM for 500,000 customers <= 0.6 s; a 24-month cohort matrix <= 1 s; BG/NBD +
Gamma-Gamma fit for 1,000,000 customers <= 5 s. The data are simulated from the BG/NBD and
Gamma-Gamma models with CDNOW-like parameters, times recorded to the day, so the fit should
recover the parameters. When the `lifetimes` package can be imported (it is not a project
dependency: e.g. `pip install --no-deps --target /tmp/ltlib lifetimes autograd dill` and run
with PYTHONPATH=/tmp/ltlib) its fit time on the same data is printed alongside.
"""

from __future__ import annotations

import argparse
import importlib
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from shopops.analytics.customers import cohorts, rfm
from shopops.analytics.customers.clv import bgnbd, gammagamma
from shopops.analytics.customers.clv.summary import Transactions

TRUE_BGNBD = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}  # per week
TRUE_GG = {"p": 6.0, "q": 3.8, "gamma": 15.0}


def timed(function: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def simulate_customers(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """(frequency, recency, T) in weeks, recorded to the day, and mean repeat spend."""
    weeks_observed = rng.integers(1, 52 * 7, n) / 7.0
    rate = rng.gamma(TRUE_BGNBD["r"], 1.0 / TRUE_BGNBD["alpha"], n)
    drop = rng.beta(TRUE_BGNBD["a"], TRUE_BGNBD["b"], n)
    frequency = np.zeros(n)
    last = np.zeros(n)
    clock = np.zeros(n)
    active = np.arange(n)
    while active.size:
        clock[active] += rng.exponential(1.0 / np.maximum(rate[active], 1e-12))
        bought = clock[active] <= weeks_observed[active]
        buyers = active[bought]
        frequency[buyers] += 1
        last[buyers] = clock[buyers]
        survive = rng.random(buyers.size) >= drop[buyers]
        active = buyers[survive]
    recency = np.floor(last * 7) / 7.0
    nu = rng.gamma(TRUE_GG["q"], 1.0 / TRUE_GG["gamma"], n)
    repeat = frequency > 0
    monetary = np.zeros(n)
    shape = TRUE_GG["p"] * frequency[repeat]
    monetary[repeat] = np.round(rng.gamma(shape, 1.0 / (nu[repeat] * frequency[repeat])), 2)
    return {"frequency": frequency, "recency": recency, "T": weeks_observed, "monetary": monetary}


def bench_rfm(n: int, rng: np.random.Generator) -> None:
    recency = rng.integers(0, 730, n)
    frequency = rng.geometric(0.45, n)
    monetary = np.round(rng.lognormal(8.5, 1.0, n) * frequency)
    seconds, scores = timed(lambda: rfm.score(recency, frequency, monetary))
    champions = int((scores.segment_code == rfm.SEGMENTS.index(rfm.CHAMPIONS)).sum())
    print(f"RFM: {n:,} customers scored in {seconds:.3f} s ({champions:,} Champions)")


def bench_cohorts(n_transactions: int, rng: np.random.Generator) -> None:
    customers = max(n_transactions // 4, 1)
    first = rng.integers(0, 730, customers)
    owner = rng.integers(0, customers, n_transactions)
    day = 20_000 + first[owner] + rng.integers(0, 365, n_transactions)
    data = Transactions.from_arrays(owner, day, rng.lognormal(8.5, 1.0, n_transactions))
    end = int(data.day.max())
    for measure in ("customers", "revenue"):
        seconds, matrix = timed(
            lambda measure=measure: cohorts.cohort_matrix(
                data, grain="month", measure=measure, periods=24, as_of_day=end
            )
        )
        print(
            f"cohorts ({measure}): {n_transactions:,} transactions of {customers:,} customers, "
            f"{len(matrix.cohorts)} x {matrix.offsets} matrix in {seconds:.3f} s"
        )


def bench_fit(n: int, rng: np.random.Generator, lifetimes_max: int) -> None:
    data = simulate_customers(n, rng)
    repeat = int((data["frequency"] > 0).sum())
    print(f"CLV fit: {n:,} simulated customers ({repeat:,} with repeat purchases)")

    def ours() -> tuple[Any, Any]:
        purchases = bgnbd.fit(data["frequency"], data["recency"], data["T"])
        spend = gammagamma.fit(data["frequency"], data["monetary"])
        return purchases, spend

    seconds, (purchases, spend) = timed(ours, repeat=1)
    print(
        f"  shopops BG/NBD + Gamma-Gamma: {seconds:.2f} s "
        f"({purchases.n_rows:,} + {spend.n_rows:,} unique rows)"
    )
    print(f"    BG/NBD {_fmt(purchases.params.as_dict())} (true {_fmt(TRUE_BGNBD)})")
    print(f"    Gamma-Gamma {_fmt(spend.params.as_dict())} (true {_fmt(TRUE_GG)})")
    try:
        lifetimes = importlib.import_module("lifetimes")
        pandas = importlib.import_module("pandas")
    except ImportError as error:
        print(f"  lifetimes: not importable here ({error}); no comparison")
        return
    size = min(n, lifetimes_max)
    frame = pandas.DataFrame({k: v[:size] for k, v in data.items()})
    repeaters = frame[frame.frequency > 0]

    def theirs() -> tuple[Any, Any]:
        purchases = lifetimes.BetaGeoFitter().fit(frame.frequency, frame.recency, frame["T"])
        spend = lifetimes.GammaGammaFitter().fit(repeaters.frequency, repeaters.monetary)
        return purchases, spend

    try:
        seconds, (their_purchases, their_spend) = timed(theirs, repeat=1)
    except Exception as error:  # report whatever the other library raises
        print(f"  lifetimes {lifetimes.__version__}: fit failed: {error!r}")
        return
    print(f"  lifetimes {lifetimes.__version__} on {size:,} customers: {seconds:.2f} s")
    print(f"    BG/NBD {_fmt(dict(their_purchases.params_))}")
    print(f"    Gamma-Gamma {_fmt(dict(their_spend.params_))}")


def _fmt(params: dict[str, float]) -> str:
    return ", ".join(f"{k}={float(v):.4g}" for k, v in params.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rfm", type=int, default=100_000, help="customers to score")
    parser.add_argument("--cohort-transactions", type=int, default=200_000)
    parser.add_argument("--fit", type=int, default=100_000, help="customers to fit on")
    parser.add_argument("--lifetimes-max", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print(
        f"sizes: rfm={args.rfm:,} customers, cohorts={args.cohort_transactions:,} "
        f"transactions, fit={args.fit:,} customers"
    )
    bench_rfm(args.rfm, rng)
    bench_cohorts(args.cohort_transactions, rng)
    bench_fit(args.fit, rng, args.lifetimes_max)


if __name__ == "__main__":
    main()

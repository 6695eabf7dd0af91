"""Shared pieces of the benchmarks: a scratch PostgreSQL database and latency summaries."""

from __future__ import annotations

import os
import statistics
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import create_engine, text

PG_SERVER_URL = os.environ.get(
    "SHOPOPS_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def scratch_database(name: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one benchmark run, dropped afterwards."""
    admin = create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_SERVER_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary(values_ms: Sequence[float]) -> str:
    return (
        f"p50 {percentile(values_ms, 0.5):7.2f} ms  p99 {percentile(values_ms, 0.99):7.2f} ms"
        f"  mean {statistics.fmean(values_ms) if values_ms else float('nan'):7.2f} ms"
    )

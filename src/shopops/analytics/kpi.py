"""Evaluating KPIs: one aggregate query per fact, on whichever engine ``Sources`` wraps.

A request is a window cut by a grain (or not cut) and an optional breakdown.
Several requests over the same window share one query per fact (a UNION ALL of
their GROUP BYs), so a whole dashboard costs a handful of round trips. Requests the
store's daily rollups can answer (``rollups.usable``) read them instead of the raw
tables, with the same results. Inventory metrics need stock at the end of each
bucket: see ``stock``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from shopops.analytics import rollups, stock
from shopops.analytics.metrics.definitions import Metric
from shopops.analytics.metrics.facts import (
    FACTS,
    NONE,
    FactContext,
)
from shopops.analytics.metrics.registry import BREAKDOWNS, breakdowns_of, check_breakdown
from shopops.analytics.periods import Compare, Period
from shopops.analytics.sources import Sources, StoreSources
from shopops.kernel.money import currency_exponent

Key = tuple[int, str]  # (bucket key, breakdown value)
Cells = dict[Key, dict[str, Any]]
INVENTORY_DERIVED = (
    "stock_start_units",
    "stock_start_value",
    "stock_end_units",
    "stock_end_value",
    "positions",
    "positions_out",
    "bucket_days",
)


@dataclass(frozen=True)
class Request:
    period: Period
    by: str | None = None


# --- engine side ----------------------------------------------------------------------------


def _signature(request: Request) -> tuple[Any, ...]:
    period = request.period
    return (period.start, period.end, period.tz, period.grain, request.by)


def _branch(
    table: ir.Table, request: Request, index: int, aggregates: Mapping[str, Any]
) -> ir.Table:
    period = request.period
    window = table.filter(table.ts >= period.utc_start, table.ts < period.utc_end)
    dim = (
        window[request.by].cast("string")
        if request.by is not None
        else ibis.literal(NONE, type="string")
    )
    window = window.mutate(_bucket=period.bucket_expr(window.ts), _dim=dim)
    grouped = window.group_by(["_bucket", "_dim"]).aggregate(
        **{name: build(window).cast("float64") for name, build in aggregates.items()}
    )
    return grouped.mutate(_request=ibis.literal(index, type="int64"))


def _union(branches: Sequence[ir.Table]) -> ir.Table:
    return branches[0] if len(branches) == 1 else ibis.union(*branches, distinct=False)


def _clean(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if number != number else number  # NaN (pandas' missing) -> None


def _collect(frame: pd.DataFrame, names: Sequence[str], count: int) -> list[Cells]:
    cells: list[Cells] = [{} for _ in range(count)]
    columns = [frame[n].tolist() for n in names]
    keys = zip(
        frame["_request"].tolist(), frame["_bucket"].tolist(), frame["_dim"].tolist(), strict=True
    )
    for row, (request, bucket, dim) in enumerate(keys):
        cells[int(request)][(int(bucket), str(dim))] = {
            n: _clean(column[row]) for n, column in zip(names, columns, strict=True)
        }
    return cells


def fact_cells(
    src: Sources,
    ctx: FactContext,
    fact_name: str,
    needs: set[str],
    requests: Sequence[Request],
) -> list[Cells]:
    """Aggregates of one fact for each request: {(bucket, breakdown value): {name: value}}."""
    if fact_name == "inventory":
        return stock.inventory_cells(src, ctx, [(r.period, r.by) for r in requests])
    out: list[Cells | None] = [None] * len(requests)
    if isinstance(src, StoreSources) and fact_name in rollups.ROLLUP_FACTS:
        ready = [i for i, r in enumerate(requests) if rollups.usable(src, r.period)]
        if ready:
            cells = rollups.fact_cells(
                src, ctx, fact_name, needs, [(requests[i].period, requests[i].by) for i in ready]
            )
            for index, found in zip(ready, cells, strict=True):
                out[index] = found
    rest = [i for i, found in enumerate(out) if found is None]
    if rest:
        raw = _raw_cells(src, ctx, fact_name, needs, [requests[i] for i in rest])
        for index, found in zip(rest, raw, strict=True):
            out[index] = found
    return [found if found is not None else {} for found in out]


def _raw_cells(
    src: Sources,
    ctx: FactContext,
    fact_name: str,
    needs: set[str],
    requests: Sequence[Request],
) -> list[Cells]:
    fact = FACTS[fact_name]
    aggregates = {name: fact.aggregates[name] for name in sorted(needs) if name in fact.aggregates}

    def build() -> ir.Table:
        table = fact.build(src, ctx)
        return _union([_branch(table, r, i, aggregates) for i, r in enumerate(requests)])

    key = ("fact", fact_name, tuple(aggregates), ctx, tuple(_signature(r) for r in requests))
    return _collect(src.frame(key, build), list(aggregates), len(requests))


# --- metric values --------------------------------------------------------------------------


@dataclass
class Series:
    """One metric for one request: a value per (bucket, breakdown value)."""

    metric: Metric
    request: Request
    values: dict[Key, float | int | None] = field(default_factory=dict)
    inputs: dict[Key, dict[str, Any]] = field(default_factory=dict)


def evaluate(
    src: Sources, ctx: FactContext, metrics: Sequence[Metric], requests: Sequence[Request]
) -> list[list[Series]]:
    """For each request, one ``Series`` per metric that supports its breakdown."""
    by_fact: dict[str, list[Metric]] = defaultdict(list)
    for metric in metrics:
        by_fact[metric.fact].append(metric)
    out: list[list[Series]] = [[] for _ in requests]
    for fact_name, fact_metrics in by_fact.items():
        wanted = [
            (i, r)
            for i, r in enumerate(requests)
            if r.by is None or r.by in FACTS[fact_name].dimensions
        ]
        if not wanted:
            continue
        needs = {n for m in fact_metrics for n in m.needs}
        cells = fact_cells(src, ctx, fact_name, needs, [r for _, r in wanted])
        for (index, request), request_cells in zip(wanted, cells, strict=True):
            dims = sorted({dim for _, dim in request_cells})
            if request.by is None:
                dims = [NONE]
            for metric in fact_metrics:
                series = Series(metric, request)
                for bucket in request.period.buckets():
                    for dim in dims:
                        inputs = request_cells.get((bucket.key, dim), {})
                        series.values[(bucket.key, dim)] = _integral(metric.compute(inputs))
                        series.inputs[(bucket.key, dim)] = inputs
                out[index].append(series)
    order = {m.name: i for i, m in enumerate(metrics)}
    for series_list in out:
        series_list.sort(key=lambda s: order[s.metric.name])
    return out


def _integral(value: float | int | None) -> float | int | None:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


# --- the KPI answer -------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiRow:
    period: str
    breakdown: str | None
    value: float | int | None
    comparison: float | int | None = None

    @property
    def change(self) -> float | None:
        if self.value is None or self.comparison in (None, 0):
            return None
        assert self.comparison is not None
        return round((self.value - self.comparison) / abs(self.comparison), 6)


@dataclass(frozen=True)
class KpiAnswer:
    metric: Metric
    period: Period
    by: str | None
    compare: Compare | None
    comparison_period: Period | None
    rows: tuple[KpiRow, ...]
    total: KpiRow


def kpi(
    src: Sources,
    ctx: FactContext,
    metric: Metric,
    period: Period,
    *,
    by: str | None = None,
    compare: Compare | None = None,
) -> KpiAnswer:
    """One metric over a window, cut by grain, broken down, compared with another window."""
    check_breakdown([metric], by)
    whole = Period(period.start, period.end, period.tz, None)
    requests = [Request(period, by), Request(whole, None)]
    shifted = period.shifted(compare) if compare else None
    if shifted is not None:
        requests += [
            Request(shifted, by),
            Request(Period(shifted.start, shifted.end, shifted.tz, None), None),
        ]
    # Requests over different windows cannot share a query; group them by window.
    results: list[Series] = []
    for window_requests in _by_window(requests):
        series_lists = evaluate(src, ctx, [metric], window_requests)
        results.extend(s[0] for s in series_lists)
    main, total = results[0], results[1]
    compared = results[2] if shifted is not None else None
    compared_total = results[3] if shifted is not None else None
    rows = []
    buckets = period.buckets()
    compared_buckets = shifted.buckets() if shifted is not None else []
    dims = sorted({dim for _, dim in main.values})
    for position, bucket in enumerate(buckets):
        for dim in dims:
            comparison = None
            if compared is not None and position < len(compared_buckets):
                key = (compared_buckets[position].key, dim)
                # a breakdown value absent from the other window: what no data gives
                comparison = compared.values.get(key, _integral(metric.compute({})))
            rows.append(
                KpiRow(
                    bucket.label,
                    dim if by is not None else None,
                    main.values.get((bucket.key, dim)),
                    comparison,
                )
            )
    total_value = total.values.get((0, NONE))
    total_comparison = compared_total.values.get((0, NONE)) if compared_total else None
    return KpiAnswer(
        metric,
        period,
        by,
        compare,
        shifted,
        tuple(rows),
        KpiRow(whole.buckets()[0].label, None, total_value, total_comparison),
    )


def _by_window(requests: Sequence[Request]) -> list[list[Request]]:
    groups: dict[tuple[Any, Any], list[Request]] = {}
    for request in requests:
        groups.setdefault((request.period.start, request.period.end), []).append(request)
    return list(groups.values())


DASHBOARD_BREAKDOWNS: tuple[str, ...] = ("channel", "category", "brand", "region", "warehouse")


@dataclass(frozen=True)
class Dashboard:
    period: Period
    series: dict[str, Series]  # metric -> by grain
    breakdowns: dict[str, dict[str, Series]]  # breakdown -> metric -> totals


def dashboard(
    src: Sources,
    ctx: FactContext,
    metrics: Sequence[Metric],
    period: Period,
    breakdowns: Sequence[str] = DASHBOARD_BREAKDOWNS,
) -> Dashboard:
    """Every metric by ``period``'s grain, plus window totals by each breakdown."""
    unknown = [b for b in breakdowns if b not in BREAKDOWNS]
    if unknown:
        check_breakdown(metrics, unknown[0])
    whole = Period(period.start, period.end, period.tz, None)
    requests = [Request(period, None), *[Request(whole, b) for b in breakdowns]]
    results = evaluate(src, ctx, metrics, requests)
    series = {s.metric.name: s for s in results[0]}
    cut = {
        b: {s.metric.name: s for s in results[i + 1] if b in breakdowns_of(s.metric)}
        for i, b in enumerate(breakdowns)
    }
    return Dashboard(period, series, cut)


def money(value: float | int | None, currency: str) -> Decimal | None:
    """Minor units -> a Decimal in major units, at the currency's exponent."""
    if value is None:
        return None
    exponent = currency_exponent(currency)
    return (Decimal(str(value)) / (Decimal(10) ** exponent)).quantize(Decimal(1).scaleb(-exponent))

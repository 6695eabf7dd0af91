"""Evaluating KPIs: one aggregate query per fact, on whichever engine ``Sources`` wraps.

A request is a window cut by a grain (or not cut) and an optional breakdown.
Several requests over the same window share one query per fact (a UNION ALL of
their GROUP BYs), so a whole dashboard costs a handful of round trips. Inventory
metrics need stock at the end of each bucket: the engine sums the movements per
bucket, and the running balance backwards from today's stock is taken here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from shopops.analytics.metrics.definitions import Metric
from shopops.analytics.metrics.facts import (
    FACTS,
    NONE,
    FactContext,
    stock_movements,
    stock_now,
)
from shopops.analytics.metrics.registry import BREAKDOWNS, breakdowns_of, check_breakdown
from shopops.analytics.periods import Compare, Period
from shopops.analytics.sources import Sources
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
    fact = FACTS[fact_name]
    if fact_name == "inventory":
        frames: dict[Hashable, pd.DataFrame] = {}
        return [_inventory_cells(src, ctx, r, frames) for r in requests]
    aggregates = {name: fact.aggregates[name] for name in sorted(needs) if name in fact.aggregates}

    def build() -> ir.Table:
        table = fact.build(src, ctx)
        return _union([_branch(table, r, i, aggregates) for i, r in enumerate(requests)])

    key = ("fact", fact_name, tuple(aggregates), ctx, tuple(_signature(r) for r in requests))
    return _collect(src.frame(key, build), list(aggregates), len(requests))


_POSITION = ["sku", "warehouse_id"]
_INVENTORY_DIMS = ["category", "brand", "warehouse", "region"]


def _inventory_cells(
    src: Sources, ctx: FactContext, request: Request, frames: dict[Hashable, pd.DataFrame]
) -> Cells:
    """Stock at the start and end of each bucket, by position, then summed per breakdown.

    The engine returns today's stock per position, the movements after the window,
    and the movements per bucket inside it; balances are walked back from today.
    """
    period = request.period

    def now_query() -> ir.Table:
        now = stock_now(src, ctx)
        return now.group_by([*_POSITION, *_INVENTORY_DIMS]).aggregate(
            units=now.quantity.sum().cast("float64"), value=now.value.sum().cast("float64")
        )

    def after_query() -> ir.Table:
        moves = stock_movements(src, ctx)
        later = moves.filter(moves.ts >= period.utc_end)
        return later.group_by(_POSITION).aggregate(
            units=later.quantity.sum().cast("float64"), value=later.value.sum().cast("float64")
        )

    def within_query() -> ir.Table:
        moves = stock_movements(src, ctx)
        window = moves.filter(moves.ts >= period.utc_start, moves.ts < period.utc_end)
        window = window.mutate(_bucket=period.bucket_expr(window.ts))
        return window.group_by([*_POSITION, *_INVENTORY_DIMS, "_bucket"]).aggregate(
            units=window.quantity.sum().cast("float64"),
            value=window.value.sum().cast("float64"),
            sold_units=window.sold_units.sum().cast("float64"),
            sold_value=window.sold_value.sum().cast("float64"),
            received_units=window.received_units.sum().cast("float64"),
        )

    def once(key: Hashable, build: Callable[[], ir.Table]) -> pd.DataFrame:
        if key not in frames:
            frames[key] = src.frame(key, build)
        return frames[key]

    now = once(("stock_now", ctx), now_query)
    after = once(("stock_after", ctx, period.utc_end), after_query)
    within_key = ("stock_within", ctx, period.utc_start, period.utc_end, period.grain, period.tz)
    within = once(within_key, within_query)
    return stock_cells(period, request.by, now, after, within)


def stock_cells(
    period: Period, by: str | None, now: pd.DataFrame, after: pd.DataFrame, within: pd.DataFrame
) -> Cells:
    bounds = period.bucket_bounds()
    keys = [key for key, _, _ in bounds]
    dim_of = now[[*_POSITION, *_INVENTORY_DIMS]]
    moved_only = within[[*_POSITION, *_INVENTORY_DIMS]].drop_duplicates(_POSITION)
    dims = pd.concat([dim_of, moved_only]).drop_duplicates(_POSITION).set_index(_POSITION)
    end = now.set_index(_POSITION)[["units", "value"]].reindex(dims.index, fill_value=0.0)
    end = end.fillna(0.0)
    if len(after):
        later = after.set_index(_POSITION)[["units", "value"]].reindex(dims.index, fill_value=0.0)
        end = end - later.fillna(0.0)
    exists = pd.Series(dims.index.isin(now.set_index(_POSITION).index), index=dims.index)
    measures = ["units", "value", "sold_units", "sold_value", "received_units"]
    if len(within):
        wide = within.groupby([*_POSITION, "_bucket"])[measures].sum().unstack("_bucket")
        grid = {m: wide[m].reindex(index=dims.index, columns=keys).fillna(0.0) for m in measures}
    else:
        grid = {m: pd.DataFrame(0.0, index=dims.index, columns=keys) for m in measures}
    # Stock at the end of bucket k = stock at the window's end - movements of later buckets.
    later_units = grid["units"].iloc[:, ::-1].cumsum(axis=1).iloc[:, ::-1].shift(-1, axis=1)
    later_value = grid["value"].iloc[:, ::-1].cumsum(axis=1).iloc[:, ::-1].shift(-1, axis=1)
    end_units = later_units.fillna(0.0).rsub(end["units"], axis=0)
    end_value = later_value.fillna(0.0).rsub(end["value"], axis=0)
    start_units = end_units - grid["units"]
    start_value = end_value - grid["value"]
    group = dims[by].astype(str) if by else pd.Series(NONE, index=dims.index)
    out: Cells = {}
    tables = {
        "stock_end_units": end_units,
        "stock_end_value": end_value,
        "stock_start_units": start_units,
        "stock_start_value": start_value,
        "positions": pd.DataFrame({k: exists.astype(float) for k in keys}, index=dims.index),
        "positions_out": (end_units <= 0).mul(exists, axis=0).astype(float),
        "sold_units": grid["sold_units"],
        "sold_value": grid["sold_value"],
        "received_units": grid["received_units"],
        "moved_units": grid["units"],
        "moved_value": grid["value"],
    }
    sums = {name: table.groupby(group.values).sum() for name, table in tables.items()}
    days = {key: (stop - begin).total_seconds() / 86400 for key, begin, stop in bounds}
    for dim in sums["positions"].index:
        for key in keys:
            cell = {name: float(frame.at[dim, key]) for name, frame in sums.items()}
            cell["bucket_days"] = days[key]
            out[(key, str(dim))] = cell
    return out


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

"""Inventory KPI inputs: stock at the start and end of each bucket, per breakdown value.

Stock is known today (``stock_levels``); the stock of a position (SKU x warehouse)
at the end of a bucket is today's, less what moved after that bucket. Per report
window and grain the engine answers two queries:

* the positions counted (those with stock today, and those that moved in the
  window), with their breakdowns, today's unit cost, today's stock and what moved
  after the window;
* the units moved, sold and received per position (by its row number in the
  first answer) and bucket.

The balances are walked back per position here with numpy, then summed per
breakdown value. Values are units x today's unit cost, as on the raw movements.
Only positions with stock today count as positions (``positions``,
``positions_out``). The movements come from the raw ``stock_movements`` or, when
the window allows (``rollups.usable``), from the daily stock rollup: the same
numbers either way.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from functools import partial
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from shopops.analytics import rollups
from shopops.analytics.metrics.facts import (
    NONE,
    FactContext,
    stock_movements,
    stock_now,
    stock_positions,
)
from shopops.analytics.periods import Period
from shopops.analytics.sources import Sources, StoreSources

Cells = dict[tuple[int, str], dict[str, Any]]
POSITION = ["sku", "warehouse_id"]
DIMENSIONS = ("category", "brand", "warehouse", "region")
FLOWS = ("units", "sold_units", "received_units")


def _from_rollups(src: Sources, period: Period) -> bool:
    return isinstance(src, StoreSources) and rollups.usable(src, period)


def _after(src: Sources, ctx: FactContext, period: Period) -> ir.Table:
    """Units moved per position from the end of the window on."""
    if _from_rollups(src, period):
        assert isinstance(src, StoreSources)
        return rollups.stock_after(src, period)
    moves = stock_movements(src, ctx)
    later = moves.filter(moves.ts >= period.utc_end)
    return later.group_by(POSITION).aggregate(units=later.quantity.sum().cast("float64"))


def _within(src: Sources, ctx: FactContext, period: Period) -> ir.Table:
    """Units moved, sold and received per position and bucket inside the window."""
    if _from_rollups(src, period):
        assert isinstance(src, StoreSources)
        return rollups.stock_within(src, period)
    moves = stock_movements(src, ctx)
    window = moves.filter(moves.ts >= period.utc_start, moves.ts < period.utc_end)
    window = window.mutate(_bucket=period.bucket_expr(window.ts))
    return window.group_by([*POSITION, "_bucket"]).aggregate(
        units=window.quantity.sum().cast("float64"),
        sold_units=window.sold_units.sum().cast("float64"),
        received_units=window.received_units.sum().cast("float64"),
    )


def _positions(src: Sources, ctx: FactContext, period: Period) -> ir.Table:
    """The positions counted, numbered (``_pos``) in a fixed order, with what the walk needs."""
    now = stock_now(src, ctx)
    held = now.group_by(POSITION).aggregate(
        now_units=now.quantity.sum().cast("float64"), _held=now.count()
    )
    moved = _within(src, ctx, period).select(*POSITION)
    counted = ibis.union(held.select(*POSITION), moved, distinct=True)
    labelled = stock_positions(src, counted)
    after = _after(src, ctx, period).rename(after_units="units")
    joined = labelled.left_join(held, POSITION).left_join(after, POSITION)
    return joined.select(
        sku=labelled.sku,
        warehouse_id=labelled.warehouse_id,
        **{name: labelled[name] for name in DIMENSIONS},
        cost=labelled.cost_each.cast("float64"),
        now_units=joined.now_units.fill_null(0),
        after_units=joined.after_units.fill_null(0),
        held=joined._held.notnull(),
        _pos=ibis.row_number().over(order_by=[labelled.sku, labelled.warehouse_id]),
    )


def _moves(src: Sources, ctx: FactContext, period: Period) -> ir.Table:
    within = _within(src, ctx, period)
    positions = _positions(src, ctx, period).select(*POSITION, "_pos")
    joined = within.join(positions, POSITION)
    return joined.select("_pos", "_bucket", **{name: joined[name].fill_null(0) for name in FLOWS})


def inventory_cells(
    src: Sources, ctx: FactContext, requests: Sequence[tuple[Period, str | None]]
) -> list[Cells]:
    """The inventory aggregates of each (period, breakdown): two queries per window."""
    out: list[Cells] = [{} for _ in requests]
    windows: dict[tuple[Any, ...], list[int]] = {}
    for index, (period, _) in enumerate(requests):
        signature = (period.start, period.end, period.tz, period.grain)
        windows.setdefault((*signature, _from_rollups(src, period)), []).append(index)
    for signature, indices in windows.items():
        period = requests[indices[0]][0]
        key: Hashable = ("stock", ctx, signature)
        positions = src.frame(("positions", key), partial(_positions, src, ctx, period))
        moves = src.frame(("moves", key), partial(_moves, src, ctx, period))
        walk = _Walk(period, positions, moves)
        for index in indices:
            out[index] = walk.cells(requests[index][1])
    return out


class _Walk:
    """Per position and bucket: stock at the end and start, what moved; then per group."""

    def __init__(self, period: Period, positions: pd.DataFrame, moves: pd.DataFrame) -> None:
        bounds = period.bucket_bounds()
        self.keys = [key for key, _, _ in bounds]
        self.days = [(stop - begin).total_seconds() / 86400 for _, begin, stop in bounds]
        positions = positions.sort_values("_pos")
        self.positions = positions
        count, width = len(positions), len(self.keys)
        cost = positions["cost"].to_numpy(dtype=np.float64)
        row = positions["_pos"].to_numpy(dtype=np.int64)
        where = np.full(int(row.max()) + 1 if count else 0, -1, dtype=np.int64)
        where[row] = np.arange(count)
        cell = (
            where[moves["_pos"].to_numpy(dtype=np.int64)] * width
            + np.searchsorted(self.keys, moves["_bucket"].to_numpy(dtype=np.int64))
            if len(moves)
            else np.zeros(0, dtype=np.int64)
        )

        def grid(name: str) -> np.ndarray[Any, np.dtype[np.float64]]:
            if not len(moves):
                return np.zeros((count, width))
            weights = moves[name].to_numpy(dtype=np.float64)
            flat = np.bincount(cell, weights=weights, minlength=count * width)
            return np.asarray(flat, dtype=np.float64).reshape(count, width)

        units, sold, received = grid("units"), grid("sold_units"), grid("received_units")
        # what moved in the buckets after each bucket (0 after the last)
        later = np.zeros_like(units)
        if width > 1:
            later[:, :-1] = np.cumsum(units[:, ::-1], axis=1)[:, ::-1][:, 1:]
        end = positions["now_units"].to_numpy(np.float64) - positions["after_units"].to_numpy(
            np.float64
        )
        end_units = end[:, None] - later
        held = positions["held"].to_numpy(dtype=bool)
        per_unit = cost[:, None]
        self.tables = {
            "stock_end_units": end_units,
            "stock_end_value": end_units * per_unit,
            "stock_start_units": end_units - units,
            "stock_start_value": (end_units - units) * per_unit,
            "positions": np.repeat(held.astype(np.float64)[:, None], width, axis=1),
            "positions_out": ((end_units <= 0) & held[:, None]).astype(np.float64),
            "sold_units": sold,
            "sold_value": sold * per_unit,
            "received_units": received,
            "moved_units": units,
            "moved_value": units * per_unit,
        }

    def cells(self, by: str | None) -> Cells:
        if by is None:
            codes = np.zeros(len(self.positions), dtype=np.int64)
            names = [NONE]
        else:
            found, uniques = pd.factorize(self.positions[by].astype(str), sort=True)
            codes, names = np.asarray(found, dtype=np.int64), [str(u) for u in uniques]
        sums = {}
        for name, table in self.tables.items():
            total = np.zeros((len(names), len(self.keys)))
            np.add.at(total, codes, table)
            sums[name] = total
        cells: Cells = {}
        for group, label in enumerate(names):
            for column, key in enumerate(self.keys):
                cell = {name: float(total[group, column]) for name, total in sums.items()}
                cell["bucket_days"] = self.days[column]
                cells[(key, label)] = cell
        return cells

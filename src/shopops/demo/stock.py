"""The simulated stock book: levels, allocation, future stock moves and replenishment.

Every change of ``on_hand`` is a ledger row (receipt, sale, return, adjustment),
applied in time order through a heap of scheduled moves, so the ledger replayed
in time order never goes negative and ``reserved`` never exceeds ``on_hand``.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Row = dict[str, Any]


@dataclass(eq=False)
class Level:
    id: int
    sku: str
    warehouse_id: int
    on_hand: int
    reserved: int
    demand: float = 2.0  # smoothed units per day
    today: int = 0
    changed: bool = False

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True)
class WarehouseRef:
    id: int
    code: str
    region: str
    priority: int


@dataclass(order=True)
class _Move:
    at: datetime
    seq: int
    kind: str = field(compare=False)  # consume | release | restock
    level: Level = field(compare=False)
    quantity: int = field(compare=False)
    reference: str = field(compare=False)


class StockBook:
    def __init__(
        self,
        levels: list[Level],
        warehouses: list[WarehouseRef],
        actor: str,
        next_id: Callable[[str], int],
    ) -> None:
        self.warehouses = {w.id: w for w in warehouses}
        self.by_sku: dict[str, list[Level]] = {}
        for level in levels:
            self.by_sku.setdefault(level.sku, []).append(level)
        self.levels = levels
        self.actor = actor
        self._next_id = next_id
        self._heap: list[_Move] = []
        self._seq = itertools.count()
        self.movements: list[Row] = []

    # --- allocation at placement ---

    def allocate(self, sku: str, quantity: int, region: str | None) -> list[tuple[Level, int]]:
        """Reserve up to ``quantity``: one warehouse if it can, else split; short on stock-out."""

        def rank(level: Level) -> tuple[int, int, int]:
            warehouse = self.warehouses[level.warehouse_id]
            return (warehouse.region != region, warehouse.priority, warehouse.id)

        candidates = sorted(self.by_sku.get(sku, []), key=rank)
        whole = next((lv for lv in candidates if lv.available >= quantity), None)
        taken: list[tuple[Level, int]] = []
        if whole is not None:
            taken.append((whole, quantity))
        else:
            wanted = quantity
            for level in candidates:
                part = min(wanted, level.available)
                if part > 0:
                    taken.append((level, part))
                    wanted -= part
        for level, part in taken:
            level.reserved += part
            level.today += part
            level.changed = True
        return taken

    def schedule(self, at: datetime, kind: str, level: Level, quantity: int, ref: str) -> None:
        heapq.heappush(self._heap, _Move(at, next(self._seq), kind, level, quantity, ref))

    def advance(self, until: datetime) -> None:
        """Apply every scheduled move up to ``until``, oldest first."""
        while self._heap and self._heap[0].at <= until:
            move = heapq.heappop(self._heap)
            level = move.level
            level.changed = True
            if move.kind == "release":
                level.reserved -= move.quantity
            elif move.kind == "consume":
                level.reserved -= move.quantity
                self._post(move.at, level, "sale", -move.quantity, "shipped", move.reference)
            else:
                self._post(
                    move.at, level, "return", move.quantity, "customer return", move.reference
                )

    # --- the warehouse's own routines ---

    def replenish(self, at: datetime) -> None:
        """Morning purchase receipts for levels below their reorder point."""
        for level in self.levels:
            level.demand = 0.85 * level.demand + 0.15 * level.today
            level.today = 0
            if level.available < max(6, math.ceil(level.demand * 9)):
                quantity = 12 * math.ceil(max(24, level.demand * 30) / 12)
                code = self.warehouses[level.warehouse_id].code
                self._post(
                    at, level, "receipt", quantity, "purchase receipt", f"PO-{at:%y%m%d}-{code}"
                )

    def adjust(self, at: datetime, rng: random.Random) -> None:
        """A weekly cycle count finds a few small differences (mostly shrinkage)."""
        for level in rng.sample(self.levels, min(len(self.levels), rng.randint(2, 6))):
            delta = rng.choice((-2, -1, -1, 1))
            if level.available + delta >= 0:
                self._post(at, level, "adjustment", delta, "cycle count correction", None)

    def _post(
        self, at: datetime, level: Level, kind: str, quantity: int, reason: str, ref: str | None
    ) -> None:
        level.on_hand += quantity
        level.changed = True
        assert 0 <= level.reserved <= level.on_hand, (level.sku, level.warehouse_id)
        self.movements.append(
            {
                "id": self._next_id("stock_movements"),
                "sku": level.sku,
                "warehouse_id": level.warehouse_id,
                "kind": kind,
                "quantity": quantity,
                "reason": reason,
                "reference": ref,
                "actor": self.actor,
                "occurred_at": at,
            }
        )

    def drain(self) -> list[Row]:
        rows, self.movements = self.movements, []
        return rows

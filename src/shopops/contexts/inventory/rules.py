"""Pure inventory policies: where to take stock from, and when to raise alerts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class WarehouseStock:
    warehouse_id: int
    region: str
    priority: int
    available: int


@dataclass(frozen=True)
class PlannedReservation:
    sku: str
    warehouse_id: int
    quantity: int


@dataclass(frozen=True)
class AllocationPlan:
    lines: tuple[PlannedReservation, ...]
    shortfall: Mapping[str, int]  # sku -> units that could not be placed

    @property
    def complete(self) -> bool:
        return not self.shortfall


def rank_warehouses(
    candidates: Sequence[WarehouseStock], customer_region: str | None
) -> list[WarehouseStock]:
    """Lower priority number first; among equals, the customer's region first; then id."""
    return sorted(
        candidates,
        key=lambda w: (
            w.priority,
            0 if customer_region and w.region == customer_region else 1,
            w.warehouse_id,
        ),
    )


def plan_allocation(
    requested: Mapping[str, int],
    stock: Mapping[str, Sequence[WarehouseStock]],
    *,
    customer_region: str | None,
    allow_split: bool,
) -> AllocationPlan:
    """Choose warehouses for every requested SKU quantity.

    One warehouse that can serve the whole order wins (one parcel), taken in
    rank order. Otherwise, when splitting is allowed, each SKU is filled from
    warehouses in rank order; when it is not, nothing is allocated and the
    shortfall is reported against the best single warehouse.
    """
    skus = sorted(requested)
    warehouses: dict[int, WarehouseStock] = {}
    by_sku: dict[str, dict[int, int]] = {}
    for sku in skus:
        by_sku[sku] = {}
        for entry in stock.get(sku, ()):
            warehouses.setdefault(entry.warehouse_id, entry)
            by_sku[sku][entry.warehouse_id] = max(entry.available, 0)
    ranked = rank_warehouses(list(warehouses.values()), customer_region)

    for warehouse in ranked:
        if all(by_sku[sku].get(warehouse.warehouse_id, 0) >= requested[sku] for sku in skus):
            return AllocationPlan(
                tuple(
                    PlannedReservation(sku, warehouse.warehouse_id, requested[sku]) for sku in skus
                ),
                {},
            )

    if not allow_split:
        best = ranked[0].warehouse_id if ranked else None
        missing = {
            sku: requested[sku] - (by_sku[sku].get(best, 0) if best is not None else 0)
            for sku in skus
            if best is None or by_sku[sku].get(best, 0) < requested[sku]
        }
        return AllocationPlan((), missing)

    lines: list[PlannedReservation] = []
    shortfall: dict[str, int] = {}
    for sku in skus:
        remaining = requested[sku]
        for warehouse in ranked:
            if remaining == 0:
                break
            take = min(remaining, by_sku[sku].get(warehouse.warehouse_id, 0))
            if take > 0:
                lines.append(PlannedReservation(sku, warehouse.warehouse_id, take))
                remaining -= take
        if remaining:
            shortfall[sku] = remaining
    if shortfall:
        return AllocationPlan((), shortfall)
    return AllocationPlan(tuple(lines), {})


@dataclass(frozen=True)
class AlertCrossing:
    low: bool
    out: bool


def threshold_crossing(before: int, after: int, threshold: int) -> AlertCrossing:
    """Alerts fire once, when availability crosses the line downwards."""
    return AlertCrossing(
        low=before > threshold >= after,
        out=before > 0 >= after,
    )

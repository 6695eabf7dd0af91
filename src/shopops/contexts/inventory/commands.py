from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class CreateWarehouse:
    code: str
    name: str
    region: str
    priority: int = 100
    is_active: bool = True


@dataclass(frozen=True)
class ChangeWarehouse:
    warehouse_id: int
    name: str | None = None
    region: str | None = None
    priority: int | None = None
    is_active: bool | None = None


@dataclass(frozen=True)
class ReceiveStock:
    warehouse_id: int
    sku: str
    quantity: int
    reason: str = "purchase receipt"
    reference: str | None = None


@dataclass(frozen=True)
class AdjustStock:
    warehouse_id: int
    sku: str
    delta: int
    reason: str
    reference: str | None = None


@dataclass(frozen=True)
class TransferStock:
    from_warehouse_id: int
    to_warehouse_id: int
    lines: Mapping[str, int]
    reason: str = "rebalance"


@dataclass(frozen=True)
class RecordCycleCount:
    warehouse_id: int
    counts: Mapping[str, int]
    note: str | None = None


@dataclass(frozen=True)
class SetThreshold:
    sku: str
    low_stock_threshold: int


@dataclass(frozen=True)
class ReserveStock:
    """Hold stock for ``reference`` (an order number) until paid, shipped or expired."""

    reference: str
    lines: Mapping[str, int]
    customer_region: str | None = None
    allow_split: bool = True
    expires_in_seconds: int | None = None

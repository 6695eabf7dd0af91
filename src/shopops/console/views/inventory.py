"""What the inventory pages show: stock per SKU and warehouse, and the movement ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopops.console.i18n import N_, gettext
from shopops.contexts.catalog import Product, Variant
from shopops.contexts.inventory import (
    MovementKind,
    StockLevel,
    StockMovement,
    StockThreshold,
    Warehouse,
)

PAGE_SIZE = 50
T = TypeVar("T")

KIND_LABELS: dict[str, str] = {
    MovementKind.RECEIPT: N_("Receipt"),
    MovementKind.SALE: N_("Sale"),
    MovementKind.RETURN: N_("Return"),
    MovementKind.ADJUSTMENT: N_("Adjustment"),
    MovementKind.TRANSFER_OUT: N_("Transfer out"),
    MovementKind.TRANSFER_IN: N_("Transfer in"),
    MovementKind.COUNT_CORRECTION: N_("Count correction"),
    MovementKind.WRITE_OFF: N_("Write-off"),
}


@dataclass(frozen=True)
class WarehouseOption:
    id: int
    code: str
    name: str
    is_active: bool

    @property
    def label(self) -> str:
        text = f"{self.code} · {self.name}"
        return text if self.is_active else f"{text} {gettext('(inactive)')}"


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


@dataclass(frozen=True)
class StockRow:
    sku: str
    product_name: str
    warehouse_id: int
    warehouse_code: str
    on_hand: int
    reserved: int
    threshold: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    @property
    def state(self) -> str:
        """``out`` (nothing available), ``low`` (at or below the threshold) or ``ok``."""
        if self.available <= 0:
            return "out"
        if self.available <= self.threshold:
            return "low"
        return "ok"


@dataclass(frozen=True)
class MovementRow:
    id: int
    occurred_at: datetime
    sku: str
    warehouse_code: str
    kind: str
    quantity: int
    reason: str
    reference: str | None
    actor: str

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


def warehouses(session: Session) -> list[WarehouseOption]:
    """Every warehouse in shipping order (priority, then id)."""
    rows = session.execute(
        select(Warehouse.id, Warehouse.code, Warehouse.name, Warehouse.is_active).order_by(
            Warehouse.priority, Warehouse.id
        )
    )
    return [WarehouseOption(int(i), c, n, bool(a)) for i, c, n, a in rows]


def read_stock(
    session: Session,
    *,
    sku: str | None,
    warehouse_id: int | None,
    low_only: bool,
    page: int,
    size: int = PAGE_SIZE,
) -> Page[StockRow]:
    """Stock levels by SKU then warehouse; ``sku`` matches part of the SKU, any case."""
    threshold = func.coalesce(StockThreshold.low_stock_threshold, 0)
    stmt = (
        select(
            StockLevel.sku,
            Product.name,
            Warehouse.id,
            Warehouse.code,
            StockLevel.on_hand,
            StockLevel.reserved,
            threshold,
        )
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .join(Variant, Variant.sku == StockLevel.sku)
        .join(Product, Product.id == Variant.product_id)
        .outerjoin(StockThreshold, StockThreshold.sku == StockLevel.sku)
        .order_by(StockLevel.sku, Warehouse.priority, Warehouse.id)
    )
    if sku:
        stmt = stmt.where(StockLevel.sku.icontains(sku, autoescape=True))
    if warehouse_id is not None:
        stmt = stmt.where(StockLevel.warehouse_id == warehouse_id)
    if low_only:
        stmt = stmt.where(StockLevel.on_hand - StockLevel.reserved <= threshold)
    rows = [
        StockRow(s, n, int(w), c, int(o), int(r), int(t))
        for s, n, w, c, o, r, t in session.execute(stmt.offset((page - 1) * size).limit(size + 1))
    ]
    return Page(rows[:size], page, len(rows) > size)


def read_movements(
    session: Session,
    *,
    sku: str | None,
    warehouse_id: int | None,
    kind: str | None,
    reference: str | None,
    since: datetime | None,
    until: datetime | None,
    page: int,
    size: int = PAGE_SIZE,
) -> Page[MovementRow]:
    """Ledger entries, newest first; ``sku`` and ``reference`` match a part, any case."""
    stmt = (
        select(
            StockMovement.id,
            StockMovement.occurred_at,
            StockMovement.sku,
            Warehouse.code,
            StockMovement.kind,
            StockMovement.quantity,
            StockMovement.reason,
            StockMovement.reference,
            StockMovement.actor,
        )
        .join(Warehouse, Warehouse.id == StockMovement.warehouse_id)
        .order_by(StockMovement.occurred_at.desc(), StockMovement.id.desc())
    )
    if sku:
        stmt = stmt.where(StockMovement.sku.icontains(sku, autoescape=True))
    if warehouse_id is not None:
        stmt = stmt.where(StockMovement.warehouse_id == warehouse_id)
    if kind:
        stmt = stmt.where(StockMovement.kind == kind)
    if reference:
        stmt = stmt.where(StockMovement.reference.icontains(reference, autoescape=True))
    if since is not None:
        stmt = stmt.where(StockMovement.occurred_at >= since)
    if until is not None:
        stmt = stmt.where(StockMovement.occurred_at < until)
    rows = [
        MovementRow(int(i), at, s, c, k, int(q), r, ref, a)
        for i, at, s, c, k, q, r, ref, a in session.execute(
            stmt.offset((page - 1) * size).limit(size + 1)
        )
    ]
    return Page(rows[:size], page, len(rows) > size)

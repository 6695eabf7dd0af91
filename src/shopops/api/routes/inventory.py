"""Inventory: warehouses, stock levels, the movement ledger, receipts, adjustments,
transfers, cycle counts, low-stock thresholds and reservations."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query

from shopops.api.deps import RequestContext, require
from shopops.api.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    after_id,
    decode_cursor,
    encode_cursor,
    next_cursor_by_id,
)
from shopops.api.schemas.inventory import (
    AdjustmentCreate,
    CycleCountCreate,
    CycleCountRead,
    DiscrepancyRead,
    LedgerCheckRead,
    MovementPage,
    MovementRead,
    ReceiptCreate,
    ReservationRead,
    StockPage,
    StockRead,
    ThresholdRead,
    ThresholdUpdate,
    TransferCreate,
    TransferRead,
    WarehouseCreate,
    WarehousePage,
    WarehouseRead,
    WarehouseUpdate,
)
from shopops.auth.permissions import Permission
from shopops.contexts import inventory
from shopops.kernel.errors import ValidationFailed
from shopops.uow import UnitOfWork

router = APIRouter(prefix="/inventory", tags=["inventory"])

READ = Depends(require(Permission.INVENTORY_READ))
WRITE = Depends(require(Permission.INVENTORY_WRITE))
LIMIT = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


def _stock_row(uow: UnitOfWork, sku: str, warehouse_id: int) -> StockRead:
    query = inventory.StockFilter(sku=sku, warehouse_id=warehouse_id, limit=1)
    level, threshold = inventory.list_stock(uow.session, query)[0]
    return StockRead.of(level, threshold)


def _warehouse_position(cursor: str | None) -> tuple[int, int] | None:
    data = decode_cursor(cursor)
    if data is None:
        return None
    priority, warehouse_id = data.get("priority"), data.get("id")
    if not isinstance(priority, int) or not isinstance(warehouse_id, int):
        raise ValidationFailed("pagination.invalid_cursor", "the cursor is not valid")
    return priority, warehouse_id


def _check_range(since: datetime | None, until: datetime | None) -> None:
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise ValidationFailed(
                "validation.naive_datetime",
                f"{name} needs a time zone offset, e.g. 2026-01-01T00:00:00Z",
            )
    if since and until and since >= until:
        raise ValidationFailed("validation.reversed_range", "since must be before until")


# --- warehouses ------------------------------------------------------------------------


@router.post("/warehouses", response_model=WarehouseRead, status_code=201)
def create_warehouse(body: WarehouseCreate, context: RequestContext = WRITE) -> WarehouseRead:
    command = inventory.CreateWarehouse(
        body.code, body.name, body.region, body.priority, body.is_active
    )
    with context.uow() as uow:
        warehouse = inventory.create_warehouse(uow, command)
        uow.commit()
        return WarehouseRead.model_validate(warehouse)


@router.get("/warehouses", response_model=WarehousePage)
def list_warehouses(
    active_only: bool = False,
    cursor: str | None = None,
    limit: int = LIMIT,
    context: RequestContext = READ,
) -> WarehousePage:
    """Warehouses in shipping order: priority, then id."""
    with context.uow() as uow:
        rows = list(
            inventory.query_warehouses(
                uow, active_only=active_only, after=_warehouse_position(cursor), limit=limit + 1
            )
        )
        items = [WarehouseRead.model_validate(w) for w in rows[:limit]]
    last = items[-1] if len(rows) > limit else None
    next_cursor = encode_cursor({"priority": last.priority, "id": last.id}) if last else None
    return WarehousePage(items=items, next_cursor=next_cursor)


@router.get("/warehouses/{warehouse_id}", response_model=WarehouseRead)
def get_warehouse(warehouse_id: int, context: RequestContext = READ) -> WarehouseRead:
    with context.uow() as uow:
        return WarehouseRead.model_validate(inventory.get_warehouse(uow, warehouse_id))


@router.patch("/warehouses/{warehouse_id}", response_model=WarehouseRead)
def update_warehouse(
    warehouse_id: int, body: WarehouseUpdate, context: RequestContext = WRITE
) -> WarehouseRead:
    """Rename, move to another region, re-prioritise, or (de)activate a warehouse."""
    command = inventory.ChangeWarehouse(
        warehouse_id, body.name, body.region, body.priority, body.is_active
    )
    with context.uow() as uow:
        warehouse = inventory.change_warehouse(uow, command)
        uow.commit()
        return WarehouseRead.model_validate(warehouse)


# --- stock -----------------------------------------------------------------------------


@router.get("/stock", response_model=StockPage)
def list_stock(
    sku: str | None = Query(None, examples=["TEE-S"]),
    warehouse_id: int | None = None,
    low_only: bool = Query(False, description="Only rows at or below the SKU's threshold."),
    cursor: str | None = None,
    limit: int = LIMIT,
    context: RequestContext = READ,
) -> StockPage:
    """Stock per SKU and warehouse with on hand, reserved, available and the threshold."""
    query = inventory.StockFilter(sku, warehouse_id, low_only, after_id(cursor), limit + 1)
    with context.uow() as uow:
        rows = inventory.query_stock(uow, query)
        return StockPage(
            items=[StockRead.of(level, threshold) for level, threshold in rows[:limit]],
            next_cursor=next_cursor_by_id([level for level, _ in rows], limit),
        )


@router.post("/receipts", response_model=StockRead, status_code=201)
def receive_stock(body: ReceiptCreate, context: RequestContext = WRITE) -> StockRead:
    """Goods arrived: on hand goes up and the ledger records a receipt."""
    command = inventory.ReceiveStock(
        body.warehouse_id, body.sku, body.quantity, body.reason, body.reference
    )
    with context.uow() as uow:
        inventory.receive_stock(uow, command)
        uow.commit()
        return _stock_row(uow, body.sku, body.warehouse_id)


@router.post("/adjustments", response_model=StockRead, status_code=201)
def adjust_stock(body: AdjustmentCreate, context: RequestContext = WRITE) -> StockRead:
    """Correct on hand by a signed delta (damage, loss, found stock); never below reserved."""
    command = inventory.AdjustStock(
        body.warehouse_id, body.sku, body.delta, body.reason, body.reference
    )
    with context.uow() as uow:
        inventory.adjust_stock(uow, command)
        uow.commit()
        return _stock_row(uow, body.sku, body.warehouse_id)


@router.post("/transfers", response_model=TransferRead, status_code=201)
def transfer_stock(body: TransferCreate, context: RequestContext = WRITE) -> TransferRead:
    """Move available stock between warehouses (all lines or none)."""
    command = inventory.TransferStock(
        body.from_warehouse_id,
        body.to_warehouse_id,
        {line.sku: line.quantity for line in body.lines},
        body.reason,
    )
    with context.uow() as uow:
        transfer = inventory.transfer_stock(uow, command)
        uow.commit()
        return TransferRead.model_validate(transfer)


@router.post("/counts", response_model=CycleCountRead, status_code=201)
def record_cycle_count(body: CycleCountCreate, context: RequestContext = WRITE) -> CycleCountRead:
    """Record counted quantities; each difference is posted as a count correction."""
    command = inventory.RecordCycleCount(
        body.warehouse_id, {line.sku: line.counted for line in body.lines}, body.note
    )
    with context.uow() as uow:
        count = inventory.record_cycle_count(uow, command)
        uow.commit()
        return CycleCountRead.model_validate(count)


@router.put("/thresholds/{sku}", response_model=ThresholdRead)
def set_threshold(
    sku: str, body: ThresholdUpdate, context: RequestContext = WRITE
) -> ThresholdRead:
    """Set the SKU's low-stock alert level (StockLow fires when availability falls to it)."""
    with context.uow() as uow:
        row = inventory.set_threshold(uow, inventory.SetThreshold(sku, body.low_stock_threshold))
        uow.commit()
        return ThresholdRead.model_validate(row)


# --- ledger and reservations -------------------------------------------------------------


@router.get("/movements", response_model=MovementPage)
def list_movements(
    sku: str | None = Query(None, examples=["TEE-S"]),
    warehouse_id: int | None = None,
    kind: inventory.MovementKind | None = None,
    reference: str | None = Query(None, examples=["SO-260301-7KQ2MX"]),
    since: datetime | None = Query(None, description="Inclusive, ISO 8601 with offset"),
    until: datetime | None = Query(None, description="Exclusive, ISO 8601 with offset"),
    cursor: str | None = None,
    limit: int = LIMIT,
    context: RequestContext = READ,
) -> MovementPage:
    """The movement ledger, newest first."""
    _check_range(since, until)
    query = inventory.MovementFilter(
        sku, warehouse_id, kind, reference, since, until, after_id(cursor), limit + 1
    )
    with context.uow() as uow:
        rows = list(inventory.query_movements(uow, query))
        return MovementPage(
            items=[MovementRead.model_validate(m) for m in rows[:limit]],
            next_cursor=next_cursor_by_id(rows, limit),
        )


@router.get("/ledger/check", response_model=LedgerCheckRead)
def check_ledger(context: RequestContext = READ) -> LedgerCheckRead:
    """Stock levels whose on hand differs from the sum of their ledger; empty when sound."""
    with context.uow() as uow:
        found = inventory.check_ledger(uow)
    return LedgerCheckRead(
        consistent=not found,
        discrepancies=[DiscrepancyRead.model_validate(d) for d in found],
    )


@router.get("/reservations", response_model=list[ReservationRead])
def reservations(
    reference: str = Query(min_length=1, max_length=100, examples=["SO-260301-7KQ2MX"]),
    context: RequestContext = READ,
) -> list[ReservationRead]:
    """Every reservation (active, consumed or released) held for one reference."""
    with context.uow() as uow:
        found = inventory.query_reservations(uow, reference)
        return [ReservationRead.model_validate(r) for r in found]

"""Inventory use cases: warehouses, receipts, adjustments, transfers, cycle counts.

Stock changes go through conditional UPDATEs (never read-modify-write) and each
change of on_hand appends one ledger movement, so on_hand always equals the sum
of the ledger.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from shopops.auth.permissions import Permission
from shopops.contexts.inventory import repository
from shopops.contexts.inventory.commands import (
    AdjustStock,
    ChangeWarehouse,
    CreateWarehouse,
    ReceiveStock,
    RecordCycleCount,
    SetThreshold,
    TransferStock,
)
from shopops.contexts.inventory.errors import MAX_QUANTITY, InventoryError
from shopops.contexts.inventory.events import StockLow, StockMoved, StockOut
from shopops.contexts.inventory.models import (
    CycleCount,
    MovementKind,
    Reservation,
    StockLevel,
    StockMovement,
    StockThreshold,
    StockTransfer,
    Warehouse,
)
from shopops.contexts.inventory.rules import threshold_crossing
from shopops.kernel.errors import Conflict, FieldErrorCollector, NotFound, ValidationFailed
from shopops.uow import UnitOfWork


def _warehouse_view(warehouse: Warehouse) -> dict[str, object]:
    return {
        "code": warehouse.code,
        "name": warehouse.name,
        "region": warehouse.region,
        "priority": warehouse.priority,
        "is_active": warehouse.is_active,
    }


def create_warehouse(uow: UnitOfWork, command: CreateWarehouse) -> Warehouse:
    uow.require(Permission.INVENTORY_WRITE)
    errors = FieldErrorCollector()
    code = command.code.strip().upper()
    if not code or len(code) > 32 or not code.replace("-", "").replace("_", "").isalnum():
        errors.add("code", "validation.invalid_code", "1-32 letters, digits, '-' or '_'")
    if not command.name.strip():
        errors.add("name", "validation.required", "a warehouse needs a name")
    if not command.region.strip():
        errors.add("region", "validation.required", "a warehouse needs a region")
    if command.priority < 0:
        errors.add("priority", "validation.negative", "priority must be 0 or more")
    errors.raise_if_any()
    if repository.get_warehouse_by_code(uow.session, code) is not None:
        raise Conflict(InventoryError.WAREHOUSE_CODE_TAKEN, f"warehouse {code} already exists")
    warehouse = Warehouse(
        code=code,
        name=command.name.strip(),
        region=command.region.strip(),
        priority=command.priority,
        is_active=command.is_active,
    )
    uow.session.add(warehouse)
    uow.session.flush()
    uow.audit("warehouse.created", "warehouse", warehouse.id, after=_warehouse_view(warehouse))
    return warehouse


def change_warehouse(uow: UnitOfWork, command: ChangeWarehouse) -> Warehouse:
    uow.require(Permission.INVENTORY_WRITE)
    errors = FieldErrorCollector()
    if command.name is not None and not command.name.strip():
        errors.add("name", "validation.required", "a warehouse needs a name")
    if command.region is not None and not command.region.strip():
        errors.add("region", "validation.required", "a warehouse needs a region")
    if command.priority is not None and command.priority < 0:
        errors.add("priority", "validation.negative", "priority must be 0 or more")
    errors.raise_if_any()
    warehouse = get_warehouse(uow, command.warehouse_id)
    before = _warehouse_view(warehouse)
    if command.name is not None:
        warehouse.name = command.name.strip()
    if command.region is not None:
        warehouse.region = command.region.strip()
    if command.priority is not None:
        warehouse.priority = command.priority
    if command.is_active is not None:
        warehouse.is_active = command.is_active
    uow.audit(
        "warehouse.changed",
        "warehouse",
        warehouse.id,
        before=before,
        after=_warehouse_view(warehouse),
    )
    return warehouse


def get_warehouse_by_code(uow: UnitOfWork, code: str) -> Warehouse:
    warehouse = repository.get_warehouse_by_code(uow.session, code.strip().upper())
    if warehouse is None:
        raise NotFound(InventoryError.WAREHOUSE_NOT_FOUND, f"warehouse {code} does not exist")
    return warehouse


def get_warehouse(uow: UnitOfWork, warehouse_id: int) -> Warehouse:
    warehouse = repository.get_warehouse(uow.session, warehouse_id)
    if warehouse is None:
        raise NotFound(
            InventoryError.WAREHOUSE_NOT_FOUND, f"warehouse {warehouse_id} does not exist"
        )
    return warehouse


def check_quantity(
    errors: FieldErrorCollector, field: str, quantity: int, *, allow_negative: bool = False
) -> None:
    if quantity == 0 or (quantity < 0 and not allow_negative):
        errors.add(
            field,
            InventoryError.INVALID_QUANTITY,
            "quantity must be a positive whole number"
            if not allow_negative
            else "the change must not be zero",
        )
    elif abs(quantity) > MAX_QUANTITY:
        errors.add(
            field, InventoryError.INVALID_QUANTITY, f"quantity must not exceed {MAX_QUANTITY:,}"
        )


def require_skus(uow: UnitOfWork, skus: Iterable[str], field: str = "sku") -> None:
    wanted = set(skus)
    unknown = sorted(wanted - repository.existing_skus(uow.session, wanted))
    if unknown:
        errors = FieldErrorCollector()
        for sku in unknown:
            errors.add(field, InventoryError.UNKNOWN_SKU, f"unknown SKU '{sku}'")
        errors.raise_if_any(InventoryError.UNKNOWN_SKU, f"unknown SKU(s): {', '.join(unknown)}")


def ensure_level(uow: UnitOfWork, sku: str, warehouse_id: int) -> None:
    """Create the (sku, warehouse) row if missing; safe against a concurrent creator."""
    if repository.get_level(uow.session, sku, warehouse_id) is not None:
        return
    try:
        with uow.session.begin_nested():
            uow.session.add(StockLevel(sku=sku, warehouse_id=warehouse_id, on_hand=0, reserved=0))
    except IntegrityError:
        pass  # someone else created it first; the row exists now


def post_movement(
    uow: UnitOfWork,
    *,
    sku: str,
    warehouse_id: int,
    kind: MovementKind,
    quantity: int,
    reason: str,
    reference: str | None,
) -> int:
    """Change on_hand by ``quantity`` and append the matching ledger entry."""
    available_before = repository.total_available(uow.session, sku)
    on_hand = repository.try_move_on_hand(uow.session, sku, warehouse_id, quantity)
    if on_hand is None:
        raise Conflict(
            InventoryError.BELOW_RESERVED,
            f"{sku}: on hand cannot drop below what is reserved or zero",
            details={"sku": sku, "warehouse_id": warehouse_id},
        )
    uow.session.add(
        StockMovement(
            sku=sku,
            warehouse_id=warehouse_id,
            kind=kind,
            quantity=quantity,
            reason=reason,
            reference=reference,
            actor=uow.actor.label,
            occurred_at=uow.now(),
        )
    )
    uow.emit(StockMoved(sku, warehouse_id, kind, quantity, on_hand, reference))
    check_alerts(uow, sku, available_before)
    return on_hand


def check_alerts(
    uow: UnitOfWork, sku: str, available_before: int, available_after: int | None = None
) -> None:
    """Emit StockLow / StockOut when the SKU's total availability crossed its line."""
    after = (
        repository.total_available(uow.session, sku) if available_after is None else available_after
    )
    threshold = repository.threshold_for(uow.session, sku)
    crossing = threshold_crossing(available_before, after, threshold)
    if crossing.low:
        uow.emit(StockLow(sku, after, threshold))
    if crossing.out:
        uow.emit(StockOut(sku))


def receive_stock(uow: UnitOfWork, command: ReceiveStock) -> int:
    uow.require(Permission.INVENTORY_WRITE)
    errors = FieldErrorCollector()
    check_quantity(errors, "quantity", command.quantity)
    errors.raise_if_any()
    warehouse = get_warehouse(uow, command.warehouse_id)
    require_skus(uow, [command.sku])
    ensure_level(uow, command.sku, warehouse.id)
    on_hand = post_movement(
        uow,
        sku=command.sku,
        warehouse_id=warehouse.id,
        kind=MovementKind.RECEIPT,
        quantity=command.quantity,
        reason=command.reason,
        reference=command.reference,
    )
    uow.audit(
        "stock.received",
        "stock",
        f"{command.sku}@{warehouse.code}",
        before={"on_hand": on_hand - command.quantity},
        after={"on_hand": on_hand},
    )
    return on_hand


def adjust_stock(uow: UnitOfWork, command: AdjustStock) -> int:
    uow.require(Permission.INVENTORY_WRITE)
    errors = FieldErrorCollector()
    check_quantity(errors, "delta", command.delta, allow_negative=True)
    if not command.reason.strip():
        errors.add("reason", "validation.required", "an adjustment needs a reason")
    errors.raise_if_any()
    warehouse = get_warehouse(uow, command.warehouse_id)
    require_skus(uow, [command.sku])
    ensure_level(uow, command.sku, warehouse.id)
    on_hand = post_movement(
        uow,
        sku=command.sku,
        warehouse_id=warehouse.id,
        kind=MovementKind.ADJUSTMENT,
        quantity=command.delta,
        reason=command.reason.strip(),
        reference=command.reference,
    )
    uow.audit(
        "stock.adjusted",
        "stock",
        f"{command.sku}@{warehouse.code}",
        before={"on_hand": on_hand - command.delta},
        after={"on_hand": on_hand},
    )
    return on_hand


def transfer_stock(uow: UnitOfWork, command: TransferStock) -> StockTransfer:
    uow.require(Permission.INVENTORY_WRITE)
    errors = FieldErrorCollector()
    if command.from_warehouse_id == command.to_warehouse_id:
        errors.add(
            "to_warehouse_id", InventoryError.SAME_WAREHOUSE, "source and destination must differ"
        )
    if not command.lines:
        errors.add("lines", "validation.required", "a transfer needs at least one line")
    for sku, quantity in command.lines.items():
        check_quantity(errors, f"lines.{sku}", quantity)
    errors.raise_if_any()
    source = get_warehouse(uow, command.from_warehouse_id)
    destination = get_warehouse(uow, command.to_warehouse_id)
    require_skus(uow, command.lines)
    reference = f"transfer:{source.code}->{destination.code}"
    for sku in sorted(command.lines):  # deterministic lock order
        quantity = command.lines[sku]
        ensure_level(uow, sku, destination.id)
        level = repository.get_level(uow.session, sku, source.id)
        if level is not None:
            uow.session.refresh(level)
        if level is None or level.available < quantity:
            raise Conflict(
                InventoryError.INSUFFICIENT_STOCK,
                f"{sku}: only {level.available if level else 0} available in {source.code}",
                details={"sku": sku, "available": level.available if level else 0},
            )
        post_movement(
            uow,
            sku=sku,
            warehouse_id=source.id,
            kind=MovementKind.TRANSFER_OUT,
            quantity=-quantity,
            reason=command.reason,
            reference=reference,
        )
        post_movement(
            uow,
            sku=sku,
            warehouse_id=destination.id,
            kind=MovementKind.TRANSFER_IN,
            quantity=quantity,
            reason=command.reason,
            reference=reference,
        )
    transfer = StockTransfer(
        from_warehouse_id=source.id,
        to_warehouse_id=destination.id,
        lines=[{"sku": sku, "quantity": q} for sku, q in sorted(command.lines.items())],
        reason=command.reason,
        actor=uow.actor.label,
    )
    uow.session.add(transfer)
    uow.session.flush()
    uow.audit(
        "stock.transferred",
        "stock_transfer",
        transfer.id,
        after={"from": source.code, "to": destination.code, "lines": transfer.lines},
    )
    return transfer


def record_cycle_count(uow: UnitOfWork, command: RecordCycleCount) -> CycleCount:
    """Post a count correction for every SKU whose counted quantity differs."""
    uow.require(Permission.INVENTORY_WRITE)
    errors = FieldErrorCollector()
    if not command.counts:
        errors.add("counts", "validation.required", "a count needs at least one SKU")
    for sku, counted in command.counts.items():
        if counted < 0 or counted > MAX_QUANTITY:
            errors.add(
                f"counts.{sku}",
                InventoryError.INVALID_QUANTITY,
                f"counted quantity must be between 0 and {MAX_QUANTITY:,}",
            )
    errors.raise_if_any()
    warehouse = get_warehouse(uow, command.warehouse_id)
    require_skus(uow, command.counts)
    lines = []
    for sku in sorted(command.counts):
        ensure_level(uow, sku, warehouse.id)
        level = repository.get_level(uow.session, sku, warehouse.id, for_update=True)
        assert level is not None
        uow.session.refresh(level)
        counted = command.counts[sku]
        difference = counted - level.on_hand
        if counted < level.reserved:
            raise Conflict(
                InventoryError.BELOW_RESERVED,
                f"{sku}: counted {counted} is below the {level.reserved} reserved; "
                "release or ship those orders first",
                details={"sku": sku},
            )
        lines.append(
            {"sku": sku, "expected": level.on_hand, "counted": counted, "difference": difference}
        )
        if difference:
            post_movement(
                uow,
                sku=sku,
                warehouse_id=warehouse.id,
                kind=MovementKind.COUNT_CORRECTION,
                quantity=difference,
                reason="cycle count",
                reference=f"count:{warehouse.code}",
            )
    count = CycleCount(
        warehouse_id=warehouse.id, lines=lines, note=command.note, actor=uow.actor.label
    )
    uow.session.add(count)
    uow.session.flush()
    uow.audit("stock.counted", "cycle_count", count.id, after={"lines": lines})
    return count


def set_threshold(uow: UnitOfWork, command: SetThreshold) -> StockThreshold:
    uow.require(Permission.INVENTORY_WRITE)
    if command.low_stock_threshold < 0 or command.low_stock_threshold > MAX_QUANTITY:
        raise ValidationFailed(
            InventoryError.INVALID_QUANTITY, "threshold must be between 0 and 1,000,000"
        )
    require_skus(uow, [command.sku])
    row = uow.session.get(StockThreshold, command.sku)
    before = {"low_stock_threshold": row.low_stock_threshold if row else None}
    if row is None:
        row = StockThreshold(sku=command.sku, low_stock_threshold=command.low_stock_threshold)
        uow.session.add(row)
    else:
        row.low_stock_threshold = command.low_stock_threshold
    uow.audit(
        "stock.threshold_set",
        "sku",
        command.sku,
        before=before,
        after={"low_stock_threshold": command.low_stock_threshold},
    )
    return row


# --- reads (the permission check lives here so the API and the CLI share it) ---------------


def query_warehouses(
    uow: UnitOfWork,
    *,
    active_only: bool = False,
    after: tuple[int, int] | None = None,
    limit: int | None = None,
) -> Sequence[Warehouse]:
    uow.require(Permission.INVENTORY_READ)
    return repository.list_warehouses(
        uow.session, active_only=active_only, after=after, limit=limit
    )


def query_stock(uow: UnitOfWork, query: repository.StockFilter) -> list[tuple[StockLevel, int]]:
    """Stock levels with each SKU's alert threshold."""
    uow.require(Permission.INVENTORY_READ)
    return repository.list_stock(uow.session, query)


def query_movements(uow: UnitOfWork, query: repository.MovementFilter) -> Sequence[StockMovement]:
    """Ledger entries, newest first."""
    uow.require(Permission.INVENTORY_READ)
    return repository.list_movements(uow.session, query)


def query_reservations(uow: UnitOfWork, reference: str) -> Sequence[Reservation]:
    uow.require(Permission.INVENTORY_READ)
    return repository.reservations_for(uow.session, reference)


@dataclass(frozen=True)
class LedgerDiscrepancy:
    sku: str
    warehouse_id: int
    on_hand: int
    ledger_total: int

    @property
    def difference(self) -> int:
        return self.on_hand - self.ledger_total


def check_ledger(uow: UnitOfWork) -> list[LedgerDiscrepancy]:
    """Every stock level whose on_hand differs from the sum of its ledger; empty when sound."""
    uow.require(Permission.INVENTORY_READ)
    return [LedgerDiscrepancy(*row) for row in repository.ledger_discrepancies(uow.session)]

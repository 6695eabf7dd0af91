"""inventory: warehouses, stock, receipts, adjustments, transfers, counts, the ledger.

Warehouses are named by code (SH1) on the command line. Acts as the system operator
unless `--as EMAIL` is given; the same permissions apply as in the API.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import typer

from shopops.cli.context import OutputFormat, console, emit_rows, error_console, state
from shopops.contexts import inventory
from shopops.kernel.errors import FieldErrorCollector, ValidationFailed
from shopops.uow import UnitOfWork

inventory_app = typer.Typer(
    help="Inventory: warehouses, stock levels, the movement ledger.", no_args_is_help=True
)
warehouses_app = typer.Typer(help="Warehouses.", no_args_is_help=True)
inventory_app.add_typer(warehouses_app, name="warehouses")

FORMAT = typer.Option(OutputFormat.TABLE, "--format", help="table, csv or json.")
WAREHOUSE = typer.Option(..., "--warehouse", "-w", help="Warehouse code, e.g. SH1.")
STOCK_HEADERS = ["sku", "warehouse", "on_hand", "reserved", "available", "threshold"]


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _codes(uow: UnitOfWork) -> dict[int, str]:
    return {w.id: w.code for w in inventory.query_warehouses(uow)}


def _print_level(uow: UnitOfWork, sku: str, warehouse_id: int) -> None:
    query = inventory.StockFilter(sku=sku, warehouse_id=warehouse_id, limit=1)
    [(level, _)] = inventory.query_stock(uow, query)
    console.print(
        f"{sku} @ {_codes(uow)[warehouse_id]}: on hand {level.on_hand}, "
        f"reserved {level.reserved}, available {level.available}"
    )


# --- warehouses ----------------------------------------------------------------------------


@warehouses_app.command("add")
def add_warehouse(
    code: str,
    name: str = typer.Option(..., help="Display name."),
    region: str = typer.Option(..., help="Region code, e.g. CN-SH."),
    priority: int = typer.Option(100, help="Lower ships first."),
    inactive: bool = typer.Option(False, "--inactive", help="Create it switched off."),
) -> None:
    """Create a warehouse."""
    command = inventory.CreateWarehouse(code, name, region, priority, not inactive)
    with state.uow() as uow:
        warehouse = inventory.create_warehouse(uow, command)
        uow.commit()
        console.print(f"created warehouse {warehouse.id} {warehouse.code} ({warehouse.region})")


@warehouses_app.command("list")
def list_warehouses(
    active_only: bool = typer.Option(False, "--active-only"), fmt: OutputFormat = FORMAT
) -> None:
    """Warehouses in shipping order (priority, then id)."""
    with state.uow() as uow:
        rows = [
            (w.id, w.code, w.name, w.region, w.priority, w.is_active)
            for w in inventory.query_warehouses(uow, active_only=active_only)
        ]
    emit_rows(rows, ["id", "code", "name", "region", "priority", "active"], fmt, "Warehouses")


# --- stock ---------------------------------------------------------------------------------


@inventory_app.command("stock")
def stock(
    sku: str | None = typer.Option(None, help="Only this SKU."),
    warehouse: str | None = typer.Option(None, "--warehouse", "-w", help="Warehouse code."),
    low: bool = typer.Option(False, "--low", help="Only rows at or below the threshold."),
    limit: int = typer.Option(1000, min=1, max=100_000),
    fmt: OutputFormat = FORMAT,
) -> None:
    """Stock levels: on hand, reserved, available and the SKU's low-stock threshold."""
    with state.uow() as uow:
        warehouse_id = inventory.get_warehouse_by_code(uow, warehouse).id if warehouse else None
        codes = _codes(uow)
        rows: list[tuple[object, ...]] = []
        after: int | None = None
        while len(rows) < limit:
            query = inventory.StockFilter(
                sku, warehouse_id, low, after, min(500, limit - len(rows))
            )
            page = inventory.query_stock(uow, query)
            rows += [
                (lv.sku, codes[lv.warehouse_id], lv.on_hand, lv.reserved, lv.available, threshold)
                for lv, threshold in page
            ]
            if len(page) < query.limit:
                break
            after = page[-1][0].id
    emit_rows(rows, STOCK_HEADERS, fmt, "Stock")


@inventory_app.command("receive")
def receive(
    sku: str,
    quantity: int,
    warehouse: str = WAREHOUSE,
    reason: str = typer.Option("purchase receipt"),
    reference: str | None = typer.Option(None, help="e.g. the purchase order number."),
) -> None:
    """Book goods in."""
    with state.uow() as uow:
        warehouse_id = inventory.get_warehouse_by_code(uow, warehouse).id
        command = inventory.ReceiveStock(warehouse_id, sku, quantity, reason, reference)
        inventory.receive_stock(uow, command)
        uow.commit()
        _print_level(uow, sku, warehouse_id)


@inventory_app.command("adjust")
def adjust(
    sku: str,
    delta: int = typer.Option(..., help="Signed change of on hand, e.g. --delta -2."),
    warehouse: str = WAREHOUSE,
    reason: str = typer.Option(..., help="Why: damaged, found, lost..."),
    reference: str | None = typer.Option(None),
) -> None:
    """Correct on hand by a signed amount (never below what is reserved)."""
    with state.uow() as uow:
        warehouse_id = inventory.get_warehouse_by_code(uow, warehouse).id
        command = inventory.AdjustStock(warehouse_id, sku, delta, reason, reference)
        inventory.adjust_stock(uow, command)
        uow.commit()
        _print_level(uow, sku, warehouse_id)


def _lines(specs: Sequence[str]) -> dict[str, int]:
    errors = FieldErrorCollector()
    lines: dict[str, int] = {}
    for spec in specs:
        sku, _, quantity = spec.partition("=")
        if not sku or not quantity.strip().lstrip("-").isdigit():
            errors.add("lines", "validation.invalid_line", f"'{spec}': write SKU=QUANTITY")
        elif sku in lines:
            errors.add("lines", "validation.duplicate_sku", f"'{sku}' is given twice")
        else:
            lines[sku] = int(quantity)
    errors.raise_if_any()
    return lines


@inventory_app.command("transfer")
def transfer(
    lines: list[str] = typer.Argument(..., help="SKU=QUANTITY, e.g. TEE-S=10 MUG=4."),
    source: str = typer.Option(..., "--from", help="Source warehouse code."),
    destination: str = typer.Option(..., "--to", help="Destination warehouse code."),
    reason: str = typer.Option("rebalance"),
) -> None:
    """Move available stock between warehouses (all lines or none)."""
    wanted = _lines(lines)
    with state.uow() as uow:
        command = inventory.TransferStock(
            inventory.get_warehouse_by_code(uow, source).id,
            inventory.get_warehouse_by_code(uow, destination).id,
            wanted,
            reason,
        )
        moved = inventory.transfer_stock(uow, command)
        uow.commit()
        console.print(f"transfer {moved.id}: {source} -> {destination}, {len(wanted)} SKU(s)")


def _read_counts(path: Path) -> dict[str, int]:
    """A CSV with the header ``sku,counted``; every bad row is reported with its number."""
    errors = FieldErrorCollector()
    counts: dict[str, int] = {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if not {"sku", "counted"} <= set(reader.fieldnames or []):
            raise ValidationFailed("inventory.invalid_count_file", "the header must be sku,counted")
        for row_number, row in enumerate(reader, start=2):
            sku, counted = (row.get("sku") or "").strip(), (row.get("counted") or "").strip()
            if not sku:
                errors.add("sku", "validation.required", "SKU is missing", row_number)
            elif sku in counts:
                errors.add("sku", "validation.duplicate_sku", f"{sku} counted twice", row_number)
            elif not counted.lstrip("-").isdigit():
                errors.add("counted", "validation.not_integer", f"'{counted}'", row_number)
            else:
                counts[sku] = int(counted)
    errors.raise_if_any()
    return counts


@inventory_app.command("count")
def count(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV: sku,counted"),
    warehouse: str = WAREHOUSE,
    note: str | None = typer.Option(None),
    fmt: OutputFormat = FORMAT,
) -> None:
    """Record a cycle count; every difference is posted as a count correction."""
    counts = _read_counts(file)
    with state.uow() as uow:
        warehouse_id = inventory.get_warehouse_by_code(uow, warehouse).id
        recorded = inventory.record_cycle_count(
            uow, inventory.RecordCycleCount(warehouse_id, counts, note)
        )
        uow.commit()
        rows = [(x["sku"], x["expected"], x["counted"], x["difference"]) for x in recorded.lines]
    emit_rows(rows, ["sku", "expected", "counted", "difference"], fmt, f"Count at {warehouse}")


@inventory_app.command("movements")
def movements(
    sku: str | None = typer.Option(None),
    warehouse: str | None = typer.Option(None, "--warehouse", "-w", help="Warehouse code."),
    kind: inventory.MovementKind | None = typer.Option(None),
    reference: str | None = typer.Option(None),
    since: datetime | None = typer.Option(None, help="From (inclusive), UTC if no offset."),
    until: datetime | None = typer.Option(None, help="Until (exclusive), UTC if no offset."),
    limit: int = typer.Option(100, min=1, max=10_000),
    fmt: OutputFormat = FORMAT,
) -> None:
    """The movement ledger, newest first."""
    start, end = _aware(since), _aware(until)
    if start and end and start >= end:
        raise ValidationFailed("validation.reversed_range", "--since must be before --until")
    with state.uow() as uow:
        warehouse_id = inventory.get_warehouse_by_code(uow, warehouse).id if warehouse else None
        codes = _codes(uow)
        query = inventory.MovementFilter(
            sku, warehouse_id, kind, reference, start, end, None, limit
        )
        rows = [
            [
                m.id,
                m.occurred_at,
                m.sku,
                codes[m.warehouse_id],
                m.kind,
                m.quantity,
                m.reason,
                m.reference,
                m.actor,
            ]
            for m in inventory.query_movements(uow, query)
        ]
    headers = ["id", "at", "sku", "warehouse", "kind", "quantity", "reason", "reference", "actor"]
    emit_rows(rows, headers, fmt, "Movements")


@inventory_app.command("threshold")
def threshold(sku: str, level: int = typer.Argument(..., help="Alert at or below this.")) -> None:
    """Set a SKU's low-stock alert level."""
    with state.uow() as uow:
        inventory.set_threshold(uow, inventory.SetThreshold(sku, level))
        uow.commit()
    console.print(f"{sku}: low-stock threshold {level}")


@inventory_app.command("reservations")
def reservations(reference: str, fmt: OutputFormat = FORMAT) -> None:
    """Stock held for one reference (an order number)."""
    with state.uow() as uow:
        codes = _codes(uow)
        rows = [
            (r.sku, codes[r.warehouse_id], r.quantity, r.status, r.expires_at, r.closed_at)
            for r in inventory.query_reservations(uow, reference)
        ]
    headers = ["sku", "warehouse", "quantity", "status", "expires_at", "closed_at"]
    emit_rows(rows, headers, fmt, f"Reservations of {reference}")


@inventory_app.command("check-ledger")
def check_ledger(fmt: OutputFormat = FORMAT) -> None:
    """Compare every stock level with its ledger; exits 1 when any disagree."""
    with state.uow() as uow:
        codes = _codes(uow)
        found = inventory.check_ledger(uow)
    if not found:
        console.print("ledger and stock levels agree")
        return
    rows = [
        (d.sku, codes.get(d.warehouse_id, d.warehouse_id), d.on_hand, d.ledger_total, d.difference)
        for d in found
    ]
    emit_rows(rows, ["sku", "warehouse", "on_hand", "ledger", "difference"], fmt, "Discrepancies")
    error_console.print(f"{len(found)} stock level(s) disagree with the ledger")
    raise typer.Exit(1)


__all__: Sequence[str] = ["inventory_app"]

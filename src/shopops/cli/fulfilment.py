"""shipments: ship an order from a warehouse, list, show, record tracking, late orders.

Acts as the system operator unless `--as EMAIL` is given (shipping then needs
`fulfilment.write`, reading `orders.read`, exactly as in the API).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import UTC, datetime
from typing import Any

import typer

from shopops.cli.context import OutputFormat, console, emit_rows, state
from shopops.contexts import fulfilment, inventory, orders
from shopops.kernel.errors import ValidationFailed
from shopops.kernel.events import jsonable

shipments_app = typer.Typer(
    help="Shipments: ship orders per warehouse, carrier tracking, late orders.",
    no_args_is_help=True,
)

FORMAT = typer.Option(OutputFormat.TABLE, "--format", help="table, csv or json.")
LIST_HEADERS = ["id", "order", "warehouse_id", "carrier", "tracking_number", "status"]
LIST_HEADERS += ["shipped_at", "delivered_at", "deliver_by", "late", "units"]


def _row(view: fulfilment.ShipmentView) -> list[Any]:
    return [
        view.id,
        view.order_number,
        view.warehouse_id,
        view.carrier,
        view.tracking_number,
        view.status,
        view.shipped_at,
        view.delivered_at,
        view.deliver_by,
        view.late,
        sum(line.quantity for line in view.lines),
    ]


def _parse_lines(lines: list[str]) -> tuple[fulfilment.ShipLine, ...] | None:
    if not lines:
        return None
    parsed = []
    for index, text in enumerate(lines):
        sku, _, quantity = text.partition("=")
        if not sku.strip() or not quantity.strip().isdigit():
            raise ValidationFailed(
                "validation.invalid_line", f"--line #{index + 1} '{text}': use SKU=QUANTITY"
            )
        parsed.append(fulfilment.ShipLine(sku.strip(), int(quantity)))
    return tuple(parsed)


@shipments_app.command("ship")
def ship(
    order_number: str = typer.Argument(..., help="The order number, e.g. SO-260301-7KQ2MX."),
    warehouse: str = typer.Option(..., "--warehouse", help="Code of the shipping warehouse."),
    carrier: str = typer.Option(..., "--carrier", help="Carrier code, e.g. ups or sf-express."),
    tracking: str | None = typer.Option(
        None, "--tracking", help="Tracking number of a label printed elsewhere; else one is booked."
    ),
    line: list[str] = typer.Option(
        [], "--line", help="SKU=QUANTITY to ship part of what is held; repeat. Default: all."
    ),
) -> None:
    """Ship an order (or part of it) from one warehouse."""
    with state.uow() as uow:
        order_id = orders.get_order_by_number(uow, order_number).id
        warehouse_id = inventory.get_warehouse_by_code(uow, warehouse).id
    command = fulfilment.ShipOrder(
        order_id=order_id,
        warehouse_id=warehouse_id,
        carrier=carrier,
        tracking_number=tracking,
        lines=_parse_lines(line),
    )
    view = fulfilment.ship(state.uow, state.container.carrier, command)
    units = sum(item.quantity for item in view.lines)
    console.print(
        f"shipment {view.id}: {units} unit(s) of {view.order_number} "
        f"with {view.carrier} {view.tracking_number}"
    )


@shipments_app.command("list")
def list_shipments(
    order: str | None = typer.Option(None, "--order", help="Only this order number."),
    status: fulfilment.ShipmentStatus | None = typer.Option(None, "--status"),
    carrier: str | None = typer.Option(None, "--carrier"),
    warehouse: str | None = typer.Option(None, "--warehouse", help="Warehouse code."),
    late: bool | None = typer.Option(None, "--late/--on-time", help="Only late or on-time."),
    limit: int = typer.Option(100, min=1, max=100_000),
    fmt: OutputFormat = FORMAT,
) -> None:
    """List shipments, oldest first."""
    views: list[fulfilment.ShipmentView] = []
    with state.uow() as uow:
        query = fulfilment.ShipmentFilter(
            order_id=orders.get_order_by_number(uow, order).id if order else None,
            status=status.value if status else None,
            carrier=carrier.strip().lower() if carrier else None,
            warehouse_id=inventory.get_warehouse_by_code(uow, warehouse).id if warehouse else None,
            late=late,
        )
        while len(views) < limit:
            size = min(500, limit - len(views))
            page = fulfilment.list_shipments(uow, dataclasses.replace(query, limit=size))
            views.extend(page.items)
            if page.next_after_id is None:
                break
            query = dataclasses.replace(query, after_id=page.next_after_id)
    emit_rows([_row(v) for v in views], LIST_HEADERS, fmt, "Shipments")


@shipments_app.command("show")
def show_shipment(shipment_id: int, fmt: OutputFormat = FORMAT) -> None:
    """One shipment with its lines and tracking events."""
    with state.uow() as uow:
        view = fulfilment.get_shipment(uow, shipment_id)
    if fmt == OutputFormat.JSON:
        sys.stdout.write(json.dumps(jsonable(dataclasses.asdict(view)), indent=2) + "\n")
        return
    emit_rows([_row(view)], LIST_HEADERS, fmt, f"Shipment {view.id}")
    if fmt == OutputFormat.TABLE:
        emit_rows(
            [[line.order_line_id, line.sku, line.quantity] for line in view.lines],
            ["order_line_id", "sku", "quantity"],
            fmt,
            "Lines",
        )
        emit_rows(
            [
                [e.occurred_at, e.status, e.location, e.description, e.source]
                for e in view.events or []
            ],
            ["occurred_at", "status", "location", "description", "source"],
            fmt,
            "Tracking",
        )


@shipments_app.command("track")
def track(
    shipment_id: int,
    status: fulfilment.ShipmentStatus = typer.Argument(..., help="The scan's status."),
    at: datetime | None = typer.Option(None, "--at", help="When it happened (UTC); default now."),
    location: str | None = typer.Option(None, "--location"),
    description: str = typer.Option("", "--description"),
) -> None:
    """Record a tracking scan by hand (a repeated scan is ignored)."""
    with state.uow() as uow:
        occurred_at = uow.now() if at is None else _aware(at)
        result = fulfilment.record_tracking_event(
            uow,
            fulfilment.RecordTrackingEvent(
                shipment_id, status.value, occurred_at, location, description
            ),
        )
        uow.commit()
    if not result.recorded:
        console.print(f"shipment {shipment_id}: this scan was already recorded")
        return
    console.print(f"shipment {shipment_id} is {result.shipment.status}")


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@shipments_app.command("late")
def late(limit: int = typer.Option(100, min=1, max=500), fmt: OutputFormat = FORMAT) -> None:
    """Paid orders past their ship-by date with units still to ship, most overdue first."""
    with state.uow() as uow:
        page = fulfilment.late_orders(uow, fulfilment.LateOrderFilter(limit=limit))
    emit_rows(
        [
            [v.number, v.status, v.ship_by, v.overdue_hours, v.units_ordered, v.units_shipped]
            for v in page.items
        ],
        ["order", "status", "ship_by", "overdue_hours", "units_ordered", "units_shipped"],
        fmt,
        "Late orders",
    )

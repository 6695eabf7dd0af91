"""Shipping an order from a warehouse, and reading shipments.

Shipping takes two steps so that no carrier call happens inside an open
transaction: ``plan_shipment`` checks everything and describes the parcel
(read only), the label is booked with the carrier, then ``create_shipment``
checks again under the order's row lock and records the shipment, the sale
movements and the order's new status in one unit of work
(``workflows.ship`` runs the three steps).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace

from sqlalchemy.exc import IntegrityError

from shopops.adapters.carriers import Label, Parcel, ParcelItem
from shopops.auth.permissions import Permission
from shopops.contexts import inventory, orders
from shopops.contexts.fulfilment import repository, rules
from shopops.contexts.fulfilment.commands import (
    LateOrderFilter,
    ShipmentFilter,
    ShipOrder,
)
from shopops.contexts.fulfilment.errors import MAX_LINE_QUANTITY, FulfilmentError
from shopops.contexts.fulfilment.events import ShipmentCreated
from shopops.contexts.fulfilment.models import Shipment, ShipmentLine
from shopops.contexts.fulfilment.views import (
    LateOrderPage,
    LateOrderView,
    ShipmentPage,
    ShipmentView,
    shipment_view,
)
from shopops.kernel.errors import (
    Conflict,
    FieldError,
    FieldErrorCollector,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)
from shopops.uow import UnitOfWork

_CARRIER_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,31}$")
_TRACKING_NUMBER = re.compile(r"^[A-Z0-9-]{4,64}$")
MAX_PAGE = 500


@dataclass(frozen=True)
class ShipmentPlan:
    order_id: int
    order_number: str
    warehouse_id: int
    warehouse_code: str
    carrier: str
    tracking_number: str | None  # entered by staff; None: book a label
    lines: tuple[rules.PlannedLine, ...]
    parcel: Parcel
    idempotency_key: str  # the same parcel planned again books the same label


def normalize_carrier(carrier: str) -> str:
    return carrier.strip().lower()


def normalize_tracking_number(tracking_number: str) -> str:
    return "".join(tracking_number.split()).upper()


def _check_input(uow: UnitOfWork, command: ShipOrder) -> tuple[dict[str, int] | None, str]:
    """Every input problem at once; returns the requested units per SKU and the warehouse code."""
    errors = FieldErrorCollector()
    if not _CARRIER_CODE.match(normalize_carrier(command.carrier)):
        errors.add(
            "carrier",
            FulfilmentError.INVALID_CARRIER,
            "a carrier code is 2-32 lowercase letters, digits, '-' or '_' (e.g. ups, sf-express)",
        )
    if command.tracking_number is not None and not _TRACKING_NUMBER.match(
        normalize_tracking_number(command.tracking_number)
    ):
        errors.add(
            "tracking_number",
            FulfilmentError.INVALID_TRACKING_NUMBER,
            "a tracking number is 4-64 letters, digits or '-'",
        )
    requested: dict[str, int] | None = None
    if command.lines is not None:
        requested = {}
        if not command.lines:
            errors.add("lines", "validation.required", "omit lines to ship everything held")
        for index, line in enumerate(command.lines):
            if not line.sku.strip():
                errors.add(f"lines.{index}.sku", "validation.required", "SKU is required")
            elif not 1 <= line.quantity <= MAX_LINE_QUANTITY:
                errors.add(
                    f"lines.{index}.quantity",
                    FulfilmentError.INVALID_QUANTITY,
                    f"quantity must be between 1 and {MAX_LINE_QUANTITY:,}",
                )
            else:
                sku = line.sku.strip()
                requested[sku] = requested.get(sku, 0) + line.quantity
    code = ""
    try:
        code = inventory.get_warehouse(uow, command.warehouse_id).code
    except NotFound:
        errors.add(
            "warehouse_id",
            FulfilmentError.UNKNOWN_WAREHOUSE,
            f"warehouse {command.warehouse_id} does not exist",
        )
    errors.raise_if_any()
    return requested, code


@dataclass(frozen=True)
class _Checked:
    warehouse_code: str
    carrier: str
    tracking_number: str | None
    lines: tuple[rules.PlannedLine, ...]


def _check(uow: UnitOfWork, command: ShipOrder, order: orders.Order) -> _Checked:
    """Everything that must hold to ship; raises the first kind of problem found."""
    requested, warehouse_code = _check_input(uow, command)
    if not rules.can_ship(order.status):
        raise InvalidTransition(
            FulfilmentError.ORDER_NOT_SHIPPABLE,
            f"order {order.number} is {order.status}; only paid orders not fully shipped can ship",
            details={"status": order.status},
        )
    if order.fulfilment_hold is not None:
        raise Conflict(
            FulfilmentError.ORDER_ON_HOLD,
            f"order {order.number} is on hold ({order.fulfilment_hold}) and cannot ship yet",
            details={"hold": order.fulfilment_hold},
        )
    reserved: dict[str, int] = {}
    for reservation in inventory.reservations_for(uow.session, order.number):
        held = reservation.status == inventory.ReservationStatus.ACTIVE
        if held and reservation.warehouse_id == command.warehouse_id:
            reserved[reservation.sku] = reserved.get(reservation.sku, 0) + reservation.quantity
    order_lines = orders.lines_of(uow.session, order.id)
    open_lines = [
        rules.OpenLine(line.id, line.sku, line.quantity - line.shipped_quantity)
        for line in order_lines
    ]
    plan = rules.plan_lines(requested, reserved, open_lines)
    if plan.unknown:
        errors = FieldErrorCollector()
        for sku in plan.unknown:
            errors.add(f"lines.{sku}", FulfilmentError.SKU_NOT_IN_ORDER, f"{sku} is not ordered")
        errors.raise_if_any(FulfilmentError.SKU_NOT_IN_ORDER)
    if plan.shortfall:
        listed = ", ".join(f"{sku} {r} asked, {s} held" for sku, (r, s) in plan.shortfall.items())
        raise Conflict(
            FulfilmentError.EXCEEDS_RESERVED,
            f"more than is held in warehouse {warehouse_code} and unshipped: {listed}",
            details={
                "shortfall": {
                    sku: {"requested": r, "shippable": s} for sku, (r, s) in plan.shortfall.items()
                }
            },
        )
    if not plan.lines:
        raise Conflict(
            FulfilmentError.NOTHING_TO_SHIP,
            f"nothing is held in warehouse {warehouse_code} for order {order.number}",
        )
    tracking = command.tracking_number
    return _Checked(
        warehouse_code=warehouse_code,
        carrier=normalize_carrier(command.carrier),
        tracking_number=None if tracking is None else normalize_tracking_number(tracking),
        lines=plan.lines,
    )


def _parcel(
    uow: UnitOfWork, order: orders.Order, origin: str, lines: tuple[rules.PlannedLine, ...]
) -> Parcel:
    units: dict[str, int] = {}
    for line in lines:
        units[line.sku] = units.get(line.sku, 0) + line.quantity
    weights = repository.weights(uow.session, units)
    address = (
        uow.pii.decrypt(order.ship_line1_encrypted),
        uow.pii.decrypt(order.ship_line2_encrypted),
    )
    return Parcel(
        reference=order.number,
        origin=origin,
        recipient=uow.pii.decrypt(order.ship_recipient_encrypted) or "",
        address_lines=tuple(part for part in address if part),
        city=order.ship_city,
        postal_code=order.ship_postal_code,
        country=order.ship_country,
        phone=uow.pii.decrypt(order.ship_phone_encrypted),
        weight_grams=sum(weights.get(sku, 0) * quantity for sku, quantity in units.items()),
        items=tuple(ParcelItem(sku, quantity) for sku, quantity in units.items()),
    )


def plan_shipment(uow: UnitOfWork, command: ShipOrder) -> ShipmentPlan:
    """Check that the shipment may be made and describe the parcel; writes nothing."""
    uow.require(Permission.FULFILMENT_WRITE)
    order = orders.get_order(uow, command.order_id)
    checked = _check(uow, command, order)
    shipped_before = repository.count_for(uow.session, order.id, command.warehouse_id)
    content = ",".join(f"{line.order_line_id}x{line.quantity}" for line in checked.lines)
    digest = hashlib.sha256(content.encode()).hexdigest()[:12]
    return ShipmentPlan(
        order_id=order.id,
        order_number=order.number,
        warehouse_id=command.warehouse_id,
        warehouse_code=checked.warehouse_code,
        carrier=checked.carrier,
        tracking_number=checked.tracking_number,
        lines=checked.lines,
        parcel=_parcel(uow, order, checked.warehouse_code, checked.lines),
        idempotency_key=f"{order.number}:{checked.warehouse_code}:{shipped_before + 1}:{digest}",
    )


def create_shipment(uow: UnitOfWork, command: ShipOrder, *, label: Label | None) -> ShipmentView:
    """Record the shipment: consume the reservation, count the units shipped, move the order.

    ``label`` is the carrier's booking; without one the command must carry the
    tracking number staff entered.
    """
    uow.require(Permission.FULFILMENT_WRITE)
    order = orders.get_order(uow, command.order_id, for_update=True)
    checked = _check(uow, command, order)
    if label is not None:
        tracking_number, label_reference = label.tracking_number, label.label_reference
    elif checked.tracking_number is not None:
        tracking_number, label_reference = checked.tracking_number, None
    else:
        raise ValidationFailed(
            FulfilmentError.INVALID_TRACKING_NUMBER,
            "enter the tracking number or book a label with the carrier",
            errors=[
                FieldError("tracking_number", "validation.required", "a tracking number is needed")
            ],
        )
    if repository.get_by_tracking(uow.session, checked.carrier, tracking_number) is not None:
        raise _tracking_taken(checked.carrier, tracking_number)

    units: dict[str, int] = {}
    for line in checked.lines:
        units[line.sku] = units.get(line.sku, 0) + line.quantity
    inventory.consume(uow, order.number, command.warehouse_id, units)
    outstanding = orders.record_shipped(
        uow, order, {line.order_line_id: line.quantity for line in checked.lines}
    )
    now = uow.now()
    shipment = Shipment(
        order_id=order.id,
        warehouse_id=command.warehouse_id,
        carrier=checked.carrier,
        tracking_number=tracking_number,
        label_reference=label_reference,
        status=rules.ShipmentStatus.LABEL_CREATED,
        status_at=now,
        shipped_at=now,
        delivered_at=None,
        ship_by=order.ship_by,
        deliver_by=order.deliver_by,
        last_polled_at=None,
        lines=[
            ShipmentLine(order_line_id=p.order_line_id, sku=p.sku, quantity=p.quantity)
            for p in checked.lines
        ],
    )
    try:
        with uow.session.begin_nested():
            uow.session.add(shipment)
            uow.session.flush()
    except IntegrityError:
        raise _tracking_taken(checked.carrier, tracking_number) from None

    lines_data: list[dict[str, object]] = [
        {"order_line_id": p.order_line_id, "sku": p.sku, "quantity": p.quantity}
        for p in checked.lines
    ]
    orders.transition(
        uow,
        order,
        orders.OrderStatus(rules.order_status_after_shipping(outstanding)),
        reason=f"shipped from {checked.warehouse_code} with {checked.carrier} {tracking_number}",
        data={
            "shipment_id": shipment.id,
            "carrier": checked.carrier,
            "tracking_number": tracking_number,
            "warehouse": checked.warehouse_code,
            "lines": lines_data,
        },
    )
    uow.emit(
        ShipmentCreated(
            shipment.id,
            order.id,
            order.number,
            command.warehouse_id,
            checked.carrier,
            tracking_number,
            lines_data,
        )
    )
    uow.audit(
        "shipment.created",
        "shipment",
        shipment.id,
        after={
            "order": order.number,
            "warehouse": checked.warehouse_code,
            "carrier": checked.carrier,
            "tracking_number": tracking_number,
            "lines": lines_data,
        },
    )
    return shipment_view(shipment, order.number, now, events=[])


def _tracking_taken(carrier: str, tracking_number: str) -> Conflict:
    return Conflict(
        FulfilmentError.TRACKING_NUMBER_TAKEN,
        f"{carrier} tracking number {tracking_number} is already on another shipment",
        details={"carrier": carrier, "tracking_number": tracking_number},
    )


def get_shipment(uow: UnitOfWork, shipment_id: int) -> ShipmentView:
    uow.require(Permission.ORDERS_READ)
    shipment = repository.get(uow.session, shipment_id)
    if shipment is None:
        raise NotFound(FulfilmentError.SHIPMENT_NOT_FOUND, f"shipment {shipment_id} does not exist")
    return shipment_view(
        shipment,
        repository.order_number_of(uow.session, shipment.order_id),
        uow.now(),
        events=repository.events_of(uow.session, shipment.id),
    )


def list_shipments(uow: UnitOfWork, query: ShipmentFilter) -> ShipmentPage:
    uow.require(Permission.ORDERS_READ)
    _check_status_filter(query.status)
    limit = max(1, min(query.limit, MAX_PAGE))
    now = uow.now()
    rows = repository.list_shipments(uow.session, replace(query, limit=limit + 1), now)
    items = [shipment_view(shipment, number, now) for shipment, number in rows[:limit]]
    return ShipmentPage(items, items[-1].id if len(rows) > limit else None)


def _check_status_filter(status: str | None) -> None:
    if status is not None and status not in set(rules.ShipmentStatus):
        raise ValidationFailed(
            FulfilmentError.INVALID_STATUS,
            "unknown shipment status",
            errors=[
                FieldError(
                    "status",
                    FulfilmentError.INVALID_STATUS,
                    f"use one of {', '.join(rules.ShipmentStatus)}",
                )
            ],
        )


def late_orders(uow: UnitOfWork, query: LateOrderFilter) -> LateOrderPage:
    """Paid orders past their ship-by date and not fully shipped, most overdue first."""
    uow.require(Permission.ORDERS_READ)
    limit = max(1, min(query.limit, MAX_PAGE))
    now = uow.now()
    rows = repository.late_orders(uow.session, now, LateOrderFilter(query.after, limit + 1))
    items = []
    for row in rows[:limit]:
        ship_by = row.order.ship_by
        assert ship_by is not None  # the query only returns orders with a ship-by date
        items.append(
            LateOrderView(
                order_id=row.order.id,
                number=row.order.number,
                status=row.order.status,
                ship_by=ship_by,
                overdue_hours=round((now - ship_by).total_seconds() / 3600, 1),
                units_ordered=row.units_ordered,
                units_shipped=row.units_shipped,
            )
        )
    last = items[-1] if items and len(rows) > limit else None
    return LateOrderPage(items, None if last is None else (last.ship_by, last.order_id))

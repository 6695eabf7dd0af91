"""Read models handed to the API and the CLI (plain data, no session attached)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from shopops.contexts.fulfilment.models import Shipment, TrackingEvent
from shopops.contexts.fulfilment.rules import is_late


@dataclass(frozen=True)
class ShipmentLineView:
    order_line_id: int
    sku: str
    quantity: int


@dataclass(frozen=True)
class TrackingEventView:
    id: int
    status: str
    location: str | None
    description: str
    source: str
    occurred_at: datetime
    recorded_at: datetime


@dataclass(frozen=True)
class ShipmentView:
    id: int
    order_id: int
    order_number: str
    warehouse_id: int
    carrier: str
    tracking_number: str
    label_reference: str | None
    status: str
    status_at: datetime
    shipped_at: datetime
    delivered_at: datetime | None
    ship_by: datetime | None
    deliver_by: datetime | None
    late: bool
    lines: list[ShipmentLineView]
    events: list[TrackingEventView] | None  # None in lists; read one shipment to get them


@dataclass(frozen=True)
class ShipmentPage:
    items: list[ShipmentView]
    next_after_id: int | None


@dataclass(frozen=True)
class TrackingResult:
    recorded: bool  # False when the same scan was already stored
    status_changed: bool
    shipment: ShipmentView


@dataclass(frozen=True)
class LateOrderView:
    order_id: int
    number: str
    status: str
    ship_by: datetime
    overdue_hours: float
    units_ordered: int
    units_shipped: int


@dataclass(frozen=True)
class LateOrderPage:
    items: list[LateOrderView]
    next_after: tuple[datetime, int] | None


def shipment_view(
    shipment: Shipment,
    order_number: str,
    now: datetime,
    events: Sequence[TrackingEvent] | None = None,
) -> ShipmentView:
    return ShipmentView(
        id=shipment.id,
        order_id=shipment.order_id,
        order_number=order_number,
        warehouse_id=shipment.warehouse_id,
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        label_reference=shipment.label_reference,
        status=shipment.status,
        status_at=shipment.status_at,
        shipped_at=shipment.shipped_at,
        delivered_at=shipment.delivered_at,
        ship_by=shipment.ship_by,
        deliver_by=shipment.deliver_by,
        late=is_late(shipment.deliver_by, shipment.delivered_at, now),
        lines=[
            ShipmentLineView(line.order_line_id, line.sku, line.quantity) for line in shipment.lines
        ],
        events=None
        if events is None
        else [
            TrackingEventView(
                e.id, e.status, e.location, e.description, e.source, e.occurred_at, e.recorded_at
            )
            for e in events
        ],
    )

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ShipLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class ShipOrder:
    """Ship from one warehouse. Without ``lines`` everything held there for the order ships;
    without ``tracking_number`` a label is booked with the carrier."""

    order_id: int
    warehouse_id: int
    carrier: str
    tracking_number: str | None = None
    lines: tuple[ShipLine, ...] | None = None


@dataclass(frozen=True)
class RecordTrackingEvent:
    shipment_id: int
    status: str
    occurred_at: datetime
    location: str | None = None
    description: str = ""
    source: str = "manual"


@dataclass(frozen=True)
class ShipmentFilter:
    order_id: int | None = None
    status: str | None = None
    carrier: str | None = None
    warehouse_id: int | None = None
    late: bool | None = None  # not delivered by (or still open past) the promised date
    after_id: int | None = None
    limit: int = 50


@dataclass(frozen=True)
class LateOrderFilter:
    after: tuple[datetime, int] | None = None  # (ship_by, order id) of the last row seen
    limit: int = 50

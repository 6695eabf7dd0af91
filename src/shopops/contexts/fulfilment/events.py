"""Fulfilment events. Orders emit their own (``order.shipped``, ``order.delivered``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shopops.kernel.events import Event


@dataclass(frozen=True)
class ShipmentCreated(Event):
    event_type = "shipment.created"
    aggregate = "shipment"
    id_field = "shipment_id"

    shipment_id: int
    order_id: int
    order_number: str
    warehouse_id: int
    carrier: str
    tracking_number: str
    lines: list[dict[str, object]]


@dataclass(frozen=True)
class ShipmentDelivered(Event):
    event_type = "shipment.delivered"
    aggregate = "shipment"
    id_field = "shipment_id"

    shipment_id: int
    order_id: int
    order_number: str
    carrier: str
    tracking_number: str
    delivered_at: datetime


@dataclass(frozen=True)
class ShipmentException(Event):
    """The carrier reports a problem (failed delivery, damage, customs hold)."""

    event_type = "shipment.exception"
    aggregate = "shipment"
    id_field = "shipment_id"

    shipment_id: int
    order_id: int
    order_number: str
    carrier: str
    tracking_number: str
    location: str | None
    description: str
    occurred_at: datetime

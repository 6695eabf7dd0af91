"""Fulfilment: shipments per warehouse, carrier labels and tracking, delivery, late orders."""

from shopops.contexts.fulfilment.commands import (
    LateOrderFilter,
    RecordTrackingEvent,
    ShipLine,
    ShipmentFilter,
    ShipOrder,
)
from shopops.contexts.fulfilment.errors import TRACKING_SOURCES, FulfilmentError
from shopops.contexts.fulfilment.events import (
    ShipmentCreated,
    ShipmentDelivered,
    ShipmentException,
)
from shopops.contexts.fulfilment.jobs import complete_delivered, poll_tracking
from shopops.contexts.fulfilment.models import Shipment, ShipmentLine, TrackingEvent
from shopops.contexts.fulfilment.rules import ShipmentStatus
from shopops.contexts.fulfilment.service import (
    ShipmentPlan,
    create_shipment,
    get_shipment,
    late_orders,
    list_shipments,
    plan_shipment,
)
from shopops.contexts.fulfilment.tracking import record_tracking_event
from shopops.contexts.fulfilment.views import (
    LateOrderPage,
    LateOrderView,
    ShipmentLineView,
    ShipmentPage,
    ShipmentView,
    TrackingEventView,
    TrackingResult,
)
from shopops.contexts.fulfilment.workflows import ship

__all__ = [
    "TRACKING_SOURCES",
    "FulfilmentError",
    "LateOrderFilter",
    "LateOrderPage",
    "LateOrderView",
    "RecordTrackingEvent",
    "ShipLine",
    "ShipOrder",
    "Shipment",
    "ShipmentCreated",
    "ShipmentDelivered",
    "ShipmentException",
    "ShipmentFilter",
    "ShipmentLine",
    "ShipmentLineView",
    "ShipmentPage",
    "ShipmentPlan",
    "ShipmentStatus",
    "ShipmentView",
    "TrackingEvent",
    "TrackingEventView",
    "TrackingResult",
    "complete_delivered",
    "create_shipment",
    "get_shipment",
    "late_orders",
    "list_shipments",
    "plan_shipment",
    "poll_tracking",
    "record_tracking_event",
    "ship",
]

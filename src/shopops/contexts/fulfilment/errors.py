from __future__ import annotations

from enum import StrEnum


class FulfilmentError(StrEnum):
    SHIPMENT_NOT_FOUND = "fulfilment.shipment_not_found"
    ORDER_NOT_SHIPPABLE = "fulfilment.order_not_shippable"
    ORDER_ON_HOLD = "fulfilment.order_on_hold"
    NOTHING_TO_SHIP = "fulfilment.nothing_to_ship"
    EXCEEDS_RESERVED = "fulfilment.exceeds_reserved"
    SKU_NOT_IN_ORDER = "fulfilment.sku_not_in_order"
    INVALID_QUANTITY = "fulfilment.invalid_quantity"
    UNKNOWN_WAREHOUSE = "fulfilment.unknown_warehouse"
    INVALID_CARRIER = "fulfilment.invalid_carrier"
    INVALID_TRACKING_NUMBER = "fulfilment.invalid_tracking_number"
    TRACKING_NUMBER_TAKEN = "fulfilment.tracking_number_taken"
    INVALID_STATUS = "fulfilment.invalid_status"
    INVALID_EVENT_TIME = "fulfilment.invalid_event_time"
    INVALID_TEXT = "fulfilment.invalid_text"


TRACKING_SOURCES = ("manual", "carrier", "poll")
MAX_LINE_QUANTITY = 1_000_000

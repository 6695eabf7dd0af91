from __future__ import annotations

from enum import StrEnum


class OrderError(StrEnum):
    NOT_FOUND = "orders.not_found"
    INVALID_TRANSITION = "orders.invalid_transition"
    UNKNOWN_SKU = "orders.unknown_sku"
    SKU_NOT_FOR_SALE = "orders.sku_not_for_sale"
    MIXED_CURRENCIES = "orders.mixed_currencies"
    INVALID_ADDRESS = "orders.invalid_address"
    INVALID_QUANTITY = "orders.invalid_quantity"
    CUSTOMER_REQUIRED = "orders.customer_or_guest_required"
    UNKNOWN_CUSTOMER = "orders.unknown_customer"
    UNKNOWN_CHANNEL = "orders.unknown_channel"
    ALREADY_SHIPPED = "orders.already_shipped"
    OVERSHIPPED = "orders.overshipped"


CHANNELS = ("web", "app", "mini_program", "marketplace", "store", "social", "phone")

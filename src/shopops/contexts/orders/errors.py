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
    POINTS_NEED_CUSTOMER = "orders.points_need_customer"
    INVALID_OFFER = "orders.invalid_offer"
    BALANCE_NOT_DUE = "orders.balance_not_due"
    BALANCE_OVERDUE = "orders.balance_overdue"
    NOT_ON_HOLD = "orders.not_on_hold"


CHANNELS = ("web", "app", "mini_program", "marketplace", "store", "social", "phone")

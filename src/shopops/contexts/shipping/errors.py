"""Stable error codes of the shipping context."""

from __future__ import annotations

from enum import StrEnum


class ShippingError(StrEnum):
    METHOD_NOT_FOUND = "shipping.method_not_found"
    RATE_NOT_FOUND = "shipping.rate_not_found"
    # placing an order or quoting a fee
    UNKNOWN_METHOD = "shipping.unknown_method"  # unknown or inactive; the message lists the allowed
    NO_RATE = "shipping.no_rate_for_destination"
    INVALID_SUBTOTAL = "shipping.invalid_subtotal"
    # field error codes of methods and rates
    INVALID_CODE = "shipping.invalid_code"
    DUPLICATE_CODE = "shipping.duplicate_code"
    INVALID_NAME = "shipping.invalid_name"
    INVALID_SORT_ORDER = "shipping.invalid_sort_order"
    INVALID_COUNTRY = "shipping.invalid_country"
    INVALID_REGION = "shipping.invalid_region"
    INVALID_FEE = "shipping.invalid_fee"
    INVALID_FREE_OVER = "shipping.invalid_free_over"
    DUPLICATE_RATE = "shipping.duplicate_rate"

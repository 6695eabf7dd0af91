"""Stable error codes of the presales context."""

from __future__ import annotations

from enum import StrEnum


class PresaleError(StrEnum):
    NOT_FOUND = "presales.not_found"
    NOT_RUNNING = "presales.not_running"  # outside the deposit window, or ended
    # field error codes
    INVALID_NAME = "presales.invalid_name"
    UNKNOWN_SKU = "presales.unknown_sku"
    INVALID_PRICE = "presales.invalid_price"
    INVALID_DEPOSIT = "presales.invalid_deposit"
    DEPOSIT_NOT_BELOW_PRICE = "presales.deposit_not_below_price"
    WORTH_BELOW_DEPOSIT = "presales.worth_below_deposit"
    WORTH_NOT_BELOW_PRICE = "presales.worth_not_below_price"
    INVALID_WINDOW = "presales.invalid_window"
    INVALID_QUANTITY = "presales.invalid_quantity"


MAX_ORDER_QUANTITY = 100

"""Stable error codes of the returns context."""

from __future__ import annotations

from enum import StrEnum


class ReturnError(StrEnum):
    NOT_FOUND = "returns.not_found"
    INVALID_TRANSITION = "returns.invalid_transition"
    UNKNOWN_ORDER_LINE = "returns.unknown_order_line"
    QUANTITY_EXCEEDS_RETURNABLE = "returns.quantity_exceeds_returnable"
    INVALID_QUANTITY = "returns.invalid_quantity"
    INVALID_REASON = "returns.invalid_reason"
    INVALID_DISPOSITION = "returns.invalid_disposition"
    WAREHOUSE_REQUIRED = "returns.warehouse_required"
    REFUND_IN_PROGRESS = "returns.refund_in_progress"

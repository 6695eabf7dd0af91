"""Stable error codes of the group-buying context."""

from __future__ import annotations

from enum import StrEnum


class GroupBuyError(StrEnum):
    NOT_FOUND = "group_buys.not_found"
    GROUP_NOT_FOUND = "group_buys.group_not_found"
    OFFER_NOT_RUNNING = "group_buys.offer_not_running"
    MAX_GROUPS_REACHED = "group_buys.max_groups_reached"
    GROUP_FULL = "group_buys.group_full"
    GROUP_CLOSED = "group_buys.group_closed"
    ALREADY_MEMBER = "group_buys.already_member"
    # field error codes
    CUSTOMER_REQUIRED = "group_buys.customer_required"
    INVALID_QUANTITY = "group_buys.invalid_quantity"
    INVALID_NAME = "group_buys.invalid_name"
    UNKNOWN_SKU = "group_buys.unknown_sku"
    INVALID_PRICE = "group_buys.invalid_price"
    INVALID_SIZE = "group_buys.invalid_size"
    INVALID_DURATION = "group_buys.invalid_duration"
    INVALID_WINDOW = "group_buys.invalid_window"
    INVALID_LIMIT = "group_buys.invalid_limit"


MIN_GROUP_SIZE = 2
MAX_GROUP_SIZE = 1000
MAX_DURATION_MINUTES = 30 * 24 * 60  # a group stays open at most 30 days
MAX_MEMBER_QUANTITY = 100

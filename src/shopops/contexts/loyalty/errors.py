"""Stable error codes of the loyalty context."""

from __future__ import annotations

from enum import StrEnum


class LoyaltyError(StrEnum):
    INSUFFICIENT_POINTS = "loyalty.insufficient_points"
    REDEMPTION_CAP_EXCEEDED = "loyalty.redemption_cap_exceeded"
    CURRENCY_MISMATCH = "loyalty.currency_mismatch"
    ORDER_NOT_FOUND = "loyalty.order_not_found"
    CUSTOMER_NOT_FOUND = "loyalty.customer_not_found"
    CAMPAIGN_NOT_FOUND = "loyalty.campaign_not_found"
    # field error codes
    INVALID_POINTS = "loyalty.invalid_points"
    INVALID_AMOUNT = "loyalty.invalid_amount"
    INVALID_SETTING = "loyalty.invalid_setting"
    INVALID_TIER = "loyalty.invalid_tier"
    DUPLICATE_TIER = "loyalty.duplicate_tier"
    TIERS_OUT_OF_ORDER = "loyalty.tiers_out_of_order"
    INVALID_CAMPAIGN = "loyalty.invalid_campaign"
    REASON_REQUIRED = "loyalty.reason_required"


MAX_POINTS = 1_000_000_000  # one operation never moves more points than this

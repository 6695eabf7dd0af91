"""Stable reason codes of the pricing explanation: why each promotion did or did not apply."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    APPLIED = "applied"
    NOT_STARTED = "not_started"
    ENDED = "ended"
    OUTSIDE_RECURRING_WINDOW = "outside_recurring_window"
    CHANNEL_NOT_ELIGIBLE = "channel_not_eligible"
    CURRENCY_MISMATCH = "currency_mismatch"
    CUSTOMER_REQUIRED = "customer_required"
    TIER_NOT_ELIGIBLE = "tier_not_eligible"
    SEGMENT_NOT_ELIGIBLE = "segment_not_eligible"
    NOT_FIRST_ORDER = "not_first_order"
    COUPON_REQUIRED = "coupon_required"
    NO_ELIGIBLE_LINES = "no_eligible_lines"
    EXCLUDED_PRODUCT = "excluded_product"
    MIN_SPEND_NOT_MET = "min_spend_not_met"
    MIN_QUANTITY_NOT_MET = "min_quantity_not_met"
    USAGE_LIMIT_REACHED = "usage_limit_reached"
    CUSTOMER_LIMIT_REACHED = "customer_limit_reached"
    BUDGET_EXHAUSTED = "budget_exhausted"
    QUOTA_EXHAUSTED = "quota_exhausted"
    SHIPPING_METHOD_NOT_ELIGIBLE = "shipping_method_not_eligible"
    NO_DISCOUNT = "no_discount"
    NOT_COMBINABLE = "not_combinable_with"  # written as "not_combinable_with:<id>"


def not_combinable_with(promotion_id: int) -> str:
    return f"{Reason.NOT_COMBINABLE}:{promotion_id}"

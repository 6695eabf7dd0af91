"""Stable error codes of promotions, coupons and pricing. Clients may rely on these strings."""

from __future__ import annotations

from enum import StrEnum


class PromotionError(StrEnum):
    NOT_FOUND = "promotions.not_found"
    INVALID_DEFINITION = "promotions.invalid_definition"
    UNKNOWN_FIELD = "promotions.unknown_field"
    INVALID_NAME = "promotions.invalid_name"
    UNKNOWN_KIND = "promotions.unknown_kind"
    INVALID_PARAMS = "promotions.invalid_params"
    INVALID_PERCENTAGE = "promotions.invalid_percentage"
    INVALID_AMOUNT = "promotions.invalid_amount"
    CURRENCY_REQUIRED = "promotions.currency_required"
    INVALID_CURRENCY = "promotions.invalid_currency"
    TIERS_OUT_OF_ORDER = "promotions.tiers_out_of_order"
    INVALID_SCOPE = "promotions.invalid_scope"
    INVALID_SCHEDULE = "promotions.invalid_schedule"
    OVERLAPPING_SCHEDULE = "promotions.overlapping_schedule"
    INVALID_CONDITIONS = "promotions.invalid_conditions"
    INVALID_STACKING = "promotions.invalid_stacking"
    INVALID_LIMITS = "promotions.invalid_limits"
    UNKNOWN_GIFT_SKU = "promotions.unknown_gift_sku"
    INVALID_STATUS = "promotions.invalid_status"
    KIND_CHANGE = "promotions.kind_cannot_change"
    USAGE_LIMIT_REACHED = "promotions.usage_limit_reached"
    BUDGET_EXHAUSTED = "promotions.budget_exhausted"
    CUSTOMER_LIMIT_REACHED = "promotions.customer_limit_reached"
    QUOTA_EXHAUSTED = "promotions.quota_exhausted"
    ALREADY_REDEEMED = "promotions.already_redeemed"


class CouponError(StrEnum):
    NOT_FOUND = "coupons.not_found"
    EXPIRED = "coupons.expired"
    NOT_STARTED = "coupons.not_started"
    INACTIVE = "coupons.inactive"
    LIMIT_REACHED = "coupons.limit_reached"
    CUSTOMER_LIMIT_REACHED = "coupons.customer_limit_reached"
    CUSTOMER_REQUIRED = "coupons.customer_required"
    NOT_ELIGIBLE = "coupons.not_eligible"
    NOT_APPLICABLE = "coupons.not_applicable"
    CODE_TAKEN = "coupons.code_taken"
    INVALID_CODE = "coupons.invalid_code"
    INVALID_BATCH = "coupons.invalid_batch"
    INVALID_LIMITS = "coupons.invalid_limits"
    INVALID_RESTRICTIONS = "coupons.invalid_restrictions"
    INVALID_VALIDITY = "coupons.invalid_validity"
    DUPLICATE_CODE = "coupons.duplicate_code"
    PROMOTION_NOT_FOUND = "coupons.promotion_not_found"


class PricingError(StrEnum):
    EMPTY_CART = "pricing.empty_cart"
    INVALID_QUANTITY = "pricing.invalid_quantity"
    UNKNOWN_SKU = "pricing.unknown_sku"
    MIXED_CURRENCIES = "pricing.mixed_currencies"
    CURRENCY_MISMATCH = "pricing.currency_mismatch"
    UNKNOWN_CUSTOMER = "pricing.unknown_customer"
    INVALID_POINTS = "pricing.invalid_points"
    INVALID_SHIPPING = "pricing.invalid_shipping"
    INVALID_TAX_RATE = "pricing.invalid_tax_rate"
    INVALID_FLOOR = "pricing.invalid_floor"

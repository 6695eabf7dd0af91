"""Commands of the promotions context: frozen dataclasses, imperative names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class CreatePromotion:
    definition: Mapping[str, Any]  # see validation.parse_definition; created as a draft


@dataclass(frozen=True)
class UpdatePromotion:
    """Top-level fields replace; sections (params, scope, ...) merge key by key."""

    promotion_id: int
    changes: Mapping[str, Any]


@dataclass(frozen=True)
class ListPromotions:
    status: str | None = None
    kind: str | None = None
    after_id: int | None = None
    limit: int = 50


@dataclass(frozen=True)
class CouponTerms:
    """What every code of a coupon (or of a batch) allows."""

    max_uses: int | None = 1  # None: unlimited
    per_customer_limit: int | None = None
    min_spend: str | None = None  # decimal string in the promotion's currency
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    customer_ids: tuple[int, ...] = ()
    tiers: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()


@dataclass(frozen=True)
class CreateCoupon:
    """One public code, e.g. SPRING10 (``terms.max_uses`` None for unlimited)."""

    promotion_id: int
    code: str
    terms: CouponTerms = field(default_factory=CouponTerms)


@dataclass(frozen=True)
class GenerateCoupons:
    """A batch of unique crypto-random codes (``count`` of them), each single-use by default."""

    promotion_id: int
    count: int
    name: str = ""
    prefix: str = ""
    length: int = 10
    terms: CouponTerms = field(default_factory=CouponTerms)


@dataclass(frozen=True)
class ListCoupons:
    promotion_id: int | None = None
    batch_id: int | None = None
    after_id: int | None = None
    limit: int = 100


@dataclass(frozen=True)
class PricingLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class MemberDiscount:
    """A loyalty tier's percentage off, as the caller read it from the tier ladder.

    Pricing gives it to the cart's customer when their tier (``customers.tier``) is
    ``tier``: a promotion of its own (``pricing.MEMBER_DISCOUNT_ID``, stacking group
    ``member_tier``), taken off the items after every other item and order promotion.
    ``rate_bp`` is the percentage in basis points (300 = 3 %).
    """

    tier: str
    name: str  # the tier's name, e.g. "Gold"
    rate_bp: int

    def __post_init__(self) -> None:
        if not 0 <= self.rate_bp <= 10_000:
            raise ValueError(f"a member discount is 0 to 100 %, not {self.rate_bp} bp")


@dataclass(frozen=True)
class PricingRequest:
    """A cart to price: from the quote simulator, or from order placement.

    ``floor`` is "cost" (no line below its cost) or "zero". Points are worth
    ``point_value_minor`` per ``points_per_value`` points (loyalty decides).
    ``first_order`` is the caller's knowledge (orders know a customer's history).
    ``member_discounts`` are the loyalty tiers' discounts (any number of tiers, or only
    the customer's): the one of the customer's tier applies, if any.
    Amounts are minor units of the cart's currency (the SKUs' currency).
    """

    lines: tuple[PricingLine, ...]
    customer_id: int | None = None
    channel: str = "web"
    coupon_codes: tuple[str, ...] = ()
    shipping_method: str = "standard"
    shipping_fee_minor: int = 0
    points: int = 0
    point_value_minor: int = 1
    points_per_value: int = 100
    first_order: bool = False
    tax_rate_bp: int = 0
    floor: str = "cost"
    at: datetime | None = None
    currency: str | None = None  # when given, the SKUs must be priced in it
    member_discounts: tuple[MemberDiscount, ...] = ()

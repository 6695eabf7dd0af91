"""What the pricing engine prices: a cart of lines for a customer on a channel at a time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class CartLine:
    sku: str
    quantity: int
    unit_price_minor: int  # list price, tax included
    product_id: int = 0
    category_ids: frozenset[int] = frozenset()  # the product's category and its ancestors
    brand_id: int | None = None
    floor_unit_minor: int = 0  # no discount takes a unit below this (e.g. its cost)

    @property
    def subtotal_minor(self) -> int:
        return self.unit_price_minor * self.quantity

    @property
    def floor_minor(self) -> int:
        return min(self.floor_unit_minor * self.quantity, self.subtotal_minor)


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    id: int | None = None  # None: a guest
    tier: str | None = None
    segments: frozenset[str] = frozenset()  # the customer's tags
    first_order: bool = False


@dataclass(frozen=True, slots=True)
class CouponGrant:
    """A valid coupon code in the cart: it unlocks its promotion."""

    code: str
    promotion_id: int
    min_spend_minor: int | None = None


@dataclass(frozen=True, slots=True)
class Shipping:
    method: str = "standard"
    fee_minor: int = 0


@dataclass(frozen=True, slots=True)
class PointsOffer:
    """Loyalty points the customer wants to spend: ``per`` points are worth ``value_minor``."""

    points: int
    value_minor: int = 1
    per: int = 100


@dataclass(frozen=True, slots=True)
class Cart:
    currency: str
    lines: tuple[CartLine, ...]
    at: datetime
    channel: str = "web"
    customer: CustomerFacts = field(default_factory=CustomerFacts)
    coupons: tuple[CouponGrant, ...] = ()
    shipping: Shipping = field(default_factory=Shipping)
    points: PointsOffer | None = None
    tax_rate_bp: int = 0  # the rate included in prices, in basis points (1300 = 13 %)

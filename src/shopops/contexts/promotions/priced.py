"""What the pricing engine returns: every amount per line, and why each promotion
applied or not. ``as_dict`` is the JSON stored on the order (``orders.pricing``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class LinePart:
    """One promotion's amount off one line."""

    promotion_id: int
    amount_minor: int


@dataclass(frozen=True, slots=True)
class PricedLine:
    sku: str
    quantity: int
    unit_price_minor: int
    subtotal_minor: int  # list price x quantity
    item_discounts: tuple[LinePart, ...]  # price-, item- and gift-level promotions
    order_discounts: tuple[LinePart, ...]  # this line's share of order-level promotions
    points_minor: int  # this line's share of the points redeemed
    total_minor: int  # what the customer pays for the line (refunds start here)
    tax_minor: int  # tax included in total_minor
    floor_minor: int
    gift_of: int | None = None  # the gift promotion that added this line

    @property
    def discount_minor(self) -> int:
        return sum(p.amount_minor for p in self.item_discounts) + sum(
            p.amount_minor for p in self.order_discounts
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "quantity": self.quantity,
            "unit_price_minor": self.unit_price_minor,
            "subtotal_minor": self.subtotal_minor,
            "discounts": [
                {"promotion_id": p.promotion_id, "amount_minor": p.amount_minor, "level": level}
                for level, parts in (("item", self.item_discounts), ("order", self.order_discounts))
                for p in parts
            ],
            "discount_minor": self.discount_minor,
            "points_minor": self.points_minor,
            "total_minor": self.total_minor,
            "tax_minor": self.tax_minor,
            "gift_of": self.gift_of,
        }


@dataclass(frozen=True, slots=True)
class AppliedPromotion:
    promotion_id: int
    name: str
    kind: str
    level: str
    discount_minor: int
    coupon_code: str | None = None
    units: int = 0  # flash-sale units or gift units taken from the quota


@dataclass(frozen=True, slots=True)
class Consideration:
    """One line of the explanation: a promotion and why it did or did not apply."""

    promotion_id: int
    name: str
    kind: str
    applied: bool
    reason: str  # a stable code (``Reason``), or ``not_combinable_with:<id>``
    discount_minor: int
    message: str


@dataclass(frozen=True, slots=True)
class CouponOutcome:
    code: str
    promotion_id: int
    applied: bool
    reason: str


@dataclass(frozen=True)
class PricedCart:
    currency: str
    lines: tuple[PricedLine, ...]
    subtotal_minor: int
    item_discount_minor: int
    order_discount_minor: int
    shipping_minor: int
    shipping_discount_minor: int
    points_redeemed: int
    points_minor: int
    total_minor: int
    tax_minor: int
    applied: tuple[AppliedPromotion, ...]
    explanation: tuple[Consideration, ...]
    coupons: tuple[CouponOutcome, ...]

    @property
    def discount_minor(self) -> int:
        """Every promotion's amount: items, gifts, order-level and shipping (not points)."""
        return self.item_discount_minor + self.order_discount_minor + self.shipping_discount_minor

    def as_dict(self, *, explanation: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "currency": self.currency,
            "lines": [line.as_dict() for line in self.lines],
            "order_discounts": [
                {"promotion_id": a.promotion_id, "amount_minor": a.discount_minor}
                for a in self.applied
                if a.level == "order"
            ],
            "subtotal_minor": self.subtotal_minor,
            "item_discount_minor": self.item_discount_minor,
            "order_discount_minor": self.order_discount_minor,
            "discount_minor": self.discount_minor,
            "shipping_minor": self.shipping_minor,
            "shipping_discount_minor": self.shipping_discount_minor,
            "points_redeemed": self.points_redeemed,
            "points_minor": self.points_minor,
            "tax_minor": self.tax_minor,
            "total_minor": self.total_minor,
            "applied": [
                {
                    "promotion_id": a.promotion_id,
                    "name": a.name,
                    "kind": a.kind,
                    "level": a.level,
                    "discount_minor": a.discount_minor,
                    "coupon_code": a.coupon_code,
                    "units": a.units,
                }
                for a in self.applied
            ],
            "coupons": [
                {
                    "code": c.code,
                    "promotion_id": c.promotion_id,
                    "applied": c.applied,
                    "reason": c.reason,
                }
                for c in self.coupons
            ],
        }
        if explanation:
            data["explanation"] = [
                {
                    "promotion_id": c.promotion_id,
                    "name": c.name,
                    "kind": c.kind,
                    "applied": c.applied,
                    "reason": c.reason,
                    "discount_minor": c.discount_minor,
                    "message": c.message,
                }
                for c in self.explanation
            ]
        return data

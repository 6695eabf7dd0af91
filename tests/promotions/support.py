"""Building blocks for pricing-engine tests: rules from definitions, lines, carts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shopops.contexts import promotions
from shopops.contexts.promotions import (
    Cart,
    CartLine,
    CouponGrant,
    CustomerFacts,
    PointsOffer,
    PricedCart,
    PromotionRule,
    Shipping,
)

AT = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday


def rule(promotion_id: int, kind: str, params: dict[str, Any], **sections: Any) -> PromotionRule:
    definition = {"name": f"P{promotion_id}", "kind": kind, "params": params, **sections}
    return promotions.parse_definition(definition, promotion_id)


def line(
    sku: str,
    quantity: int,
    price: int,
    *,
    product: int = 0,
    categories: tuple[int, ...] = (),
    brand: int | None = None,
    floor: int = 0,
) -> CartLine:
    return CartLine(sku, quantity, price, product, frozenset(categories), brand, floor)


def cart(
    *lines: CartLine,
    currency: str = "CNY",
    at: datetime = AT,
    channel: str = "web",
    customer: CustomerFacts | None = None,
    coupons: tuple[CouponGrant, ...] = (),
    shipping: Shipping | None = None,
    points: PointsOffer | None = None,
    tax_rate_bp: int = 0,
) -> Cart:
    return Cart(
        currency=currency,
        lines=lines,
        at=at,
        channel=channel,
        customer=customer or CustomerFacts(),
        coupons=coupons,
        shipping=shipping or Shipping("standard", 0),
        points=points,
        tax_rate_bp=tax_rate_bp,
    )


def reasons(priced: PricedCart) -> dict[int, str]:
    return {c.promotion_id: c.reason for c in priced.explanation}


def applied(priced: PricedCart) -> dict[int, int]:
    return {a.promotion_id: a.discount_minor for a in priced.applied}


def totals(priced: PricedCart) -> list[int]:
    return [line.total_minor for line in priced.lines]

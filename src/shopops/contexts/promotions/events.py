"""Promotion and coupon events, named in past tense."""

from __future__ import annotations

from dataclasses import dataclass

from shopops.kernel.events import Event


@dataclass(frozen=True)
class PromotionCreated(Event):
    event_type = "promotion.created"
    aggregate = "promotion"
    id_field = "promotion_id"

    promotion_id: int
    name: str
    kind: str


@dataclass(frozen=True)
class PromotionUpdated(Event):
    event_type = "promotion.updated"
    aggregate = "promotion"
    id_field = "promotion_id"

    promotion_id: int
    changed: tuple[str, ...]
    revision: int


@dataclass(frozen=True)
class PromotionActivated(Event):
    event_type = "promotion.activated"
    aggregate = "promotion"
    id_field = "promotion_id"

    promotion_id: int


@dataclass(frozen=True)
class PromotionDeactivated(Event):
    event_type = "promotion.deactivated"
    aggregate = "promotion"
    id_field = "promotion_id"

    promotion_id: int


@dataclass(frozen=True)
class CouponCreated(Event):
    event_type = "coupon.created"
    aggregate = "coupon"
    id_field = "coupon_id"

    coupon_id: int
    promotion_id: int
    code: str


@dataclass(frozen=True)
class CouponBatchGenerated(Event):
    event_type = "coupon.batch_generated"
    aggregate = "coupon_batch"
    id_field = "batch_id"

    batch_id: int
    promotion_id: int
    size: int


@dataclass(frozen=True)
class PromotionsRedeemed(Event):
    """An order used promotions and coupons; counters and ledgers were written."""

    event_type = "promotions.redeemed"
    aggregate = "order"
    id_field = "order_number"

    order_number: str
    customer_id: int | None
    promotion_ids: list[int]
    coupon_codes: list[str]
    discount_minor: int
    currency: str


@dataclass(frozen=True)
class PromotionsReleased(Event):
    """An order was cancelled or fully refunded; its uses were given back."""

    event_type = "promotions.released"
    aggregate = "order"
    id_field = "order_number"

    order_number: str
    promotion_ids: list[int]
    coupon_codes: list[str]

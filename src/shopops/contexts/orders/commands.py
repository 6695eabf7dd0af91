from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class OrderLineRequest:
    sku: str
    quantity: int


@dataclass(frozen=True)
class ShippingAddress:
    recipient: str
    line1: str
    city: str
    country: str
    line2: str | None = None
    region: str | None = None
    postal_code: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class GuestContact:
    email: str
    name: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class PlaceOrder:
    lines: tuple[OrderLineRequest, ...]
    shipping_address: ShippingAddress
    channel: str
    customer_id: int | None = None
    guest: GuestContact | None = None
    allow_split: bool = True
    tags: tuple[str, ...] = ()
    note: str | None = None
    coupon_codes: tuple[str, ...] = ()
    # A code of the store's shipping methods (None: the first active one); with no
    # methods set up, what shipping promotions see (None: "standard") at no fee.
    shipping_method: str | None = None
    points_to_redeem: int = 0  # loyalty points to spend on the order (a customer's own)


@dataclass(frozen=True)
class OfferTerms:
    """How an order placed through an offer (a group buy, a presale) is priced and paid.

    Set by the context that owns the offer, never from a request body: the single SKU
    is sold at ``unit_price_minor`` less ``unit_discount_minor`` per unit, with no
    promotions, coupons or points. With ``deposit_minor`` the order is paid in two
    steps: the deposit first (by ``payment_due_at``), then the rest between
    ``balance_from`` and ``balance_due_at``; a balance not paid by then forfeits the
    deposit. ``hold`` keeps the order from shipping until the owner releases it.
    """

    reference: str  # e.g. "group:12", "presale:3"
    sku: str
    unit_price_minor: int
    unit_discount_minor: int = 0
    deposit_minor: int | None = None  # per order (all units)
    balance_from: datetime | None = None
    balance_due_at: datetime | None = None
    payment_due_at: datetime | None = None  # sooner than the usual payment window
    hold: str | None = None


@dataclass(frozen=True)
class ChangeOrderStatus:
    order_id: int
    target: str
    reason: str | None = None
    data: dict[str, object] = field(default_factory=dict)

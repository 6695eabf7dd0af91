from __future__ import annotations

from dataclasses import dataclass, field


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
    shipping_method: str | None = None  # None: the promotions default ("standard")


@dataclass(frozen=True)
class ChangeOrderStatus:
    order_id: int
    target: str
    reason: str | None = None
    data: dict[str, object] = field(default_factory=dict)

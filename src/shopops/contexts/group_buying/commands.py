"""Commands of the group-buying context."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shopops.contexts.orders import ShippingAddress


@dataclass(frozen=True)
class CreateGroupBuyOffer:
    """``group_price`` is a decimal string in the SKU's currency, e.g. "59.90"."""

    name: str
    sku: str
    group_price: str
    group_size: int
    duration_minutes: int
    starts_at: datetime
    ends_at: datetime
    max_groups: int | None = None
    max_quantity: int = 1


@dataclass(frozen=True)
class JoinGroupBuy:
    """Place an order at the group price: in ``group_id``, or in a new group when None."""

    offer_id: int
    customer_id: int | None
    shipping_address: ShippingAddress
    group_id: int | None = None
    quantity: int = 1
    channel: str = "web"
    note: str | None = None

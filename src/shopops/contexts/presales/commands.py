"""Commands of the presales context."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shopops.contexts.orders import GuestContact, ShippingAddress


@dataclass(frozen=True)
class CreatePresale:
    """Amounts are decimal strings per unit in the SKU's currency."""

    name: str
    sku: str
    price: str
    deposit: str
    deposit_worth: str
    deposit_starts_at: datetime
    deposit_ends_at: datetime
    balance_starts_at: datetime
    balance_ends_at: datetime
    max_quantity: int = 1


@dataclass(frozen=True)
class PlacePresaleOrder:
    offer_id: int
    shipping_address: ShippingAddress
    customer_id: int | None = None
    guest: GuestContact | None = None
    quantity: int = 1
    channel: str = "web"
    note: str | None = None

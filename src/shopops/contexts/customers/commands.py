"""Commands of the customers context.

In updates, ``None`` leaves a field unchanged and ``""`` removes an optional value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class AddressInput:
    recipient: str
    line1: str
    city: str
    country: str
    line2: str | None = None
    phone: str | None = None
    region: str | None = None
    postal_code: str | None = None
    label: str | None = None
    is_default: bool = False


@dataclass(frozen=True)
class RegisterCustomer:
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    source_channel: str = "web"
    region: str | None = None
    tags: tuple[str, ...] = ()
    marketing_email_consent: bool = False
    marketing_sms_consent: bool = False
    registered_at: datetime | None = None
    addresses: tuple[AddressInput, ...] = ()


@dataclass(frozen=True)
class UpdateCustomer:
    customer_id: int
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    region: str | None = None
    source_channel: str | None = None


@dataclass(frozen=True)
class AddAddress:
    customer_id: int
    address: AddressInput


@dataclass(frozen=True)
class UpdateAddress:
    customer_id: int
    address_id: int
    recipient: str | None = None
    line1: str | None = None
    line2: str | None = None
    phone: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    label: str | None = None
    is_default: bool | None = None


@dataclass(frozen=True)
class RemoveAddress:
    customer_id: int
    address_id: int


@dataclass(frozen=True)
class SetConsent:
    customer_id: int
    marketing_email: bool | None = None
    marketing_sms: bool | None = None


@dataclass(frozen=True)
class TagCustomer:
    customer_id: int
    tags: tuple[str, ...]


@dataclass(frozen=True)
class UntagCustomer:
    customer_id: int
    tags: tuple[str, ...]


@dataclass(frozen=True)
class EraseCustomer:
    """Irreversible: ``confirm`` must be true."""

    customer_id: int
    confirm: bool = False


@dataclass(frozen=True)
class SearchCustomers:
    """Filters combine with AND. ``email``/``phone`` match exactly (after normalisation)."""

    email: str | None = None
    phone: str | None = None
    tag: str | None = None
    source_channel: str | None = None
    region: str | None = None
    registered_from: datetime | None = None  # inclusive
    registered_to: datetime | None = None  # exclusive
    include_erased: bool = False
    after_id: int | None = None
    limit: int = 50

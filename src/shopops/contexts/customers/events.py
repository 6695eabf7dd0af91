"""Events of the customers context. They carry ids and flags, never personal data:
handlers that need a contact detail read it through the context's public functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shopops.kernel.events import Event


@dataclass(frozen=True)
class CustomerRegistered(Event):
    event_type = "customer.registered"
    aggregate = "customer"
    id_field = "customer_id"

    customer_id: int
    source_channel: str
    region: str | None
    registered_at: datetime
    marketing_email_consent: bool
    marketing_sms_consent: bool


@dataclass(frozen=True)
class CustomerUpdated(Event):
    event_type = "customer.updated"
    aggregate = "customer"
    id_field = "customer_id"

    customer_id: int
    changed_fields: tuple[str, ...]


@dataclass(frozen=True)
class CustomerConsentChanged(Event):
    event_type = "customer.consent_changed"
    aggregate = "customer"
    id_field = "customer_id"

    customer_id: int
    marketing_email_consent: bool
    marketing_sms_consent: bool
    changed_at: datetime


@dataclass(frozen=True)
class CustomerTagsChanged(Event):
    event_type = "customer.tags_changed"
    aggregate = "customer"
    id_field = "customer_id"

    customer_id: int
    added: tuple[str, ...]
    removed: tuple[str, ...]


@dataclass(frozen=True)
class CustomerAddressChanged(Event):
    event_type = "customer.address_changed"
    aggregate = "customer"
    id_field = "customer_id"

    customer_id: int
    address_id: int
    change: str  # "added" | "updated" | "removed"


@dataclass(frozen=True)
class CustomerErased(Event):
    """Contexts holding copies of this customer's personal data must erase them too."""

    event_type = "customer.erased"
    aggregate = "customer"
    id_field = "customer_id"

    customer_id: int
    erased_at: datetime

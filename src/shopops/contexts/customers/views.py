"""Pure read side: decrypted records, the masking policy, audit snapshots, the export.

``customer_view(record, reveal=...)`` is the one place that decides what a
reader sees: API, CLI and export all go through it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shopops.contexts.customers.models import Customer, CustomerAddress
from shopops.kernel.pii import mask_email, mask_name, mask_phone, mask_text

EXPORT_FORMAT = "shopops.customer-export/1"
CONSENT_FIELDS = ("marketing_email_consent", "marketing_sms_consent")


@dataclass(frozen=True)
class AddressRecord:
    """An address with its personal fields decrypted."""

    id: int
    label: str | None
    recipient: str | None
    line1: str | None
    line2: str | None
    phone: str | None
    city: str
    region: str | None
    postal_code: str | None
    country: str
    is_default: bool


@dataclass(frozen=True)
class CustomerRecord:
    """A customer with its personal fields decrypted; ``addresses`` None when not loaded."""

    id: int
    email: str | None
    phone: str | None
    name: str | None
    tags: tuple[str, ...]
    marketing_email_consent: bool
    marketing_sms_consent: bool
    consent_updated_at: datetime | None
    source_channel: str
    region: str | None
    tier: str | None
    registered_at: datetime
    erased_at: datetime | None
    created_at: datetime
    updated_at: datetime
    addresses: tuple[AddressRecord, ...] | None = None


@dataclass(frozen=True)
class AddressView:
    id: int
    label: str | None
    recipient: str | None
    line1: str | None
    line2: str | None
    phone: str | None
    city: str
    region: str | None
    postal_code: str | None
    country: str
    is_default: bool


@dataclass(frozen=True)
class CustomerView:
    """What a reader may see: personal fields masked unless ``pii_masked`` is False."""

    id: int
    email: str | None
    phone: str | None
    name: str | None
    tags: tuple[str, ...]
    marketing_email_consent: bool
    marketing_sms_consent: bool
    consent_updated_at: datetime | None
    source_channel: str
    region: str | None
    tier: str | None
    registered_at: datetime
    erased_at: datetime | None
    created_at: datetime
    updated_at: datetime
    pii_masked: bool
    addresses: tuple[AddressView, ...] | None


def address_view(record: AddressRecord, *, reveal: bool) -> AddressView:
    return AddressView(
        id=record.id,
        label=record.label,
        recipient=record.recipient if reveal else mask_name(record.recipient),
        line1=record.line1 if reveal else mask_text(record.line1),
        line2=record.line2 if reveal else mask_text(record.line2),
        phone=record.phone if reveal else mask_phone(record.phone),
        city=record.city,
        region=record.region,
        postal_code=record.postal_code,
        country=record.country,
        is_default=record.is_default,
    )


def customer_view(record: CustomerRecord, *, reveal: bool) -> CustomerView:
    """The masking policy: ``reveal`` is whether the reader holds ``customers.pii.read``."""
    addresses = (
        None
        if record.addresses is None
        else tuple(address_view(a, reveal=reveal) for a in record.addresses)
    )
    return CustomerView(
        id=record.id,
        email=record.email if reveal else mask_email(record.email),
        phone=record.phone if reveal else mask_phone(record.phone),
        name=record.name if reveal else mask_name(record.name),
        tags=record.tags,
        marketing_email_consent=record.marketing_email_consent,
        marketing_sms_consent=record.marketing_sms_consent,
        consent_updated_at=record.consent_updated_at,
        source_channel=record.source_channel,
        region=record.region,
        tier=record.tier,
        registered_at=record.registered_at,
        erased_at=record.erased_at,
        created_at=record.created_at,
        updated_at=record.updated_at,
        pii_masked=not reveal,
        addresses=addresses,
    )


# ---- audit: personal fields appear only as presence markers, never as values ----


def pii_marker(present: bool, changed: bool = False) -> str | None:
    if not present:
        return None
    return "(changed)" if changed else "(set)"


def audit_snapshot(customer: Customer, changed: Collection[str] = ()) -> dict[str, Any]:
    presence = {
        "email": customer.email_hash is not None,
        "phone": customer.phone_hash is not None,
        "name": customer.name_encrypted is not None,
    }
    snapshot: dict[str, Any] = {
        field: pii_marker(present, field in changed) for field, present in presence.items()
    }
    snapshot.update(
        tags=list(customer.tags),
        source_channel=customer.source_channel,
        region=customer.region,
        tier=customer.tier,
        marketing_email_consent=customer.marketing_email_consent,
        marketing_sms_consent=customer.marketing_sms_consent,
        erased=customer.is_erased,
    )
    return snapshot


def address_audit_snapshot(
    address: CustomerAddress, changed: Collection[str] = ()
) -> dict[str, Any]:
    presence = {
        "recipient": address.recipient_encrypted is not None,
        "line1": address.line1_encrypted is not None,
        "line2": address.line2_encrypted is not None,
        "phone": address.phone_encrypted is not None,
    }
    snapshot: dict[str, Any] = {
        field: pii_marker(present, field in changed) for field, present in presence.items()
    }
    snapshot.update(
        label=address.label,
        city=address.city,
        region=address.region,
        postal_code=address.postal_code,
        country=address.country,
        is_default=address.is_default,
    )
    return snapshot


# ---- data-subject export ----


@dataclass(frozen=True)
class ConsentChange:
    at: datetime
    action: str
    marketing_email_consent: bool
    marketing_sms_consent: bool
    actor_kind: str


@dataclass(frozen=True)
class AuditFact:
    """The part of an audit entry the consent history needs."""

    occurred_at: datetime
    action: str
    actor_kind: str
    changes: Mapping[str, Any]


@dataclass(frozen=True)
class CustomerExport:
    format: str
    generated_at: datetime
    customer: CustomerView
    consent_history: tuple[ConsentChange, ...]


def consent_history(facts: Iterable[AuditFact]) -> tuple[ConsentChange, ...]:
    """Consent state after each audited change that touched it, oldest first."""
    state = dict.fromkeys(CONSENT_FIELDS, False)
    history: list[ConsentChange] = []
    for fact in sorted(facts, key=lambda f: f.occurred_at):
        touched = [name for name in CONSENT_FIELDS if name in fact.changes]
        if not touched:
            continue
        for name in touched:
            state[name] = bool(fact.changes[name].get("after"))
        history.append(
            ConsentChange(
                at=fact.occurred_at,
                action=fact.action,
                marketing_email_consent=state["marketing_email_consent"],
                marketing_sms_consent=state["marketing_sms_consent"],
                actor_kind=fact.actor_kind,
            )
        )
    return tuple(history)


def export_document(
    record: CustomerRecord, facts: Iterable[AuditFact], *, generated_at: datetime
) -> CustomerExport:
    """Everything this context holds about the customer, unmasked (it is their own data)."""
    return CustomerExport(
        format=EXPORT_FORMAT,
        generated_at=generated_at,
        customer=customer_view(record, reveal=True),
        consent_history=consent_history(facts),
    )

"""Use cases for customers. Nothing here commits.

Every mutation needs ``customers.write``, is audited and emits an event; the
audit trail and events carry presence markers ("(set)", "(changed)") instead
of personal values. Reads need ``customers.read`` and are masked unless the
actor also holds ``customers.pii.read``.

Personal fields are encrypted with ``uow.pii`` (AES-GCM, key from settings) and
decrypted only for what a view shows; e-mail and phone also get keyed lookup
hashes. Erasure wipes ciphertexts, hashes and addresses in place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from shopops.auth.permissions import Permission
from shopops.contexts.customers import repository, rules
from shopops.contexts.customers.commands import (
    AddAddress,
    EraseCustomer,
    RegisterCustomer,
    RemoveAddress,
    SearchCustomers,
    SetConsent,
    TagCustomer,
    UntagCustomer,
    UpdateAddress,
    UpdateCustomer,
)
from shopops.contexts.customers.errors import CustomerError
from shopops.contexts.customers.events import (
    CustomerAddressChanged,
    CustomerConsentChanged,
    CustomerErased,
    CustomerRegistered,
    CustomerTagsChanged,
    CustomerUpdated,
)
from shopops.contexts.customers.models import Customer, CustomerAddress
from shopops.contexts.customers.views import (
    AddressRecord,
    AddressView,
    AuditFact,
    CustomerExport,
    CustomerRecord,
    CustomerView,
    address_audit_snapshot,
    address_view,
    audit_snapshot,
    customer_view,
    export_document,
)
from shopops.kernel.errors import (
    Conflict,
    FieldError,
    FieldErrorCollector,
    NotFound,
    ValidationFailed,
)
from shopops.kernel.pii import PiiCipher
from shopops.uow import UnitOfWork

ENTITY = "customer"
MAX_PAGE = 500


# ---- decryption and views ----


def _address_record(cipher: PiiCipher, address: CustomerAddress) -> AddressRecord:
    return AddressRecord(
        id=address.id,
        label=address.label,
        recipient=cipher.decrypt(address.recipient_encrypted),
        line1=cipher.decrypt(address.line1_encrypted),
        line2=cipher.decrypt(address.line2_encrypted),
        phone=cipher.decrypt(address.phone_encrypted),
        city=address.city,
        region=address.region,
        postal_code=address.postal_code,
        country=address.country,
        is_default=address.is_default,
    )


def _record(
    uow: UnitOfWork, customer: Customer, addresses: Sequence[CustomerAddress] | None
) -> CustomerRecord:
    """Decrypts the profile, and the addresses only when they are to be shown."""
    email = phone = name = None
    address_records: tuple[AddressRecord, ...] | None = None if addresses is None else ()
    if not customer.is_erased:
        email = uow.pii.decrypt(customer.email_encrypted)
        phone = uow.pii.decrypt(customer.phone_encrypted)
        name = uow.pii.decrypt(customer.name_encrypted)
        if addresses is not None:
            address_records = tuple(_address_record(uow.pii, a) for a in addresses)
    return CustomerRecord(
        id=customer.id,
        email=email,
        phone=phone,
        name=name,
        tags=tuple(customer.tags),
        marketing_email_consent=customer.marketing_email_consent,
        marketing_sms_consent=customer.marketing_sms_consent,
        consent_updated_at=customer.consent_updated_at,
        source_channel=customer.source_channel,
        region=customer.region,
        tier=customer.tier,
        registered_at=customer.registered_at,
        erased_at=customer.erased_at,
        created_at=customer.created_at,
        updated_at=customer.updated_at,
        addresses=address_records,
    )


def _reveal(uow: UnitOfWork) -> bool:
    return uow.actor.can(Permission.CUSTOMERS_PII_READ)


def _view(
    uow: UnitOfWork, customer: Customer, addresses: Sequence[CustomerAddress] | None
) -> CustomerView:
    uow.session.flush()  # so ids and timestamps of pending changes are in the view
    return customer_view(_record(uow, customer, addresses), reveal=_reveal(uow))


# ---- loading and guards ----


def _load(uow: UnitOfWork, customer_id: int, *, for_update: bool = False) -> Customer:
    load = repository.get_for_update if for_update else repository.get
    customer = load(uow.session, customer_id)
    if customer is None:
        raise NotFound(CustomerError.NOT_FOUND, f"customer {customer_id} does not exist")
    return customer


def _load_active(uow: UnitOfWork, customer_id: int) -> Customer:
    customer = _load(uow, customer_id, for_update=True)
    if customer.is_erased:
        raise Conflict(CustomerError.ERASED, f"customer {customer_id} has been erased")
    return customer


def _email_taken() -> Conflict:
    return Conflict(CustomerError.EMAIL_TAKEN, "another customer has this e-mail address")


def _ensure_email_free(uow: UnitOfWork, email_hash: str | None, customer_id: int | None) -> None:
    """Call before the hash is set on a session object (autoflush would find it)."""
    if email_hash is None:
        return
    holder = repository.get_by_email_hash(uow.session, email_hash)
    if holder is not None and holder.id != customer_id:
        raise _email_taken()


def _flush_unique(uow: UnitOfWork) -> None:
    """The unique index settles races the check above cannot see."""
    try:
        uow.session.flush()
    except IntegrityError as exc:  # the unit of work rolls back on the way out
        raise _email_taken() from exc


# ---- reads ----


def get_customer(uow: UnitOfWork, customer_id: int) -> CustomerView:
    uow.require(Permission.CUSTOMERS_READ)
    customer = _load(uow, customer_id)
    return _view(uow, customer, repository.list_addresses(uow.session, customer.id))


@dataclass(frozen=True)
class CustomerPage:
    items: list[CustomerView]
    next_after_id: int | None


def _filters(uow: UnitOfWork, query: SearchCustomers) -> repository.CustomerFilter:
    clean = rules.clean_search(query)
    return repository.CustomerFilter(
        email_hash=uow.pii.lookup_hash(clean.email),
        phone_hash=uow.pii.lookup_hash(clean.phone),
        tag=clean.tag,
        source_channel=clean.source_channel,
        region=clean.region,
        registered_from=clean.registered_from,
        registered_to=clean.registered_to,
        include_erased=query.include_erased,
    )


def search_customers(uow: UnitOfWork, query: SearchCustomers) -> CustomerPage:
    uow.require(Permission.CUSTOMERS_READ)
    filters = _filters(uow, query)
    limit = max(1, min(query.limit, MAX_PAGE))
    rows = repository.search(uow.session, filters, after_id=query.after_id, limit=limit + 1)
    items = [_view(uow, c, None) for c in rows[:limit]]
    return CustomerPage(items, rows[limit - 1].id if len(rows) > limit else None)


NAME_SCAN_LIMIT = 5000  # profiles decrypted per name search at most
_NAME_SCAN_BATCH = 500


def search_by_name(
    uow: UnitOfWork, name: str, query: SearchCustomers, *, scan_limit: int = NAME_SCAN_LIMIT
) -> CustomerPage:
    """Customers (matching ``query``'s other filters) whose name matches ``name``.

    Names are encrypted with a random nonce, so this is a scan in id order that
    decrypts at most ``scan_limit`` profiles per call; ``next_after_id`` continues
    it (set when the page filled up or the scan stopped before the last customer).
    A reader holding ``customers.pii.read`` matches any part of the name; others
    only the whole name (ignoring case and spacing): like the exact e-mail and
    phone lookups, it confirms a name they know but cannot reveal one bit by bit.
    """
    uow.require(Permission.CUSTOMERS_READ)
    wanted = rules.normalize_text(name).casefold()
    if not wanted:
        return search_customers(uow, query)
    filters = _filters(uow, query)
    limit = max(1, min(query.limit, MAX_PAGE))
    reveal = _reveal(uow)
    matched: list[Customer] = []
    after, scanned = query.after_id, 0
    while True:
        size = min(_NAME_SCAN_BATCH, max(scan_limit - scanned, 1))
        batch = repository.search(uow.session, filters, after_id=after, limit=size)
        for customer in batch:
            scanned += 1
            after = customer.id
            plain = None if customer.is_erased else uow.pii.decrypt(customer.name_encrypted)
            if plain is not None:
                found = rules.normalize_text(plain).casefold()
                if (wanted in found) if reveal else (wanted == found):
                    matched.append(customer)
                    if len(matched) == limit:
                        return CustomerPage([_view(uow, c, None) for c in matched], after)
        if len(batch) < size:
            return CustomerPage([_view(uow, c, None) for c in matched], None)
        if scanned >= scan_limit:
            return CustomerPage([_view(uow, c, None) for c in matched], after)


def export_customer(uow: UnitOfWork, customer_id: int) -> CustomerExport:
    """Data-subject export: unmasked, so it needs ``customers.pii.read``; it is audited."""
    uow.require(Permission.CUSTOMERS_READ)
    uow.require(Permission.CUSTOMERS_PII_READ)
    customer = _load(uow, customer_id)
    record = _record(uow, customer, repository.list_addresses(uow.session, customer.id))
    facts = [
        AuditFact(e.occurred_at, e.action, e.actor_kind, e.changes)
        for e in repository.list_audit_entries(
            uow.session,
            customer.id,
            ["customer.registered", "customer.consent_changed", "customer.erased"],
        )
    ]
    export = export_document(record, facts, generated_at=uow.now())
    uow.audit("customer.exported", ENTITY, customer.id, after={"export": export.format})
    return export


# ---- profile ----


def register_customer(uow: UnitOfWork, command: RegisterCustomer) -> CustomerView:
    uow.require(Permission.CUSTOMERS_WRITE)
    now = uow.now()
    profile = rules.clean_registration(command, now=now)
    email_hash = uow.pii.lookup_hash(profile.email)
    _ensure_email_free(uow, email_hash, None)
    customer = Customer(
        email_encrypted=uow.pii.encrypt(profile.email),
        email_hash=email_hash,
        phone_encrypted=uow.pii.encrypt(profile.phone),
        phone_hash=uow.pii.lookup_hash(profile.phone),
        name_encrypted=uow.pii.encrypt(profile.name),
        tags=list(profile.tags),
        marketing_email_consent=command.marketing_email_consent,
        marketing_sms_consent=command.marketing_sms_consent,
        consent_updated_at=now,
        source_channel=profile.source_channel,
        region=profile.region,
        registered_at=profile.registered_at or now,
    )
    uow.session.add(customer)
    _flush_unique(uow)
    has_default = any(a.is_default for a in profile.addresses)
    addresses = [
        _new_address(
            uow.pii, customer.id, clean, is_default=clean.is_default or (i == 0 and not has_default)
        )
        for i, clean in enumerate(profile.addresses)
    ]
    uow.session.add_all(addresses)
    uow.session.flush()
    after = audit_snapshot(customer) | {"addresses": len(addresses)}
    uow.audit("customer.registered", ENTITY, customer.id, after=after)
    uow.emit(
        CustomerRegistered(
            customer_id=customer.id,
            source_channel=customer.source_channel,
            region=customer.region,
            registered_at=customer.registered_at,
            marketing_email_consent=customer.marketing_email_consent,
            marketing_sms_consent=customer.marketing_sms_consent,
        )
    )
    return _view(uow, customer, addresses)


def update_customer(uow: UnitOfWork, command: UpdateCustomer) -> CustomerView:
    uow.require(Permission.CUSTOMERS_WRITE)
    customer = _load_active(uow, command.customer_id)
    changes = rules.clean_update(
        command,
        has_email=customer.email_hash is not None,
        has_phone=customer.phone_hash is not None,
    )
    before = audit_snapshot(customer)
    changed: list[str] = []
    email_hash = uow.pii.lookup_hash(changes.get("email"))
    if "email" in changes and email_hash != customer.email_hash:
        _ensure_email_free(uow, email_hash, customer.id)
        customer.email_hash = email_hash
        customer.email_encrypted = uow.pii.encrypt(changes["email"])
        changed.append("email")
    if "phone" in changes and uow.pii.lookup_hash(changes["phone"]) != customer.phone_hash:
        customer.phone_hash = uow.pii.lookup_hash(changes["phone"])
        customer.phone_encrypted = uow.pii.encrypt(changes["phone"])
        changed.append("phone")
    if "name" in changes and changes["name"] != uow.pii.decrypt(customer.name_encrypted):
        customer.name_encrypted = uow.pii.encrypt(changes["name"])
        changed.append("name")
    if "region" in changes and changes["region"] != customer.region:
        customer.region = changes["region"]
        changed.append("region")
    channel = changes.get("source_channel")
    if channel is not None and channel != customer.source_channel:
        customer.source_channel = channel
        changed.append("source_channel")
    if changed:
        _flush_unique(uow)
        after = audit_snapshot(customer, changed)
        uow.audit("customer.updated", ENTITY, customer.id, before=before, after=after)
        uow.emit(CustomerUpdated(customer.id, tuple(changed)))
    return _view(uow, customer, repository.list_addresses(uow.session, customer.id))


def set_consent(uow: UnitOfWork, command: SetConsent) -> CustomerView:
    """Consent changes are audited: the audit trail is the consent history."""
    uow.require(Permission.CUSTOMERS_WRITE)
    customer = _load_active(uow, command.customer_id)
    before = audit_snapshot(customer)
    now = uow.now()
    if customer.set_consent(email=command.marketing_email, sms=command.marketing_sms, moment=now):
        uow.audit(
            "customer.consent_changed",
            ENTITY,
            customer.id,
            before=before,
            after=audit_snapshot(customer),
        )
        uow.emit(
            CustomerConsentChanged(
                customer_id=customer.id,
                marketing_email_consent=customer.marketing_email_consent,
                marketing_sms_consent=customer.marketing_sms_consent,
                changed_at=now,
            )
        )
    return _view(uow, customer, None)


def tag_customer(uow: UnitOfWork, command: TagCustomer) -> CustomerView:
    uow.require(Permission.CUSTOMERS_WRITE)
    customer = _load_active(uow, command.customer_id)
    errors = FieldErrorCollector()
    tags = rules.clean_tags(errors, command.tags)
    if len(set(customer.tags) | set(tags)) > rules.MAX_TAGS:
        errors.add("tags", CustomerError.TOO_MANY_TAGS, f"at most {rules.MAX_TAGS} tags")
    errors.raise_if_any()
    before = {"tags": list(customer.tags)}
    added = customer.add_tags(tags)
    if added:
        uow.audit(
            "customer.tagged", ENTITY, customer.id, before=before, after={"tags": customer.tags}
        )
        uow.emit(CustomerTagsChanged(customer.id, added=added, removed=()))
    return _view(uow, customer, None)


def untag_customer(uow: UnitOfWork, command: UntagCustomer) -> CustomerView:
    uow.require(Permission.CUSTOMERS_WRITE)
    customer = _load_active(uow, command.customer_id)
    before = {"tags": list(customer.tags)}
    removed = customer.remove_tags(rules.normalize_tag(t) for t in command.tags)
    if removed:
        uow.audit(
            "customer.untagged", ENTITY, customer.id, before=before, after={"tags": customer.tags}
        )
        uow.emit(CustomerTagsChanged(customer.id, added=(), removed=removed))
    return _view(uow, customer, None)


def set_tier(uow: UnitOfWork, customer_id: int, tier: str | None) -> bool:
    """Record the loyalty tier the loyalty context computed; True when it changed.

    Called by loyalty's tier recalculation (which checks its own permission), so
    it takes none here; the change is audited.
    """
    customer = _load(uow, customer_id, for_update=True)
    if customer.tier == tier:
        return False
    before = {"tier": customer.tier}
    customer.tier = tier
    uow.audit("customer.tier_changed", ENTITY, customer.id, before=before, after={"tier": tier})
    return True


# ---- addresses ----


def _new_address(
    cipher: PiiCipher, customer_id: int, clean: rules.CleanAddress, *, is_default: bool
) -> CustomerAddress:
    return CustomerAddress(
        customer_id=customer_id,
        label=clean.label,
        recipient_encrypted=cipher.encrypt(clean.recipient),
        line1_encrypted=cipher.encrypt(clean.line1),
        line2_encrypted=cipher.encrypt(clean.line2),
        phone_encrypted=cipher.encrypt(clean.phone),
        city=clean.city,
        region=clean.region,
        postal_code=clean.postal_code,
        country=clean.country,
        is_default=is_default,
    )


def _address_changed(
    uow: UnitOfWork,
    customer: Customer,
    address: CustomerAddress,
    change: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    uow.audit(f"customer.address_{change}", ENTITY, customer.id, before=before, after=after)
    uow.emit(CustomerAddressChanged(customer.id, address.id, change))


def add_address(uow: UnitOfWork, command: AddAddress) -> AddressView:
    uow.require(Permission.CUSTOMERS_WRITE)
    customer = _load_active(uow, command.customer_id)
    errors = FieldErrorCollector()
    clean = rules.clean_address(errors, command.address)
    errors.raise_if_any()
    count = repository.count_addresses(uow.session, customer.id)
    if count >= rules.MAX_ADDRESSES:
        raise Conflict(
            CustomerError.TOO_MANY_ADDRESSES,
            f"a customer has at most {rules.MAX_ADDRESSES} addresses",
        )
    is_default = clean.is_default or count == 0
    if is_default:
        repository.clear_default_address(uow.session, customer.id, except_id=None)
    address = _new_address(uow.pii, customer.id, clean, is_default=is_default)
    uow.session.add(address)
    uow.session.flush()
    after = address_audit_snapshot(address) | {"address_id": address.id}
    _address_changed(uow, customer, address, "added", after=after)
    return address_view(_address_record(uow.pii, address), reveal=_reveal(uow))


def _load_address(uow: UnitOfWork, customer: Customer, address_id: int) -> CustomerAddress:
    address = repository.get_address(uow.session, customer.id, address_id)
    if address is None:
        raise NotFound(
            CustomerError.ADDRESS_NOT_FOUND,
            f"customer {customer.id} has no address {address_id}",
        )
    return address


def update_address(uow: UnitOfWork, command: UpdateAddress) -> AddressView:
    uow.require(Permission.CUSTOMERS_WRITE)
    customer = _load_active(uow, command.customer_id)
    address = _load_address(uow, customer, command.address_id)
    current = _address_record(uow.pii, address)
    errors = FieldErrorCollector()
    clean = rules.clean_address(errors, rules.merge_address(current, command))
    errors.raise_if_any()
    before = address_audit_snapshot(address) | {"address_id": address.id}
    changed_pii = [f for f in rules.ADDRESS_PII_FIELDS if getattr(clean, f) != getattr(current, f)]
    for field in changed_pii:
        setattr(address, f"{field}_encrypted", uow.pii.encrypt(getattr(clean, field)))
    if clean.is_default and not address.is_default:
        repository.clear_default_address(uow.session, customer.id, except_id=address.id)
    address.label, address.city, address.region = clean.label, clean.city, clean.region
    address.postal_code, address.country = clean.postal_code, clean.country
    address.is_default = clean.is_default
    after = address_audit_snapshot(address, changed_pii) | {"address_id": address.id}
    if after != before:
        _address_changed(uow, customer, address, "updated", before=before, after=after)
    return address_view(_address_record(uow.pii, address), reveal=_reveal(uow))


def remove_address(uow: UnitOfWork, command: RemoveAddress) -> None:
    """Removes an address; when it was the default, the oldest remaining one takes over."""
    uow.require(Permission.CUSTOMERS_WRITE)
    customer = _load_active(uow, command.customer_id)
    address = _load_address(uow, customer, command.address_id)
    before = address_audit_snapshot(address) | {"address_id": address.id}
    was_default = address.is_default
    uow.session.delete(address)
    uow.session.flush()
    if was_default:
        remaining = repository.list_addresses(uow.session, customer.id)
        if remaining:
            remaining[0].is_default = True
    _address_changed(uow, customer, address, "removed", before=before)


# ---- erasure ----


def erase_customer(uow: UnitOfWork, command: EraseCustomer) -> CustomerView:
    """Irreversibly anonymise the customer; the row and its id stay for orders and reports."""
    uow.require(Permission.CUSTOMERS_WRITE)
    if not command.confirm:
        message = "erasure cannot be undone: confirm it explicitly"
        raise ValidationFailed(
            CustomerError.CONFIRMATION_REQUIRED,
            message,
            errors=[FieldError("confirm", CustomerError.CONFIRMATION_REQUIRED, message)],
        )
    customer = _load_active(uow, command.customer_id)
    now = uow.now()
    before = audit_snapshot(customer) | {
        "addresses": repository.count_addresses(uow.session, customer.id)
    }
    repository.delete_addresses(uow.session, customer.id)
    customer.erase(now)
    uow.audit(
        "customer.erased",
        ENTITY,
        customer.id,
        before=before,
        after=audit_snapshot(customer) | {"addresses": 0},
    )
    uow.emit(CustomerErased(customer.id, now))
    return _view(uow, customer, [])

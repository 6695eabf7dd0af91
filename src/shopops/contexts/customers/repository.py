"""Every query of the customers context."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, exists, func, select, type_coerce, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from shopops.audit.models import AuditEntry
from shopops.contexts.customers.models import Customer, CustomerAddress


def get(session: Session, customer_id: int) -> Customer | None:
    return session.get(Customer, customer_id)


def get_for_update(session: Session, customer_id: int) -> Customer | None:
    """Locks the customer row (PostgreSQL); SQLite already serialises writers."""
    return session.scalars(
        select(Customer).where(Customer.id == customer_id).with_for_update()
    ).one_or_none()


def get_by_email_hash(session: Session, email_hash: str) -> Customer | None:
    return session.scalars(select(Customer).where(Customer.email_hash == email_hash)).one_or_none()


def list_addresses(session: Session, customer_id: int) -> Sequence[CustomerAddress]:
    return session.scalars(
        select(CustomerAddress)
        .where(CustomerAddress.customer_id == customer_id)
        .order_by(CustomerAddress.id)
    ).all()


def get_address(session: Session, customer_id: int, address_id: int) -> CustomerAddress | None:
    return session.scalars(
        select(CustomerAddress).where(
            CustomerAddress.id == address_id, CustomerAddress.customer_id == customer_id
        )
    ).one_or_none()


def count_addresses(session: Session, customer_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(CustomerAddress)
            .where(CustomerAddress.customer_id == customer_id)
        )
        or 0
    )


def clear_default_address(session: Session, customer_id: int, *, except_id: int | None) -> None:
    stmt = update(CustomerAddress).where(
        CustomerAddress.customer_id == customer_id, CustomerAddress.is_default.is_(True)
    )
    if except_id is not None:
        stmt = stmt.where(CustomerAddress.id != except_id)
    session.execute(stmt.values(is_default=False))


def delete_addresses(session: Session, customer_id: int) -> int:
    result = session.execute(
        delete(CustomerAddress).where(CustomerAddress.customer_id == customer_id)
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class CustomerFilter:
    """Filters with personal values already turned into lookup hashes."""

    email_hash: str | None = None
    phone_hash: str | None = None
    tag: str | None = None
    source_channel: str | None = None
    region: str | None = None
    registered_from: datetime | None = None
    registered_to: datetime | None = None
    include_erased: bool = False


def _has_tag(session: Session, tag: str) -> ColumnElement[bool]:
    if session.get_bind().dialect.name == "postgresql":
        return type_coerce(Customer.tags, JSONB).contains([tag])  # uses the GIN index
    each = func.json_each(Customer.tags).table_valued("value")
    return exists(select(1).select_from(each).where(each.c.value == tag))


def search(
    session: Session, filters: CustomerFilter, *, after_id: int | None, limit: int
) -> Sequence[Customer]:
    """Keyset-paginated by id, ascending."""
    stmt = select(Customer).order_by(Customer.id).limit(limit)
    if after_id is not None:
        stmt = stmt.where(Customer.id > after_id)
    if filters.email_hash is not None:
        stmt = stmt.where(Customer.email_hash == filters.email_hash)
    if filters.phone_hash is not None:
        stmt = stmt.where(Customer.phone_hash == filters.phone_hash)
    if filters.tag is not None:
        stmt = stmt.where(_has_tag(session, filters.tag))
    if filters.source_channel is not None:
        stmt = stmt.where(Customer.source_channel == filters.source_channel)
    if filters.region is not None:
        # "CN" matches CN and its subdivisions (CN-31); "CN-31" matches exactly.
        stmt = stmt.where(
            (Customer.region == filters.region)
            | Customer.region.startswith(f"{filters.region}-", autoescape=True)
        )
    if filters.registered_from is not None:
        stmt = stmt.where(Customer.registered_at >= filters.registered_from)
    if filters.registered_to is not None:
        stmt = stmt.where(Customer.registered_at < filters.registered_to)
    if not filters.include_erased:
        stmt = stmt.where(Customer.erased_at.is_(None))
    return session.scalars(stmt).all()


def list_audit_entries(
    session: Session, customer_id: int, actions: Sequence[str]
) -> Sequence[AuditEntry]:
    return session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.entity_type == "customer",
            AuditEntry.entity_id == str(customer_id),
            AuditEntry.action.in_(actions),
        )
        .order_by(AuditEntry.id)
    ).all()

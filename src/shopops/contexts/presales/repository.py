"""Every query of the presales context."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    String,
    and_,
    column,
    exists,
    func,
    not_,
    select,
    table,
)
from sqlalchemy.orm import Session

from shopops.contexts import orders
from shopops.contexts.presales.models import PresaleOffer
from shopops.contexts.presales.rules import PresaleFigures

# Read-only views of the catalogue (never written here).
_variants = table(
    "variants",
    column("sku", String),
    column("product_id", Integer),
    column("currency", String),
    column("is_active", Boolean),
)
_products = table("products", column("id", Integer), column("status", String))


@dataclass(frozen=True)
class VariantFacts:
    sku: str
    currency: str
    sellable: bool


def variant(session: Session, sku: str) -> VariantFacts | None:
    row = session.execute(
        select(_variants.c.sku, _variants.c.currency, _variants.c.is_active, _products.c.status)
        .join(_products, _products.c.id == _variants.c.product_id)
        .where(_variants.c.sku == sku)
    ).first()
    if row is None:
        return None
    return VariantFacts(row[0], row[1], bool(row[2]) and row[3] == "active")


def get(session: Session, offer_id: int) -> PresaleOffer | None:
    return session.get(PresaleOffer, offer_id)


def list_offers(
    session: Session, *, status: str | None, after_id: int | None, limit: int
) -> Sequence[PresaleOffer]:
    stmt = select(PresaleOffer).order_by(PresaleOffer.id).limit(limit)
    if status is not None:
        stmt = stmt.where(PresaleOffer.status == status)
    if after_id is not None:
        stmt = stmt.where(PresaleOffer.id > after_id)
    return session.scalars(stmt).all()


def order_figures(session: Session, reference: str, now: datetime) -> PresaleFigures:
    """The presale's orders counted and summed in one aggregate query.

    An order paid its deposit when its timeline has ``deposit_paid`` (written once, when
    the deposit is captured on a pending order); it paid its balance when it was paid.
    """
    order, event = orders.Order, orders.OrderEvent
    rows = (
        select(
            order.status,
            order.paid_at,
            order.balance_due_at,
            order.deposit_minor,
            order.total_minor,
            order.discount_minor,
            order.forfeited_minor,
            exists()
            .where(event.order_id == order.id, event.kind == "deposit_paid")
            .label("deposit_paid"),
        )
        .where(order.offer_reference == reference)
        .subquery()
    )
    deposit_paid = rows.c.deposit_paid
    pending = rows.c.status == orders.OrderStatus.PENDING_PAYMENT
    unpaid = rows.c.paid_at.is_(None)
    ended = rows.c.status.in_([orders.OrderStatus.CANCELLED, orders.OrderStatus.CLOSED])
    converted = and_(deposit_paid, rows.c.paid_at.is_not(None))
    awaiting_balance = and_(deposit_paid, unpaid, pending)
    forfeited = and_(deposit_paid, rows.c.forfeited_minor > 0)

    count, total = func.count, func.sum
    figures: dict[str, ColumnElement[Any]] = {
        "orders_placed": count(),
        "awaiting_deposit": count().filter(not_(deposit_paid), pending),
        "cancelled_before_deposit": count().filter(not_(deposit_paid), ended),
        "deposits_paid": count().filter(deposit_paid),
        "deposits_paid_minor": total(rows.c.deposit_minor).filter(deposit_paid),
        "balances_paid": count().filter(converted),
        "balances_paid_minor": total(rows.c.total_minor - rows.c.deposit_minor).filter(converted),
        "open": count().filter(awaiting_balance, rows.c.balance_due_at > now),
        "balance_overdue": count().filter(awaiting_balance, rows.c.balance_due_at <= now),
        "forfeited": count().filter(forfeited),
        "forfeited_minor": total(rows.c.forfeited_minor).filter(forfeited),
        "cancelled_after_deposit": count().filter(
            deposit_paid, unpaid, rows.c.status == orders.OrderStatus.CANCELLED
        ),
        "discount_minor": total(rows.c.discount_minor).filter(converted),
        "gmv_minor": total(rows.c.total_minor).filter(converted),
    }
    row = session.execute(
        select(*(value.label(name) for name, value in figures.items())).select_from(rows)
    ).one()
    # a sum over no rows is NULL
    return PresaleFigures(**{name: int(value or 0) for name, value in row._mapping.items()})

"""Every payments query."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopops.contexts.payments.models import (
    CAPTURED_PAYMENT,
    OPEN_PAYMENT,
    Payment,
    PaymentNotification,
    Refund,
    RefundStatus,
)
from shopops.db.keys import among


def get_payment(session: Session, payment_id: int, *, for_update: bool = False) -> Payment | None:
    stmt = select(Payment).where(Payment.id == payment_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).one_or_none()


def get_payment_by_reference(session: Session, gateway: str, reference: str) -> Payment | None:
    return session.scalars(
        select(Payment).where(Payment.gateway == gateway, Payment.gateway_reference == reference)
    ).one_or_none()


def payments_of_order(session: Session, order_id: int) -> Sequence[Payment]:
    return session.scalars(
        select(Payment).where(Payment.order_id == order_id).order_by(Payment.id)
    ).all()


def open_payment_of_order(session: Session, order_id: int) -> Payment | None:
    """A payment started but not finished (pending or authorized), oldest first."""
    return session.scalars(
        select(Payment)
        .where(Payment.order_id == order_id, Payment.status.in_(OPEN_PAYMENT))
        .order_by(Payment.id)
        .limit(1)
    ).first()


def captured_payments_of_order(session: Session, order_id: int) -> Sequence[Payment]:
    return session.scalars(
        select(Payment)
        .where(Payment.order_id == order_id, Payment.status.in_(CAPTURED_PAYMENT))
        .order_by(Payment.id)
    ).all()


def get_refund(session: Session, refund_id: int, *, for_update: bool = False) -> Refund | None:
    stmt = select(Refund).where(Refund.id == refund_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).one_or_none()


def get_refund_by_reference(session: Session, reference: str) -> Refund | None:
    return session.scalars(select(Refund).where(Refund.gateway_reference == reference)).first()


def refunds_of_order(session: Session, order_id: int) -> Sequence[Refund]:
    return session.scalars(
        select(Refund).where(Refund.order_id == order_id).order_by(Refund.id)
    ).all()


def pending_by_line(session: Session, order_id: int) -> dict[int, int]:
    """Amounts per order line held by refunds still in ``requested``."""
    held: dict[int, int] = {}
    rows = session.scalars(
        select(Refund.lines).where(
            Refund.order_id == order_id, Refund.status == RefundStatus.REQUESTED
        )
    )
    for lines in rows:
        for part in lines:
            line_id = int(part["order_line_id"])
            held[line_id] = held.get(line_id, 0) + int(part["amount_minor"])
    return held


def pending_shipping(session: Session, order_id: int) -> int:
    """The shipping fee held by the order's refunds still in ``requested``."""
    held = session.scalar(
        select(func.coalesce(func.sum(Refund.shipping_minor), 0)).where(
            Refund.order_id == order_id, Refund.status == RefundStatus.REQUESTED
        )
    )
    return int(held or 0)


def stuck_refunds(session: Session, requested_before: datetime, limit: int) -> Sequence[Refund]:
    return session.scalars(
        select(Refund)
        .where(Refund.status == RefundStatus.REQUESTED, Refund.requested_at <= requested_before)
        .order_by(Refund.id)
        .limit(limit)
    ).all()


@dataclass(frozen=True)
class PaymentFilter:
    order_id: int | None = None
    status: str | None = None
    after_id: int | None = None
    limit: int = 50


def list_payments(session: Session, query: PaymentFilter) -> Sequence[Payment]:
    """Oldest first; keyset pagination on id (fetches ``limit`` rows)."""
    stmt = select(Payment).order_by(Payment.id).limit(query.limit)
    if query.order_id is not None:
        stmt = stmt.where(Payment.order_id == query.order_id)
    if query.status:
        stmt = stmt.where(Payment.status == query.status)
    if query.after_id is not None:
        stmt = stmt.where(Payment.id > query.after_id)
    return session.scalars(stmt).all()


@dataclass(frozen=True)
class RefundFilter:
    order_id: int | None = None
    status: str | None = None
    return_id: int | None = None
    after_id: int | None = None
    limit: int = 50


def list_refunds(session: Session, query: RefundFilter) -> Sequence[Refund]:
    stmt = select(Refund).order_by(Refund.id).limit(query.limit)
    if query.order_id is not None:
        stmt = stmt.where(Refund.order_id == query.order_id)
    if query.status:
        stmt = stmt.where(Refund.status == query.status)
    if query.return_id is not None:
        stmt = stmt.where(Refund.return_id == query.return_id)
    if query.after_id is not None:
        stmt = stmt.where(Refund.id > query.after_id)
    return session.scalars(stmt).all()


def get_notification(session: Session, gateway: str, event_id: str) -> PaymentNotification | None:
    return session.scalars(
        select(PaymentNotification).where(
            PaymentNotification.gateway == gateway, PaymentNotification.event_id == event_id
        )
    ).one_or_none()


# --- settlement reads ---


def captured_between(session: Session, start: datetime, end: datetime) -> Sequence[Payment]:
    return session.scalars(
        select(Payment)
        .where(Payment.captured_at >= start, Payment.captured_at < end)
        .order_by(Payment.id)
    ).all()


def refunds_completed_between(session: Session, start: datetime, end: datetime) -> Sequence[Refund]:
    return session.scalars(
        select(Refund)
        .where(
            Refund.status == RefundStatus.SUCCEEDED,
            Refund.completed_at >= start,
            Refund.completed_at < end,
        )
        .order_by(Refund.id)
    ).all()


def refunds_requested_between(session: Session, start: datetime, end: datetime) -> Sequence[Refund]:
    return session.scalars(
        select(Refund)
        .where(Refund.requested_at >= start, Refund.requested_at < end)
        .order_by(Refund.id)
    ).all()


def payments_of_orders(session: Session, order_ids: Iterable[int]) -> Sequence[Payment]:
    ids = sorted(set(order_ids))
    if not ids:
        return []
    return session.scalars(
        select(Payment).where(among(Payment.order_id, ids)).order_by(Payment.id)
    ).all()


def refunds_of_orders(session: Session, order_ids: Iterable[int]) -> Sequence[Refund]:
    ids = sorted(set(order_ids))
    if not ids:
        return []
    return session.scalars(
        select(Refund).where(among(Refund.order_id, ids)).order_by(Refund.id)
    ).all()

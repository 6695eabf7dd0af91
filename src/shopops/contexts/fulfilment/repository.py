"""Every fulfilment query. Orders are read through the orders context's public models."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, String, and_, column, func, or_, select, table, update
from sqlalchemy.orm import Session, selectinload

from shopops.contexts import orders
from shopops.contexts.fulfilment.commands import LateOrderFilter, ShipmentFilter
from shopops.contexts.fulfilment.models import Shipment, TrackingEvent
from shopops.contexts.fulfilment.rules import SHIPPABLE_ORDER_STATUSES, ShipmentStatus

_variants = table("variants", column("sku", String), column("weight_grams", Integer))


def get(session: Session, shipment_id: int, *, for_update: bool = False) -> Shipment | None:
    stmt = (
        select(Shipment)
        .where(Shipment.id == shipment_id)
        .options(selectinload(Shipment.lines))
        .execution_options(populate_existing=True)
    )
    if for_update:
        stmt = stmt.with_for_update(of=Shipment)
    return session.scalars(stmt).one_or_none()


def get_by_tracking(session: Session, carrier: str, tracking_number: str) -> Shipment | None:
    return session.scalars(
        select(Shipment).where(
            Shipment.carrier == carrier, Shipment.tracking_number == tracking_number
        )
    ).one_or_none()


def order_number_of(session: Session, order_id: int) -> str:
    return str(session.scalar(select(orders.Order.number).where(orders.Order.id == order_id)))


def list_shipments(
    session: Session, query: ShipmentFilter, now: datetime
) -> list[tuple[Shipment, str]]:
    """Oldest first, keyset on id; each shipment with its order number and lines."""
    stmt = (
        select(Shipment, orders.Order.number)
        .join(orders.Order, orders.Order.id == Shipment.order_id)
        .options(selectinload(Shipment.lines))
        .order_by(Shipment.id)
        .limit(query.limit)
    )
    if query.order_id is not None:
        stmt = stmt.where(Shipment.order_id == query.order_id)
    if query.status:
        stmt = stmt.where(Shipment.status == query.status)
    if query.carrier:
        stmt = stmt.where(Shipment.carrier == query.carrier)
    if query.warehouse_id is not None:
        stmt = stmt.where(Shipment.warehouse_id == query.warehouse_id)
    if query.late is not None:
        # Late: delivered after the promised date, or still on the way past it.
        arrived_or_now = func.coalesce(Shipment.delivered_at, now)
        if query.late:
            stmt = stmt.where(
                Shipment.deliver_by.is_not(None), arrived_or_now > Shipment.deliver_by
            )
        else:
            stmt = stmt.where(
                or_(Shipment.deliver_by.is_(None), arrived_or_now <= Shipment.deliver_by)
            )
    if query.after_id is not None:
        stmt = stmt.where(Shipment.id > query.after_id)
    return [(shipment, number) for shipment, number in session.execute(stmt)]


def events_of(session: Session, shipment_id: int) -> Sequence[TrackingEvent]:
    return session.scalars(
        select(TrackingEvent)
        .where(TrackingEvent.shipment_id == shipment_id)
        .order_by(TrackingEvent.occurred_at, TrackingEvent.id)
    ).all()


def event_exists(session: Session, shipment_id: int, status: str, occurred_at: datetime) -> bool:
    found = session.scalar(
        select(TrackingEvent.id).where(
            TrackingEvent.shipment_id == shipment_id,
            TrackingEvent.status == status,
            TrackingEvent.occurred_at == occurred_at,
        )
    )
    return found is not None


def statuses_for_order(session: Session, order_id: int) -> list[str]:
    return list(
        session.scalars(
            select(Shipment.status).where(Shipment.order_id == order_id).order_by(Shipment.id)
        )
    )


def count_for(session: Session, order_id: int, warehouse_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Shipment)
            .where(Shipment.order_id == order_id, Shipment.warehouse_id == warehouse_id)
        )
        or 0
    )


def weights(session: Session, skus: Iterable[str]) -> dict[str, int]:
    rows = session.execute(
        select(_variants.c.sku, _variants.c.weight_grams).where(
            _variants.c.sku.in_(sorted(set(skus)))
        )
    )
    return {sku: int(weight or 0) for sku, weight in rows}


@dataclass(frozen=True)
class PollTarget:
    shipment_id: int
    carrier: str
    tracking_number: str


def claim_for_polling(
    session: Session, *, polled_before: datetime, now: datetime, limit: int
) -> list[PollTarget]:
    """Open shipments not polled since ``polled_before``, least recently polled first.

    Each is stamped with ``now`` by a conditional UPDATE, so two workers polling
    at once do not both take the same shipment.
    """
    due = or_(Shipment.last_polled_at.is_(None), Shipment.last_polled_at < polled_before)
    candidates = session.execute(
        select(Shipment.id, Shipment.carrier, Shipment.tracking_number)
        .where(Shipment.status != ShipmentStatus.DELIVERED, due)
        .order_by(Shipment.last_polled_at.is_not(None), Shipment.last_polled_at, Shipment.id)
        .limit(limit)
    ).all()
    claimed = []
    for shipment_id, carrier, tracking_number in candidates:
        result = session.execute(
            update(Shipment)
            .where(Shipment.id == shipment_id, due)
            .values(last_polled_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(PollTarget(shipment_id, carrier, tracking_number))
    return claimed


def delivered_orders_before(session: Session, cutoff: datetime, limit: int) -> list[int]:
    return list(
        session.scalars(
            select(orders.Order.id)
            .where(orders.Order.status == "delivered", orders.Order.delivered_at <= cutoff)
            .order_by(orders.Order.id)
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class LateOrderRow:
    order: orders.Order
    units_ordered: int
    units_shipped: int


def late_orders(session: Session, now: datetime, query: LateOrderFilter) -> list[LateOrderRow]:
    """Paid orders past their ship-by date with units still to ship, most overdue first."""
    units = (
        select(
            orders.OrderLine.order_id,
            func.sum(orders.OrderLine.quantity).label("ordered"),
            func.sum(orders.OrderLine.shipped_quantity).label("shipped"),
        )
        .group_by(orders.OrderLine.order_id)
        .subquery()
    )
    stmt = (
        select(orders.Order, units.c.ordered, units.c.shipped)
        .join(units, units.c.order_id == orders.Order.id)
        .where(
            orders.Order.status.in_(sorted(SHIPPABLE_ORDER_STATUSES)),
            orders.Order.ship_by < now,
        )
        .order_by(orders.Order.ship_by, orders.Order.id)
        .limit(query.limit)
    )
    if query.after is not None:
        ship_by, order_id = query.after
        stmt = stmt.where(
            or_(
                orders.Order.ship_by > ship_by,
                and_(orders.Order.ship_by == ship_by, orders.Order.id > order_id),
            )
        )
    return [LateOrderRow(order, int(o), int(s)) for order, o, s in session.execute(stmt)]

"""Every orders query."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, String, column, exists, func, select, table, update
from sqlalchemy.orm import Session, load_only

from shopops.contexts.orders.models import Order, OrderEvent, OrderLine, OrderTag
from shopops.db.keys import among

# Read-only views of lower contexts' tables used to snapshot prices at placement.
_variants = table(
    "variants",
    column("sku", String),
    column("product_id", Integer),
    column("price_minor", Integer),
    column("cost_minor", Integer),
    column("currency", String),
    column("is_active", Boolean),
)
_products = table(
    "products", column("id", Integer), column("name", String), column("status", String)
)
_customers = table(
    "customers",
    column("id", Integer),
    column("region", String),
    column("tier", String),
    column("erased_at"),
)


@dataclass(frozen=True)
class SkuSnapshot:
    sku: str
    product_name: str
    price_minor: int
    cost_minor: int | None
    currency: str
    sellable: bool


def snapshot_skus(session: Session, skus: Iterable[str]) -> dict[str, SkuSnapshot]:
    rows = session.execute(
        select(
            _variants.c.sku,
            _products.c.name,
            _variants.c.price_minor,
            _variants.c.cost_minor,
            _variants.c.currency,
            _variants.c.is_active,
            _products.c.status,
        )
        .join(_products, _products.c.id == _variants.c.product_id)
        .where(_variants.c.sku.in_(sorted(set(skus))))
    ).all()
    return {
        sku: SkuSnapshot(
            sku,
            name,
            int(price),
            None if cost is None else int(cost),
            currency,
            bool(active) and status == "active",
        )
        for sku, name, price, cost, currency, active, status in rows
    }


def customer_region(session: Session, customer_id: int) -> tuple[bool, str | None, str | None]:
    """(exists and not erased, region, loyalty tier)."""
    row = session.execute(
        select(_customers.c.region, _customers.c.erased_at, _customers.c.tier).where(
            _customers.c.id == customer_id
        )
    ).first()
    if row is None or row[1] is not None:
        return False, None, None
    return True, row[0], row[2]


def get(session: Session, order_id: int, *, for_update: bool = False) -> Order | None:
    stmt = select(Order).where(Order.id == order_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def get_by_number(session: Session, number: str) -> Order | None:
    return session.scalars(select(Order).where(Order.number == number)).one_or_none()


def lines_of(session: Session, order_id: int) -> Sequence[OrderLine]:
    return session.scalars(
        select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.line_number)
    ).all()


def timeline_of(session: Session, order_id: int) -> Sequence[OrderEvent]:
    return session.scalars(
        select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
    ).all()


def tags_of(session: Session, order_ids: Iterable[int]) -> dict[int, list[str]]:
    """Tags of many orders in one query (no N+1 on lists)."""
    result: dict[int, list[str]] = {}
    ids = sorted(set(order_ids))
    if not ids:
        return result
    rows = session.execute(
        select(OrderTag.order_id, OrderTag.tag)
        .where(OrderTag.order_id.in_(ids))
        .order_by(OrderTag.order_id, OrderTag.tag)
    )
    for order_id, tag in rows:
        result.setdefault(order_id, []).append(tag)
    return result


def unpaid_past_due(session: Session, now: datetime, limit: int) -> Sequence[Order]:
    return session.scalars(
        select(Order)
        .where(Order.status == "pending_payment", Order.payment_due_at <= now)
        .order_by(Order.id)
        .limit(limit)
    ).all()


@dataclass(frozen=True)
class OrderFilter:
    status: Sequence[str] = ()
    placed_from: datetime | None = None
    placed_to: datetime | None = None
    customer_id: int | None = None
    sku: str | None = None
    min_total_minor: int | None = None
    max_total_minor: int | None = None
    tag: str | None = None
    channel: str | None = None
    number: str | None = None
    currency: str | None = None
    offer_reference: str | None = None  # e.g. "presale:3", "group:12"
    before_id: int | None = None
    limit: int = 50


def search(session: Session, query: OrderFilter) -> Sequence[Order]:
    """Newest first; keyset pagination on id."""
    stmt = select(Order).order_by(Order.id.desc()).limit(query.limit)
    if query.status:
        stmt = stmt.where(Order.status.in_(list(query.status)))
    if query.placed_from:
        stmt = stmt.where(Order.placed_at >= query.placed_from)
    if query.placed_to:
        stmt = stmt.where(Order.placed_at < query.placed_to)
    if query.customer_id is not None:
        stmt = stmt.where(Order.customer_id == query.customer_id)
    if query.sku:
        stmt = stmt.where(
            exists().where(OrderLine.order_id == Order.id, OrderLine.sku == query.sku)
        )
    if query.min_total_minor is not None:
        stmt = stmt.where(Order.total_minor >= query.min_total_minor)
    if query.max_total_minor is not None:
        stmt = stmt.where(Order.total_minor <= query.max_total_minor)
    if query.tag:
        stmt = stmt.where(exists().where(OrderTag.order_id == Order.id, OrderTag.tag == query.tag))
    if query.channel:
        stmt = stmt.where(Order.channel == query.channel)
    if query.number:
        stmt = stmt.where(Order.number == query.number)
    if query.currency:
        stmt = stmt.where(Order.currency == query.currency)
    if query.offer_reference:
        stmt = stmt.where(Order.offer_reference == query.offer_reference)
    if query.before_id is not None:
        stmt = stmt.where(Order.id < query.before_id)
    return session.scalars(stmt).all()


def add_shipped_quantity(session: Session, line_id: int, quantity: int) -> bool:
    """shipped_quantity += quantity unless that would exceed the ordered quantity."""
    result = session.execute(
        update(OrderLine)
        .where(
            OrderLine.id == line_id,
            OrderLine.shipped_quantity + quantity <= OrderLine.quantity,
        )
        .values(shipped_quantity=OrderLine.shipped_quantity + quantity)
        .execution_options(synchronize_session="fetch")
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def units_outstanding(session: Session, order_id: int) -> int:
    """Units ordered and not shipped yet."""
    return int(
        session.scalar(
            select(
                func.coalesce(func.sum(OrderLine.quantity - OrderLine.shipped_quantity), 0)
            ).where(OrderLine.order_id == order_id)
        )
        or 0
    )


def get_many(
    session: Session, order_ids: Iterable[int], *, only: Sequence[Any] = ()
) -> dict[int, Order]:
    """Orders by id; with ``only``, just those columns are loaded (reports over many orders
    skip the wide ones: addresses, price breakdowns, timestamps they do not read)."""
    ids = sorted(set(order_ids))
    if not ids:
        return {}
    stmt = select(Order).where(among(Order.id, ids))
    if only:
        stmt = stmt.options(load_only(*only, raiseload=True))
    return {o.id: o for o in session.scalars(stmt)}


def lines_of_orders(session: Session, order_ids: Iterable[int]) -> dict[int, list[OrderLine]]:
    ids = sorted(set(order_ids))
    result: dict[int, list[OrderLine]] = {i: [] for i in ids}
    if not ids:
        return result
    rows = session.scalars(
        select(OrderLine)
        .where(among(OrderLine.order_id, ids))
        .order_by(OrderLine.order_id, OrderLine.line_number)
    )
    for line in rows:
        result[line.order_id].append(line)
    return result


def line_refunds_of_orders(session: Session, order_ids: Iterable[int]) -> dict[int, int]:
    """The sum of each order's line refunds (orders without lines are absent)."""
    ids = set(order_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(OrderLine.order_id, func.sum(OrderLine.refunded_minor))
        .where(among(OrderLine.order_id, ids))
        .group_by(OrderLine.order_id)
    )
    return {order_id: int(total or 0) for order_id, total in rows}


def paid_or_ended_between(
    session: Session, start: datetime, end: datetime
) -> list[tuple[int, datetime]]:
    """(order id, moment) of every order paid, cancelled or closed in [start, end): the
    settlement's reconciliation set (each column has a partial index of its set rows)."""
    found: list[tuple[int, datetime]] = []
    for moment in (Order.paid_at, Order.cancelled_at, Order.closed_at):
        rows = session.execute(select(Order.id, moment).where(moment >= start, moment < end))
        found.extend((order_id, when) for order_id, when in rows if when is not None)
    return found

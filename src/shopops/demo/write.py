"""Bulk writing of simulated history: primary keys handed out up front, rows by table.

History is not news: rows go straight into the tables, with no outbox events
(no webhook, loyalty point or e-mail should follow a sale that "happened"
months ago) and one audit row per written batch instead of one per change.
The promotions' counters (uses, discount, units sold, coupon uses, per-customer
usage) are written with each batch as its redemption ledger adds them up, so
every committed batch is consistent.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from shopops.analytics.tracking_models import TrackedEvent, TrackedEventProduct
from shopops.bootstrap import Container
from shopops.contexts.fulfilment.models import Shipment, ShipmentLine, TrackingEvent
from shopops.contexts.inventory.models import Reservation, StockLevel, StockMovement
from shopops.contexts.orders.models import Order, OrderEvent, OrderLine, OrderTag
from shopops.contexts.payments.models import Payment, Refund
from shopops.contexts.promotions.models import (
    Coupon,
    CouponRedemption,
    CustomerUsage,
    FlashSaleQuota,
    Promotion,
    PromotionRedemption,
)
from shopops.contexts.returns.models import ReturnLine, ReturnRequest
from shopops.db.bulk import insert_rows, reserve_ids
from shopops.demo.pricing import BookedCounters
from shopops.demo.stock import Level
from shopops.kernel.events import Actor

# Parents before children: every foreign key points at rows already written.
TABLES: list[Table] = [
    model.__table__  # type: ignore[misc]
    for model in (
        Order,
        OrderLine,
        OrderEvent,
        OrderTag,
        PromotionRedemption,
        CouponRedemption,
        Payment,
        Refund,
        Shipment,
        ShipmentLine,
        TrackingEvent,
        ReturnRequest,
        ReturnLine,
        Reservation,
        StockMovement,
        TrackedEvent,
        TrackedEventProduct,
    )
]
_BLOCK = 8192


class IdPool:
    """Fresh primary keys per table, ascending (timelines are read in id order).

    PostgreSQL hands them out from each table's sequence in blocks, so other
    writers never collide with us. On SQLite, whose writer is this process alone
    while it seeds, they count on from the largest id, as ``reserve_ids`` does.
    """

    def __init__(self, container: Container) -> None:
        self._container = container
        self._tables = {table.name: table for table in TABLES if "id" in table.c}
        self._free: dict[str, list[int]] = {name: [] for name in self._tables}
        self._next: dict[str, int] = {}
        if container.engine.dialect.name != "postgresql":
            with container.session_factory() as session:
                for name, table in self._tables.items():
                    highest = session.scalar(select(func.coalesce(func.max(table.c.id), 0)))
                    self._next[name] = int(highest or 0) + 1

    def __call__(self, table: str) -> int:
        if self._next:
            value = self._next[table]
            self._next[table] = value + 1
            return value
        free = self._free[table]
        if not free:
            with self._container.session_factory() as session:
                free.extend(reversed(reserve_ids(session, self._tables[table], _BLOCK)))
                session.commit()
        return free.pop()


def write_batch(
    container: Container,
    actor: Actor,
    rows: dict[str, list[dict[str, Any]]],
    levels: list[Level],
    counts: dict[str, int],
    booked: BookedCounters | None = None,
) -> None:
    """One transaction: the batch's rows, the stock levels and promotion counters it
    changed, one audit row."""
    with container.uow(actor) as uow:
        session = uow.session
        for table in TABLES:
            insert_rows(session, table, rows.get(table.name, []))
            counts[table.name] = counts.get(table.name, 0) + len(rows.get(table.name, []))
        changed = [level for level in levels if level.changed]
        if changed:
            stock: Table = StockLevel.__table__  # type: ignore[assignment]
            session.execute(
                update(stock)
                .where(stock.c.id == bindparam("level_id"))
                .values(on_hand=bindparam("new_on_hand"), reserved=bindparam("new_reserved")),
                [
                    {"level_id": lv.id, "new_on_hand": lv.on_hand, "new_reserved": lv.reserved}
                    for lv in changed
                ],
            )
            for level in changed:
                level.changed = False
        if booked is not None:
            _write_counters(session, booked)
        orders = rows.get("orders", [])
        if orders:
            uow.audit(
                "demo.orders_generated",
                "order",
                f"{orders[0]['id']}-{orders[-1]['id']}",
                after={name: len(batch) for name, batch in rows.items() if batch},
            )
        uow.commit()


def _write_counters(session: Session, booked: BookedCounters) -> None:
    """The counters changed by the batch, as their ledger adds them up (the seeder is the
    only writer of these rows while it seeds)."""
    if booked.dirty_promotions:
        promotion: Table = Promotion.__table__  # type: ignore[assignment]
        quota: Table = FlashSaleQuota.__table__  # type: ignore[assignment]
        values = [
            {
                "promotion_key": key,
                "new_uses": booked.promotions[key][0],
                "new_discount": booked.promotions[key][1],
                "new_units": booked.promotions[key][2],
            }
            for key in sorted(booked.dirty_promotions)
        ]
        session.execute(
            update(promotion)
            .where(promotion.c.id == bindparam("promotion_key"))
            .values(
                redemptions_used=bindparam("new_uses"),
                discount_used_minor=bindparam("new_discount"),
            ),
            values,
        )
        session.execute(  # promotions without a unit quota have no row here
            update(quota)
            .where(quota.c.promotion_id == bindparam("promotion_key"))
            .values(sold_units=bindparam("new_units")),
            values,
        )
    if booked.dirty_coupons:
        coupon: Table = Coupon.__table__  # type: ignore[assignment]
        session.execute(
            update(coupon)
            .where(coupon.c.id == bindparam("coupon_key"))
            .values(used=bindparam("new_used")),
            [
                {"coupon_key": key, "new_used": booked.coupons[key]}
                for key in sorted(booked.dirty_coupons)
            ],
        )
    if booked.dirty_customers:
        usage: Table = CustomerUsage.__table__  # type: ignore[assignment]
        keys = sorted(booked.dirty_customers)
        new = [key for key in keys if key not in booked.written_customers]
        known = [key for key in keys if key in booked.written_customers]
        insert_rows(
            session,
            usage,
            [
                {
                    "subject": subject,
                    "subject_id": subject_id,
                    "customer_id": customer_id,
                    "uses": booked.customers[(subject, subject_id, customer_id)][0],
                    "units": booked.customers[(subject, subject_id, customer_id)][1],
                }
                for subject, subject_id, customer_id in new
            ],
        )
        if known:
            session.execute(
                update(usage)
                .where(
                    usage.c.subject == bindparam("usage_subject"),
                    usage.c.subject_id == bindparam("usage_subject_id"),
                    usage.c.customer_id == bindparam("usage_customer"),
                )
                .values(uses=bindparam("new_uses"), units=bindparam("new_units")),
                [
                    {
                        "usage_subject": subject,
                        "usage_subject_id": subject_id,
                        "usage_customer": customer_id,
                        "new_uses": booked.customers[(subject, subject_id, customer_id)][0],
                        "new_units": booked.customers[(subject, subject_id, customer_id)][1],
                    }
                    for subject, subject_id, customer_id in known
                ],
            )
        booked.written_customers.update(new)
    booked.dirty_promotions.clear()
    booked.dirty_coupons.clear()
    booked.dirty_customers.clear()

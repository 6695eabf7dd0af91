"""Bulk writing of simulated history: primary keys handed out up front, rows by table.

History is not news: rows go straight into the tables, with no outbox events
(no webhook, loyalty point or e-mail should follow a sale that "happened"
months ago) and one audit row per written batch instead of one per change.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, bindparam, func, select, update

from shopops.analytics.tracking_models import TrackedEvent, TrackedEventProduct
from shopops.bootstrap import Container
from shopops.contexts.fulfilment.models import Shipment, ShipmentLine, TrackingEvent
from shopops.contexts.inventory.models import Reservation, StockLevel, StockMovement
from shopops.contexts.orders.models import Order, OrderEvent, OrderLine, OrderTag
from shopops.contexts.payments.models import Payment, Refund
from shopops.contexts.returns.models import ReturnLine, ReturnRequest
from shopops.db.bulk import insert_rows, reserve_ids
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
) -> None:
    """One transaction: the batch's rows, the stock levels it changed, one audit row."""
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
        orders = rows.get("orders", [])
        if orders:
            uow.audit(
                "demo.orders_generated",
                "order",
                f"{orders[0]['id']}-{orders[-1]['id']}",
                after={name: len(batch) for name, batch in rows.items() if batch},
            )
        uow.commit()

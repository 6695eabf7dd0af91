"""A small store for fulfilment tests: two warehouses, paid orders, a frozen clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from shopops.adapters.carriers import SandboxCarrier
from shopops.auth.permissions import Role, permissions_for
from shopops.bootstrap import Container
from shopops.contexts import fulfilment, inventory, orders
from shopops.kernel.events import Actor
from shopops.kernel.time import FrozenClock
from tests.commerce import SYSTEM, add_skus, add_warehouse, guest_order

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@dataclass
class Store:
    container: Container
    clock: FrozenClock
    sh1: int  # warehouse ids
    bj1: int

    @property
    def carrier(self) -> SandboxCarrier:
        carrier = self.container.carrier
        assert isinstance(carrier, SandboxCarrier)
        return carrier

    def place(self, *lines: tuple[str, int], paid: bool = True) -> orders.Order:
        with self.container.uow(SYSTEM) as uow:
            order = orders.place_order(uow, guest_order(*lines))
            if paid:
                orders.mark_paid(
                    uow, order, captured_minor=order.total_minor, payment_reference="test"
                )
            uow.commit()
            return order

    def ship(
        self,
        order: orders.Order,
        warehouse_id: int,
        *,
        carrier: str = "ups",
        tracking: str | None = None,
        lines: dict[str, int] | None = None,
    ) -> fulfilment.ShipmentView:
        command = fulfilment.ShipOrder(
            order.id,
            warehouse_id,
            carrier,
            tracking,
            None if lines is None else tuple(fulfilment.ShipLine(s, q) for s, q in lines.items()),
        )
        return fulfilment.ship(lambda: self.container.uow(SYSTEM), self.carrier, command)

    def track(
        self, shipment_id: int, status: str, at: datetime, **fields: str
    ) -> fulfilment.TrackingResult:
        with self.container.uow(SYSTEM) as uow:
            result = fulfilment.record_tracking_event(
                uow, fulfilment.RecordTrackingEvent(shipment_id, status, at, **fields)
            )
            uow.commit()
            return result

    def order(self, order_id: int) -> orders.Order:
        """The order as stored now (detached, fully loaded)."""
        with self.container.session_factory() as session:
            order = session.get(orders.Order, order_id)
            assert order is not None
            return order

    def lines(self, order_id: int) -> dict[str, tuple[int, int]]:
        """sku -> (quantity, shipped_quantity)."""
        with self.container.session_factory() as session:
            return {
                line.sku: (line.quantity, line.shipped_quantity)
                for line in orders.lines_of(session, order_id)
            }

    def timeline(self, order_id: int) -> list[orders.OrderEvent]:
        with self.container.session_factory() as session:
            return list(
                session.scalars(
                    select(orders.OrderEvent)
                    .where(orders.OrderEvent.order_id == order_id)
                    .order_by(orders.OrderEvent.id)
                )
            )

    def movements(self, reference: str) -> list[tuple[str, int, str, int]]:
        """(sku, warehouse_id, kind, quantity) of the ledger entries for an order, oldest first."""
        with self.container.session_factory() as session:
            rows = inventory.list_movements(
                session, inventory.MovementFilter(reference=reference, limit=100)
            )
            return [(m.sku, m.warehouse_id, m.kind, m.quantity) for m in reversed(rows)]


def role_actor(role: Role) -> Actor:
    """An actor holding exactly the permissions of ``role`` (no user row needed)."""
    permissions = frozenset(str(p) for p in permissions_for(role))
    return Actor("user", 900, f"{role.value}@staff.example.com", permissions)


@pytest.fixture
def store(make_container: Callable[..., Container]) -> Store:
    """TEE (5 in SH1, 5 in BJ1) and MUG (2 in SH1, 3 in BJ1); SH1 is preferred."""
    clock = FrozenClock(START)
    container = make_container(clock=clock)
    add_skus(container, {"TEE": 1999, "MUG": 1250})
    sh1 = add_warehouse(container, "SH1", priority=10, stock={"TEE": 5, "MUG": 2})
    bj1 = add_warehouse(container, "BJ1", region="CN-BJ", priority=20, stock={"TEE": 5, "MUG": 3})
    return Store(container, clock, sh1, bj1)

"""A small shop on a frozen clock for presale tests: one SKU with stock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from shopops.audit.models import AuditEntry
from shopops.bootstrap import Container
from shopops.contexts import inventory, orders, payments, presales
from shopops.db.outbox import OutboxEvent
from shopops.kernel.time import FrozenClock
from shopops.uow import UnitOfWork
from tests.commerce import ADDRESS, SYSTEM, add_skus, add_warehouse
from tests.conftest import ContainerFactory

NOW = datetime(2026, 9, 1, 0, 0, tzinfo=UTC)
DEPOSIT_ENDS = NOW + timedelta(days=10)
BALANCE_ENDS = DEPOSIT_ENDS + timedelta(days=3)

TERMS: dict[str, Any] = {
    "name": "Autumn boots",
    "sku": "BOOT",
    "price": "299.00",
    "deposit": "50.00",
    "deposit_worth": "100.00",
    "deposit_starts_at": NOW - timedelta(hours=1),
    "deposit_ends_at": DEPOSIT_ENDS,
    "balance_starts_at": DEPOSIT_ENDS,
    "balance_ends_at": BALANCE_ENDS,
    "max_quantity": 2,
}


@dataclass
class Shop:
    container: Container
    clock: FrozenClock

    def run(self, work: Callable[[UnitOfWork], Any]) -> Any:
        with self.container.uow(SYSTEM) as uow:
            result = work(uow)
            uow.commit()
            return result

    def tx(self) -> Callable[[], UnitOfWork]:
        return lambda: self.container.uow(SYSTEM)

    def presale(self, **overrides: Any) -> int:
        command = presales.CreatePresale(**(TERMS | overrides))
        return int(self.run(lambda uow: presales.create_offer(uow, command).id))

    def place(self, presale_id: int, quantity: int = 1) -> orders.Order:
        command = presales.PlacePresaleOrder(
            presale_id,
            ADDRESS,
            guest=orders.GuestContact("guest@example.com"),
            quantity=quantity,
        )
        order: orders.Order = self.run(lambda uow: presales.place_order(uow, command))
        return order

    def pay(self, order_id: int) -> payments.Payment:
        return orders.pay_order(self.tx(), self.container.payment_gateway, order_id=order_id)

    def cancel(self, order_id: int) -> None:
        orders.cancel_and_refund(
            self.tx(), self.container.payment_gateway, order_id=order_id, reason="changed mind"
        )

    def performance(self, presale_id: int) -> presales.PresaleFigures:
        with self.container.uow(SYSTEM) as uow:
            return presales.offer_performance(uow, presale_id).figures

    def order(self, order_id: int) -> orders.Order:
        with self.container.uow(SYSTEM) as uow:
            return orders.get_order(uow, order_id)

    def timeline(self, order_id: int) -> list[tuple[str, dict[str, Any]]]:
        with self.container.uow(SYSTEM) as uow:
            detail = orders.order_detail(uow, order_id)
            return [(e.kind, dict(e.data)) for e in detail.timeline]

    def reserved(self) -> tuple[int, int]:
        """(reserved units, active reservations with an expiry)."""
        with self.container.session_factory() as session:
            rows = inventory.list_stock(session, inventory.StockFilter(sku="BOOT", limit=10))
            held = sum(level.reserved for level, _ in rows)
            expiring = session.scalar(
                select(func.count())
                .select_from(inventory.Reservation)
                .where(
                    inventory.Reservation.status == "active",
                    inventory.Reservation.expires_at.is_not(None),
                )
            )
            return held, int(expiring or 0)

    def events(self, event_type: str) -> list[dict[str, Any]]:
        with self.container.session_factory() as session:
            return list(
                session.scalars(
                    select(OutboxEvent.payload)
                    .where(OutboxEvent.event_type == event_type)
                    .order_by(OutboxEvent.id)
                )
            )

    def counts(self) -> dict[str, int]:
        tables = {
            "presales": presales.PresaleOffer,
            "orders": orders.Order,
            "payments": payments.Payment,
            "reservations": inventory.Reservation,
            "audit": AuditEntry,
            "events": OutboxEvent,
        }
        with self.container.session_factory() as session:
            return {
                name: int(session.scalar(select(func.count()).select_from(model)) or 0)
                for name, model in tables.items()
            }


def sell(shop: Shop) -> int:
    """A presale whose orders ended every way, at the end of its balance window once the
    close job ran: 1 and 2 units converted, 1 and 2 units forfeited, 1 unit cancelled
    after its deposit, 1 closed before paying one (test_service has the same figures)."""
    presale = shop.presale()
    converted = [shop.place(presale), shop.place(presale, quantity=2)]
    forfeited = [shop.place(presale), shop.place(presale, quantity=2)]
    cancelled = shop.place(presale)
    shop.place(presale)  # its deposit is never paid
    for order in [*converted, *forfeited, cancelled]:
        shop.pay(order.id)
    shop.cancel(cancelled.id)
    shop.clock.set(DEPOSIT_ENDS + timedelta(hours=1))
    for order in converted:
        shop.pay(order.id)
    shop.clock.set(BALANCE_ENDS)
    shop.run(orders.close_unpaid)
    return presale


@pytest.fixture
def shop(make_container: ContainerFactory) -> Shop:
    clock = FrozenClock(NOW)
    container = make_container(clock=clock)
    add_skus(container, {"BOOT": 32900})
    add_warehouse(container, "SH1", stock={"BOOT": 10})
    return Shop(container, clock)

"""A small shop on a frozen clock with registered customers, for the loyalty tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from shopops.audit.models import AuditEntry
from shopops.bootstrap import Container
from shopops.contexts import customers, loyalty, orders
from shopops.db.outbox import OutboxDelivery, OutboxEvent
from shopops.kernel.events import Actor
from shopops.kernel.time import FrozenClock
from shopops.uow import UnitOfWork
from tests.commerce import ADDRESS, SYSTEM, add_skus, add_warehouse
from tests.conftest import ContainerFactory

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
PRICES = {"TEE": 2000, "MUG": 1250, "CAP": 999}


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@dataclass
class Shop:
    container: Container
    clock: FrozenClock
    _customers: int = 0

    def tx(self, actor: Actor = SYSTEM) -> Callable[[], UnitOfWork]:
        return lambda: self.container.uow(actor)

    def customer(self) -> int:
        self._customers += 1
        with self.container.uow(SYSTEM) as uow:
            view = customers.register_customer(
                uow, customers.RegisterCustomer(email=f"buyer{self._customers}@example.com")
            )
            uow.commit()
            return view.id

    def place(self, customer_id: int | None, *lines: tuple[str, int]) -> orders.Order:
        command = orders.PlaceOrder(
            lines=tuple(orders.OrderLineRequest(sku, q) for sku, q in lines),
            shipping_address=ADDRESS,
            channel="web",
            customer_id=customer_id,
            guest=None if customer_id else orders.GuestContact(email="guest@example.com"),
        )
        with self.container.uow(SYSTEM) as uow:
            order = orders.place_order(uow, command)
            uow.commit()
            uow.session.expunge(order)
            return order

    def mark_paid(self, order_id: int) -> None:
        with self.container.uow(SYSTEM) as uow:
            order = orders.get_order(uow, order_id, for_update=True)
            orders.mark_paid(uow, order, captured_minor=order.total_minor, payment_reference="t")
            uow.commit()

    def buy(self, customer_id: int | None, *lines: tuple[str, int]) -> orders.Order:
        """Place and pay (without the gateway: no refunds possible)."""
        order = self.place(customer_id, *lines)
        self.mark_paid(order.id)
        return order

    def pay(self, order_id: int) -> None:
        """Pay through the sandbox gateway, so the order can be refunded later."""
        orders.pay_order(self.tx(), self.container.payment_gateway, order_id=order_id)

    def deliver(self, order_id: int) -> None:
        with self.container.uow(SYSTEM) as uow:
            order = orders.get_order(uow, order_id, for_update=True)
            orders.transition(uow, order, orders.OrderStatus.SHIPPED)
            orders.transition(uow, order, orders.OrderStatus.DELIVERED)
            uow.commit()

    def run(self, work: Callable[[UnitOfWork], Any], actor: Actor = SYSTEM) -> Any:
        with self.container.uow(actor) as uow:
            result = work(uow)
            uow.commit()
            return result

    def program(self, **changes: Any) -> None:
        self.run(lambda uow: loyalty.update_program(uow, loyalty.UpdateProgram(**changes)))

    def tiers(self, *tiers: loyalty.TierSpec) -> None:
        self.run(lambda uow: loyalty.replace_tiers(uow, loyalty.ReplaceTiers(tiers)))

    def account(self, customer_id: int) -> loyalty.AccountView:
        with self.container.uow(SYSTEM) as uow:
            return loyalty.get_account(uow, customer_id)

    def balance(self, customer_id: int) -> int:
        return self.account(customer_id).balance

    def ledger(self, customer_id: int) -> list[tuple[str, int, int | None, int | None]]:
        """(kind, points, remaining, lot_id) oldest first."""
        with self.container.uow(SYSTEM) as uow:
            rows = loyalty.list_ledger(uow, customer_id, limit=500)
            return [(e.kind, e.points, e.remaining, e.lot_id) for e in reversed(rows)]

    def books_agree(self, customer_id: int) -> None:
        with self.container.uow(SYSTEM) as uow:
            account = loyalty.get_account(uow, customer_id)
            found = uow.session.scalars(
                select(loyalty.PointsAccount).where(
                    loyalty.PointsAccount.customer_id == customer_id
                )
            ).one()
            assert loyalty.ledger_totals(uow.session, found.id) == (
                account.balance,
                account.balance,
            )

    def events(self, event_type: str) -> list[dict[str, Any]]:
        with self.container.session_factory() as session:
            return list(
                session.scalars(
                    select(OutboxEvent.payload)
                    .where(OutboxEvent.event_type == event_type)
                    .order_by(OutboxEvent.id)
                )
            )

    def failed_deliveries(self) -> list[tuple[str, str | None]]:
        with self.container.session_factory() as session:
            return [
                (d.handler, d.last_error)
                for d in session.scalars(
                    select(OutboxDelivery).where(OutboxDelivery.last_error.is_not(None))
                )
            ]

    def snapshot(self) -> dict[str, Any]:
        """Every loyalty row, and the counts of audit rows and events."""
        with self.container.session_factory() as session:

            def rows(model: Any) -> list[tuple[Any, ...]]:
                table = model.__table__
                return [tuple(r) for r in session.execute(select(table).order_by(table.c.id))]

            return {
                "accounts": rows(loyalty.PointsAccount),
                "ledger": rows(loyalty.PointsEntry),
                "credits": rows(loyalty.OrderCredit),
                "audit": session.scalar(select(func.count()).select_from(AuditEntry)),
                "outbox": session.scalar(select(func.count()).select_from(OutboxEvent)),
            }


@pytest.fixture
def shop(make_container: ContainerFactory, clock: FrozenClock) -> Shop:
    container = make_container(clock=clock)
    add_skus(container, PRICES)
    add_warehouse(container, "SH1", stock=dict.fromkeys(PRICES, 1000))
    return Shop(container, clock)

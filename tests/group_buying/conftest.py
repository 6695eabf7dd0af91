"""A small shop on a frozen clock for group-buy tests: one SKU, stock, customers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from shopops.audit.models import AuditEntry
from shopops.bootstrap import Container
from shopops.contexts import customers, group_buying, inventory, orders
from shopops.db.outbox import OutboxEvent
from shopops.kernel.time import FrozenClock
from shopops.uow import UnitOfWork
from tests.commerce import ADDRESS, SYSTEM, add_skus, add_warehouse
from tests.conftest import ContainerFactory

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


@dataclass
class Shop:
    container: Container
    clock: FrozenClock
    warehouse_id: int
    customers: list[int] = field(default_factory=list)

    def run(self, work: Callable[[UnitOfWork], Any]) -> Any:
        with self.container.uow(SYSTEM) as uow:
            result = work(uow)
            uow.commit()
            return result

    def tx(self) -> Callable[[], UnitOfWork]:
        return lambda: self.container.uow(SYSTEM)

    def customer(self) -> int:
        number = len(self.customers) + 1
        customer_id = self.run(
            lambda uow: (
                customers.register_customer(
                    uow, customers.RegisterCustomer(email=f"buyer{number}@example.com")
                ).id
            )
        )
        self.customers.append(customer_id)
        return int(customer_id)

    def offer(self, **overrides: Any) -> int:
        terms: dict[str, Any] = {
            "name": "Three for 59.90",
            "sku": "TEA",
            "group_price": "59.90",
            "group_size": 3,
            "duration_minutes": 24 * 60,
            "starts_at": NOW - timedelta(hours=1),
            "ends_at": NOW + timedelta(days=7),
        }
        terms.update(overrides)
        command = group_buying.CreateGroupBuyOffer(**terms)
        return int(self.run(lambda uow: group_buying.create_offer(uow, command).id))

    def join(
        self, offer_id: int, customer_id: int | None, group_id: int | None = None, quantity: int = 1
    ) -> group_buying.JoinResult:
        command = group_buying.JoinGroupBuy(
            offer_id, customer_id, ADDRESS, group_id=group_id, quantity=quantity
        )
        result: group_buying.JoinResult = self.run(lambda uow: group_buying.join(uow, command))
        return result

    def pay(self, order_id: int) -> None:
        orders.pay_order(self.tx(), self.container.payment_gateway, order_id=order_id)

    def group(self, group_id: int) -> group_buying.GroupDetail:
        with self.container.uow(SYSTEM) as uow:
            detail = group_buying.get_group(uow, group_id)
            return detail

    def performance(self, offer_id: int) -> group_buying.GroupBuyFigures:
        with self.container.uow(SYSTEM) as uow:
            return group_buying.offer_performance(uow, offer_id).figures

    def order(self, order_id: int) -> orders.Order:
        with self.container.uow(SYSTEM) as uow:
            return orders.get_order(uow, order_id)

    def expire(self) -> group_buying.ExpiryRun:
        return group_buying.expire_groups(self.tx(), self.container.payment_gateway)

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
            "offers": group_buying.GroupBuyOffer,
            "groups": group_buying.BuyingGroup,
            "members": group_buying.GroupMember,
            "orders": orders.Order,
            "reservations": inventory.Reservation,
            "audit": AuditEntry,
            "events": OutboxEvent,
        }
        with self.container.session_factory() as session:
            return {
                name: int(session.scalar(select(func.count()).select_from(model)) or 0)
                for name, model in tables.items()
            }

    def reserved(self) -> int:
        with self.container.session_factory() as session:
            rows = inventory.list_stock(session, inventory.StockFilter(sku="TEA", limit=10))
            return sum(level.reserved for level, _ in rows)


def sell(shop: Shop) -> int:
    """An offer for groups of two, open for an hour, at 59.90 instead of 99.90: one group
    filled (2 units + 1 unit), one failed (its paid opener refunded, a member who left
    unpaid, one cancelled unpaid), one still open (test_service has the figures)."""
    offer = shop.offer(group_size=2, duration_minutes=60, max_quantity=2)
    buyers = [shop.customer() for _ in range(6)]
    filled = shop.join(offer, buyers[0], quantity=2)
    second = shop.join(offer, buyers[1], filled.detail.group.id)
    shop.pay(filled.order.id)
    shop.pay(second.order.id)
    failing = shop.join(offer, buyers[2])
    group_id = failing.detail.group.id
    shop.pay(failing.order.id)
    shop.join(offer, buyers[3], group_id)  # never pays: closed after 30 minutes, leaves
    shop.clock.advance(timedelta(minutes=31))
    shop.run(orders.close_unpaid)
    shop.clock.advance(timedelta(minutes=9))
    shop.join(offer, buyers[4], group_id)  # takes the free place, never pays
    shop.clock.advance(timedelta(minutes=21))  # the failing group expired a minute ago
    shop.expire()
    shop.join(offer, buyers[5])
    return offer


def build_shop(container: Container, clock: FrozenClock) -> Shop:
    add_skus(container, {"TEA": 9990})  # 99.90 USD
    warehouse_id = add_warehouse(container, "SH1", stock={"TEA": 50})
    return Shop(container, clock, warehouse_id)


@pytest.fixture
def shop(make_container: ContainerFactory) -> Shop:
    clock = FrozenClock(NOW)
    return build_shop(make_container(clock=clock), clock)

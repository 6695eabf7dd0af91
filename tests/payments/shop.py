"""Shared test helpers for payments and returns: a small shop, orders, payments, snapshots."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from shopops.adapters.payments import Operation, PaymentGateway, SandboxGateway
from shopops.audit.models import AuditEntry
from shopops.bootstrap import Container
from shopops.contexts import inventory, orders, payments, returns
from shopops.db.outbox import OutboxEvent
from shopops.kernel.events import Actor
from shopops.uow import UnitOfWork
from tests.commerce import SYSTEM, add_skus, add_warehouse, guest_order

PRICES = {"TEE": 2000, "MUG": 1250, "CAP": 999}


class GuardedGateway:
    """Delegates to the sandbox, failing the test if a database connection is checked
    out during a gateway call (i.e. a transaction is open around the network call)."""

    def __init__(self, inner: SandboxGateway, engine: Engine) -> None:
        self.inner = inner
        self.engine = engine
        self.name = inner.name
        self.checked: list[str] = []

    def _guard(self, operation: str) -> None:
        open_connections = self.engine.pool.checkedout()  # type: ignore[attr-defined]
        assert open_connections == 0, f"{operation} called with a connection checked out"
        self.checked.append(operation)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if name not in {op.value for op in Operation}:
            return attribute

        def call(**kwargs: Any) -> Any:
            self._guard(name)
            return attribute(**kwargs)

        return call


@dataclass
class Shop:
    container: Container
    sandbox: SandboxGateway
    warehouse_id: int

    @property
    def gateway(self) -> PaymentGateway:
        return self.container.payment_gateway

    def tx(self, actor: Actor = SYSTEM) -> Callable[[], UnitOfWork]:
        return lambda: self.container.uow(actor)

    def place(self, *lines: tuple[str, int]) -> int:
        with self.container.uow(SYSTEM) as uow:
            order = orders.place_order(uow, guest_order(*lines))
            uow.commit()
            return order.id

    def pay(self, order_id: int, source: str = "tok_visa") -> payments.Payment:
        return orders.pay_order(self.tx(), self.gateway, order_id=order_id, source=source)

    def refund(self, order_id: int, actor: Actor = SYSTEM, **kwargs: Any) -> payments.Refund:
        kwargs.setdefault("reason", "customer request")
        return orders.refund_order(self.tx(actor), self.gateway, order_id=order_id, **kwargs)

    def order(self, order_id: int) -> orders.Order:
        with self.container.uow(SYSTEM) as uow:
            order = orders.get_order(uow, order_id)
            uow.session.expunge(order)
            return order

    def lines(self, order_id: int) -> list[orders.OrderLine]:
        with self.container.session_factory() as session:
            found = list(orders.lines_of(session, order_id))
            session.expunge_all()
            return found

    def timeline(self, order_id: int) -> list[str]:
        with self.container.uow(SYSTEM) as uow:
            return [e.kind for e in orders.order_detail(uow, order_id).timeline]

    def ship(self, order_id: int) -> None:
        """Ship everything (fulfilment is someone else's; this is the minimal effect)."""
        with self.container.uow(SYSTEM) as uow:
            order = orders.get_order(uow, order_id, for_update=True)
            inventory.consume(uow, order.number, self.warehouse_id)
            for line in orders.lines_of(uow.session, order_id):
                line.shipped_quantity = line.quantity
            orders.transition(uow, order, orders.OrderStatus.SHIPPED)
            uow.commit()


def open_shop(container: Container) -> Shop:
    add_skus(container, PRICES)
    warehouse_id = add_warehouse(container, "SH1", stock=dict.fromkeys(PRICES, 100))
    sandbox = cast(SandboxGateway, container.payment_gateway)
    container.payment_gateway = cast(PaymentGateway, GuardedGateway(sandbox, container.engine))
    return Shop(container, sandbox, warehouse_id)


def count(container: Container, model: Any, *where: Any) -> int:
    with container.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def events(container: Container, event_type: str) -> list[dict[str, Any]]:
    with container.session_factory() as session:
        rows = session.scalars(
            select(OutboxEvent.payload)
            .where(OutboxEvent.event_type == event_type)
            .order_by(OutboxEvent.id)
        )
        return list(rows)


def snapshot(container: Container) -> dict[str, Any]:
    """Everything a refused command must leave untouched."""
    with container.session_factory() as session:

        def rows(model: Any, *columns: Any) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in session.execute(select(*columns).order_by(model.id))]

        P, R, Ord, L = payments.Payment, payments.Refund, orders.Order, orders.OrderLine
        return {
            "payments": rows(
                P, P.id, P.status, P.captured_minor, P.refunded_minor, P.refund_pending_minor
            ),
            "refunds": rows(R, R.id, R.status, R.amount_minor),
            "orders": rows(
                Ord, Ord.id, Ord.status, Ord.payment_status, Ord.captured_minor, Ord.refunded_minor
            ),
            "lines": rows(L, L.id, L.refunded_minor, L.returned_quantity),
            "returns": rows(
                returns.ReturnRequest, returns.ReturnRequest.id, returns.ReturnRequest.status
            ),
            "timeline": session.scalar(select(func.count()).select_from(orders.OrderEvent)),
            "audit": session.scalar(select(func.count()).select_from(AuditEntry)),
            "outbox": session.scalar(select(func.count()).select_from(OutboxEvent)),
            "notifications": session.scalar(
                select(func.count()).select_from(payments.PaymentNotification)
            ),
        }

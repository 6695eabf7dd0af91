"""A Hypothesis state machine drives random sequences through the whole commerce loop.

place / pay / cancel / expire / ship / return / refund / adjust / transfer, in any
order, and after every step the books must hold: no negative availability, on
hand equals the ledger, reserved equals the active reservations, refunds never
exceed captures, every order in a legal state.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import partial

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from shopops.bootstrap import Container
from shopops.contexts import fulfilment, inventory, orders, payments, returns
from shopops.kernel.errors import DomainError
from shopops.kernel.time import FrozenClock
from tests.commerce import SYSTEM, add_skus, add_warehouse, guest_order
from tests.conftest import _truncate

SKUS = ("TEE", "MUG")
LEGAL = {status.value for status in orders.OrderStatus}


class CommerceMachine(RuleBasedStateMachine):
    container: Container
    clock: FrozenClock
    done: Counter[str]  # successful moves across all examples
    refused: Counter[str]

    def __init__(self) -> None:
        super().__init__()
        _truncate(self.container.engine)
        add_skus(self.container, {"TEE": 2000, "MUG": 1250})
        self.warehouses = [
            add_warehouse(self.container, "SH1", stock={"TEE": 6, "MUG": 4}),
            add_warehouse(self.container, "BJ1", region="CN-BJ", priority=20, stock={"TEE": 3}),
        ]
        self.orders: list[int] = []
        # Start from a lived-in store: one paid order and one shipped order.
        for sku in SKUS:
            with self.uow() as uow:
                order = orders.place_order(uow, guest_order((sku, 2)))
                uow.commit()
            self.orders.append(order.id)
            orders.pay_order(self.uow, self.container.payment_gateway, order_id=order.id)
        fulfilment.ship(
            self.uow,
            self.container.carrier,
            fulfilment.ShipOrder(self.orders[0], self.warehouses[0], "sandbox"),
        )

    def uow(self):  # type: ignore[no-untyped-def]
        return self.container.uow(SYSTEM)

    def pick(self, data: st.DataObject, *statuses: str) -> int | None:
        """Mostly an order where the move makes sense; sometimes any order (to be refused)."""
        if not self.orders:
            return None
        candidates = self.orders
        if data.draw(st.integers(0, 3)) > 0:
            with self.container.session_factory() as session:
                candidates = (
                    list(
                        session.scalars(
                            select(orders.Order.id)
                            .where(orders.Order.status.in_(statuses))
                            .order_by(orders.Order.id)
                        )
                    )
                    or self.orders
                )
        return data.draw(st.sampled_from(candidates))

    def attempt(self, name: str, action) -> object:  # type: ignore[no-untyped-def]
        """Business refusals are expected moves; anything else fails the test."""
        try:
            result = action()
        except DomainError as error:
            event(f"{name}: refused ({error.code})")
            self.refused[f"{name}:{error.code}"] += 1
            return None
        event(f"{name}: done")
        self.done[name] += 1
        return result

    # --- moves ---

    @rule(sku=st.sampled_from(SKUS), quantity=st.integers(1, 4), split=st.booleans())
    def place(self, sku: str, quantity: int, split: bool) -> None:
        def act() -> None:
            with self.uow() as uow:
                order = orders.place_order(uow, guest_order((sku, quantity), allow_split=split))
                uow.commit()
                self.orders.append(order.id)

        self.attempt("place", act)

    @rule(sku=st.sampled_from(SKUS), quantity=st.integers(1, 3))
    def checkout(self, sku: str, quantity: int) -> None:
        """Place and pay at once, as most buyers do."""
        before = len(self.orders)
        self.place(sku, quantity, True)
        if len(self.orders) > before:
            pay = partial(
                orders.pay_order, self.uow, self.container.payment_gateway, order_id=self.orders[-1]
            )
            self.attempt("pay", pay)

    @rule(data=st.data())
    def pay(self, data: st.DataObject) -> None:
        order_id = self.pick(data, "pending_payment")
        if order_id is not None:
            self.attempt(
                "pay",
                partial(
                    orders.pay_order, self.uow, self.container.payment_gateway, order_id=order_id
                ),
            )

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        order_id = self.pick(data, "pending_payment", "paid")
        if order_id is not None:
            self.attempt(
                "cancel",
                partial(
                    orders.cancel_and_refund,
                    self.uow,
                    self.container.payment_gateway,
                    order_id=order_id,
                    reason="changed mind",
                ),
            )

    @rule()
    def expire(self) -> None:
        self.clock.advance(timedelta(minutes=40))
        with self.uow() as uow:
            orders.close_unpaid(uow)
            inventory.release_expired(uow)
            uow.commit()

    @rule(data=st.data(), warehouse=st.integers(0, 1))
    def ship(self, data: st.DataObject, warehouse: int) -> None:
        order_id = self.pick(data, "paid", "partially_shipped")
        if order_id is not None:
            command = fulfilment.ShipOrder(order_id, self.warehouses[warehouse], "sandbox")
            self.attempt(
                "ship", partial(fulfilment.ship, self.uow, self.container.carrier, command)
            )

    @rule(data=st.data(), restock=st.booleans())
    def return_and_refund(self, data: st.DataObject, restock: bool) -> None:
        order_id = self.pick(data, "partially_shipped", "shipped")
        if order_id is None:
            return

        def act() -> None:
            with self.uow() as uow:
                lines = [
                    line
                    for line in orders.lines_of(uow.session, order_id)
                    if line.shipped_quantity > line.returned_quantity
                ]
                if not lines:
                    raise DomainError("test.nothing_to_return", "nothing shipped to return")
                requested = returns.request_return(
                    uow,
                    returns.RequestReturn(
                        order_id, (returns.ReturnLineRequest(lines[0].id, 1, "damaged"),)
                    ),
                )
                return_id = requested.request.id
                returns.approve_return(uow, return_id)
                return_line = requested.lines[0].id
                uow.commit()
            with self.uow() as uow:
                returns.receive_return(
                    uow,
                    returns.ReceiveReturn(
                        return_id,
                        (
                            returns.LineReceipt(
                                return_line,
                                "restock" if restock else "write_off",
                                self.warehouses[0] if restock else None,
                            ),
                        ),
                    ),
                )
                uow.commit()
            returns.refund_return(self.uow, self.container.payment_gateway, return_id=return_id)

        self.attempt("return", act)

    @rule(data=st.data(), cents=st.integers(1, 5000))
    def refund(self, data: st.DataObject, cents: int) -> None:
        order_id = self.pick(data, "paid", "partially_shipped", "shipped")
        if order_id is not None:
            self.attempt(
                "refund",
                partial(
                    orders.refund_order,
                    self.uow,
                    self.container.payment_gateway,
                    order_id=order_id,
                    reason="goodwill",
                    amount_minor=cents,
                ),
            )

    @rule(sku=st.sampled_from(SKUS), warehouse=st.integers(0, 1), delta=st.integers(-3, 3))
    def adjust(self, sku: str, warehouse: int, delta: int) -> None:
        def act() -> None:
            with self.uow() as uow:
                inventory.adjust_stock(
                    uow,
                    inventory.AdjustStock(self.warehouses[warehouse], sku, delta, "shelf check"),
                )
                uow.commit()

        self.attempt("adjust", act)

    @rule(sku=st.sampled_from(SKUS), source=st.integers(0, 1), quantity=st.integers(1, 3))
    def transfer(self, sku: str, source: int, quantity: int) -> None:
        def act() -> None:
            with self.uow() as uow:
                inventory.transfer_stock(
                    uow,
                    inventory.TransferStock(
                        self.warehouses[source], self.warehouses[1 - source], {sku: quantity}
                    ),
                )
                uow.commit()

        self.attempt("transfer", act)

    # --- what must always hold ---

    @invariant()
    def books_agree(self) -> None:
        with self.container.session_factory() as session:
            for level in session.scalars(select(inventory.StockLevel)):
                assert 0 <= level.reserved <= level.on_hand, level.sku
                held = session.scalar(
                    select(func.coalesce(func.sum(inventory.Reservation.quantity), 0)).where(
                        inventory.Reservation.sku == level.sku,
                        inventory.Reservation.warehouse_id == level.warehouse_id,
                        inventory.Reservation.status == "active",
                    )
                )
                assert held == level.reserved, (level.sku, level.warehouse_id)
            assert inventory.ledger_discrepancies(session) == []

    @invariant()
    def money_agrees(self) -> None:
        with self.container.session_factory() as session:
            for payment in session.scalars(select(payments.Payment)):
                assert 0 <= payment.refunded_minor <= payment.captured_minor
            for order in session.scalars(select(orders.Order)):
                assert order.status in LEGAL
                assert 0 <= order.refunded_minor <= order.captured_minor <= order.total_minor
                refunded_lines = sum(
                    line.refunded_minor for line in orders.lines_of(session, order.id)
                )
                assert refunded_lines == order.refunded_minor


def test_commerce_state_machine(make_container) -> None:  # type: ignore[no-untyped-def]
    clock = FrozenClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    container = make_container(clock=clock)

    class Machine(CommerceMachine):
        pass

    Machine.container = container
    Machine.clock = clock
    Machine.done = Counter()
    Machine.refused = Counter()
    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=30,
            stateful_step_count=30,
            deadline=None,
            derandomize=True,  # the same sequences on every run: no flaky CI
            suppress_health_check=list(HealthCheck),
        ),
    )
    # The machine really went round the loop, not only through refusals.
    for move in ("place", "pay", "cancel", "ship", "return", "refund", "adjust", "transfer"):
        assert Machine.done[move] > 0, (move, Machine.done, Machine.refused)

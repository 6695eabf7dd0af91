"""200 buyers race for 50 units: exactly 50 orders, the rest a clear error, books agree."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from shopops.bootstrap import Container
from shopops.contexts import inventory, orders
from shopops.kernel.errors import DomainError
from tests.commerce import SYSTEM, add_skus, add_warehouse, guest_order, stock_of

BUYERS = 200
UNITS = 50


@pytest.fixture
def hot_item(make_container) -> Container:
    # Inline draining would serialise buyers on the outbox; production drains in a worker.
    container = make_container(outbox_inline=False, database_pool_size=40)
    add_skus(container, {"HOT": 9900})
    add_warehouse(container, "SH1", stock={"HOT": 30})
    add_warehouse(container, "BJ1", region="CN-BJ", priority=20, stock={"HOT": 20})
    return container


def _assert_books_agree(container: Container, placed: int) -> None:
    levels = stock_of(container, "HOT")
    assert sum(on_hand for _, on_hand, _ in levels) == UNITS
    assert sum(reserved for _, _, reserved in levels) == placed
    with container.session_factory() as session:
        assert inventory.ledger_discrepancies(session) == []
        held = session.scalar(
            select(func.coalesce(func.sum(inventory.Reservation.quantity), 0)).where(
                inventory.Reservation.status == "active"
            )
        )
        assert held == placed
        assert session.scalar(select(func.count()).select_from(orders.Order)) == placed


def _race(work) -> Counter[str]:
    start = threading.Barrier(min(BUYERS, 50))
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def buyer(_: int) -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            start.wait(timeout=30)
        try:
            work()
            result = "placed"
        except DomainError as error:
            result = error.code
        with lock:
            outcomes[result] += 1

    with ThreadPoolExecutor(max_workers=50) as pool:
        list(pool.map(buyer, range(BUYERS)))
    return outcomes


def test_one_transaction_per_order_never_oversells(hot_item: Container) -> None:
    def buy() -> None:
        with hot_item.uow(SYSTEM) as uow:
            orders.place_order(uow, guest_order(("HOT", 1)))
            uow.commit()

    outcomes = _race(buy)
    assert outcomes == Counter({"placed": UNITS, "inventory.insufficient_stock": BUYERS - UNITS})
    _assert_books_agree(hot_item, UNITS)


def test_group_commit_never_oversells(hot_item: Container) -> None:
    def buy() -> None:
        request = orders.PlacementRequest(guest_order(("HOT", 1)), SYSTEM)
        hot_item.order_placer.submit(request).result(timeout=60)

    outcomes = _race(buy)
    assert outcomes == Counter({"placed": UNITS, "inventory.insufficient_stock": BUYERS - UNITS})
    _assert_books_agree(hot_item, UNITS)
    assert hot_item.order_placer.batches < BUYERS  # buyers really shared transactions

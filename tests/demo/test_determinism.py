"""Same seed, same store; and the history can be left out."""

from __future__ import annotations

import hashlib

from sqlalchemy import text

from shopops.bootstrap import Container
from shopops.demo.generator import DemoSize, seed_demo
from tests.conftest import ContainerFactory, _truncate
from tests.demo.test_history import END


def _count(container: Container, table: str) -> int:
    with container.engine.connect() as connection:
        return int(connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


def _digest(container: Container) -> str:
    with container.engine.connect() as connection:
        rows = list(
            connection.execute(
                text(
                    "SELECT number, status, total_minor, refunded_minor, placed_at "
                    "FROM orders ORDER BY id"
                )
            )
        )
        stock = list(
            connection.execute(
                text("SELECT sku, warehouse_id, on_hand, reserved FROM stock_levels")
            )
        )
    return hashlib.sha256(repr((rows, sorted(stock))).encode()).hexdigest()


def test_same_seed_same_store(make_container: ContainerFactory) -> None:
    container = make_container()
    size = DemoSize(customers=80, days=20, seed=11)
    seed_demo(container, size, now=END)
    first = _digest(container)
    _truncate(container.engine)
    seed_demo(container, size, now=END)
    assert _digest(container) == first


def test_history_can_be_left_out(make_container: ContainerFactory) -> None:
    container = make_container()
    seed_demo(container, DemoSize(customers=50, days=10, orders=False), now=END)
    assert _count(container, "orders") == 0
    assert _count(container, "customers") == 50

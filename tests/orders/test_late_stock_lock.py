"""Batched checkout with the stock rows locked at commit (``lock_stock_late``).

The plan is made on a plain read; the stock rows are locked after every other row of
the batch is written and the plan is checked against them. If it no longer fits, the
commit fails with ``StockPlanOutdated``, nothing of the batch stays, and the order
placer places the batch again with the rows locked from the start.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, text

from shopops.bootstrap import Container
from shopops.contexts import inventory, orders
from shopops.db.outbox import OutboxEvent
from tests.commerce import SYSTEM, add_skus, add_warehouse, guest_order, stock_of


@pytest.fixture
def store(make_container) -> Container:
    container = make_container(outbox_inline=False)
    add_skus(container, {"MUG": 1500})
    add_warehouse(container, "SH1", stock={"MUG": 5})
    with container.uow(SYSTEM) as uow:
        inventory.set_threshold(uow, inventory.SetThreshold("MUG", 2))
        uow.commit()
    return container


def _requests(*quantities: int) -> list[orders.PlacementRequest]:
    return [orders.PlacementRequest(guest_order(("MUG", q)), SYSTEM) for q in quantities]


def _counts(container: Container) -> dict[str, Any]:
    stock = [(on_hand, reserved) for _, on_hand, reserved in stock_of(container, "MUG")]
    with container.session_factory() as session:
        return {
            "orders": session.scalar(select(func.count()).select_from(orders.Order)),
            "reservations": session.scalar(select(func.count()).select_from(inventory.Reservation)),
            "alerts": sorted(
                session.scalars(
                    select(OutboxEvent.event_type).where(
                        OutboxEvent.event_type.in_(["stock.low", "stock.out"])
                    )
                )
            ),
            "stock": stock,
        }


def test_a_late_locked_batch_reserves_and_alerts_like_a_locked_one(store: Container) -> None:
    with store.uow(SYSTEM) as uow:
        results = orders.place_orders(uow, _requests(2, 1), lock_stock_late=True)
        uow.commit()
    assert all(isinstance(r, orders.PlacedOrder) for r in results)
    after = _counts(store)
    assert after["orders"] == 2
    assert after["reservations"] == 2
    assert after["stock"] == [(5, 3)]
    assert after["alerts"] == ["stock.low"]  # 5 -> 2 available crosses the line of 2
    with store.session_factory() as session:
        assert inventory.ledger_discrepancies(session) == []


def test_a_refusal_is_never_decided_on_an_unlocked_read(store: Container) -> None:
    before = _counts(store)
    with store.uow(SYSTEM) as uow, pytest.raises(inventory.StockPlanOutdated):
        orders.place_orders(uow, _requests(4, 4), lock_stock_late=True)
    assert _counts(store) == before
    # The order placer then plans with the rows locked: one placed, one refused.
    results = [
        store.order_placer.submit(request)
        for request in _requests(4, 4)  # submitted together: may share one batch
    ]
    outcomes = []
    for future in results:
        try:
            future.result(timeout=30)
            outcomes.append("placed")
        except inventory.InsufficientStock as error:
            outcomes.append(error.code)
    assert sorted(outcomes) == ["inventory.insufficient_stock", "placed"]
    assert _counts(store)["stock"] == [(5, 4)]


@pytest.mark.postgres_only
def test_stock_taken_meanwhile_fails_the_commit_and_leaves_nothing(store: Container) -> None:
    """Another transaction reserves after the plan was read and before the commit."""
    before = _counts(store)
    with store.uow(SYSTEM) as uow:
        orders.place_orders(uow, _requests(3), lock_stock_late=True)
        with store.engine.begin() as other:  # commits while the batch is still open
            other.execute(text("UPDATE stock_levels SET reserved = reserved + 4"))
        with pytest.raises(inventory.StockPlanOutdated):
            uow.commit()
    after = _counts(store)
    assert after["orders"] == before["orders"] == 0
    assert after["reservations"] == 0
    assert after["stock"] == [(5, 4)]


@pytest.mark.postgres_only
def test_the_order_placer_places_again_with_the_rows_locked(
    store: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first, late-locked try is outdated by a concurrent reservation; the placer's
    second try plans on locked rows and refuses the order for stock."""
    place = orders.place_orders
    tries: list[bool] = []

    def racing(uow: Any, requests: Any, *, lock_stock_late: bool = False) -> Any:
        tries.append(lock_stock_late)
        result = place(uow, requests, lock_stock_late=lock_stock_late)
        if lock_stock_late:
            with store.engine.begin() as other:
                other.execute(text("UPDATE stock_levels SET reserved = reserved + 4"))
        return result

    monkeypatch.setattr(orders, "place_orders", racing)
    future = store.order_placer.submit(_requests(3)[0])
    with pytest.raises(inventory.InsufficientStock):
        future.result(timeout=30)
    assert tries == [True, False]
    assert _counts(store)["orders"] == 0
    assert _counts(store)["stock"] == [(5, 4)]

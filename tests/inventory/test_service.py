"""Inventory use cases against a real database: stock moves, the ledger, alerts, bad input."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select, text

from shopops.audit.models import AuditEntry
from shopops.bootstrap import Container
from shopops.contexts import inventory
from shopops.db.outbox import OutboxEvent
from shopops.kernel.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from shopops.kernel.events import Actor
from tests.commerce import SYSTEM, add_skus, add_warehouse, stock_of

READ_ONLY = Actor("user", 77, "analyst@example.com", frozenset({"inventory.read"}))


@pytest.fixture
def store(container: Container) -> Container:
    add_skus(container, {"TEE-S": 1999, "MUG": 1250})
    add_warehouse(container, "SH1", region="CN-SH", priority=10)
    add_warehouse(container, "BJ1", region="CN-BJ", priority=20)
    return container


def warehouse_id(container: Container, code: str) -> int:
    with container.uow(SYSTEM) as uow:
        return inventory.get_warehouse_by_code(uow, code).id


def run(
    container: Container, use_case: Callable[..., Any], *args: Any, actor: Actor = SYSTEM
) -> Any:
    with container.uow(actor) as uow:
        result = use_case(uow, *args)
        uow.commit()
        return result


def snapshot(container: Container) -> dict[str, Any]:
    """Everything a failed command must leave untouched."""
    with container.session_factory() as session:
        levels = session.execute(
            select(
                inventory.StockLevel.sku,
                inventory.StockLevel.warehouse_id,
                inventory.StockLevel.on_hand,
                inventory.StockLevel.reserved,
            ).order_by(inventory.StockLevel.id)
        ).all()
        return {
            "levels": [tuple(row) for row in levels],
            "movements": session.scalar(select(func.count()).select_from(inventory.StockMovement)),
            "events": session.scalar(select(func.count()).select_from(OutboxEvent)),
            "audit": session.scalar(select(func.count()).select_from(AuditEntry)),
            "transfers": session.scalar(select(func.count()).select_from(inventory.StockTransfer)),
            "counts": session.scalar(select(func.count()).select_from(inventory.CycleCount)),
        }


def alerts(container: Container) -> list[tuple[str, dict[str, Any]]]:
    with container.session_factory() as session:
        rows = session.execute(
            select(OutboxEvent.event_type, OutboxEvent.payload)
            .where(OutboxEvent.event_type.in_(["stock.low", "stock.out"]))
            .order_by(OutboxEvent.id)
        ).all()
        return [(kind, payload) for kind, payload in rows]


def receive(container: Container, code: str, sku: str, quantity: int, **extra: Any) -> int:
    command = inventory.ReceiveStock(warehouse_id(container, code), sku, quantity, **extra)
    return int(run(container, inventory.receive_stock, command))


def adjust(container: Container, code: str, sku: str, delta: int) -> int:
    command = inventory.AdjustStock(warehouse_id(container, code), sku, delta, "recount")
    return int(run(container, inventory.adjust_stock, command))


def ledger_is_sound(container: Container) -> None:
    with container.session_factory() as session:
        assert inventory.ledger_discrepancies(session) == []


# --- receipts, adjustments, transfers, counts ----------------------------------------------


def test_receipt_raises_on_hand_and_writes_one_ledger_entry(store: Container) -> None:
    sh1 = warehouse_id(store, "SH1")
    assert receive(store, "SH1", "TEE-S", 12, reference="PO-1") == 12
    assert receive(store, "SH1", "TEE-S", 3) == 15
    assert stock_of(store, "TEE-S") == [(sh1, 15, 0)]
    with store.uow(SYSTEM) as uow:
        entries = inventory.query_movements(uow, inventory.MovementFilter(sku="TEE-S"))
        assert [(m.kind, m.quantity, m.reference) for m in entries] == [
            ("receipt", 3, None),
            ("receipt", 12, "PO-1"),
        ]
        assert {m.actor for m in entries} == {"system:test"}
    ledger_is_sound(store)


def test_adjustment_moves_both_ways_and_never_below_reserved(store: Container) -> None:
    sh1 = warehouse_id(store, "SH1")
    receive(store, "SH1", "MUG", 10)
    assert adjust(store, "SH1", "MUG", -4) == 6
    assert adjust(store, "SH1", "MUG", 2) == 8
    run(store, inventory.reserve, inventory.ReserveStock("SO-1", {"MUG": 5}))
    before = snapshot(store)
    with pytest.raises(Conflict) as caught:
        adjust(store, "SH1", "MUG", -4)
    assert caught.value.code == "inventory.below_reserved"
    assert snapshot(store) == before
    assert stock_of(store, "MUG") == [(sh1, 8, 5)]
    assert adjust(store, "SH1", "MUG", -3) == 5  # exactly down to what is held is fine
    ledger_is_sound(store)


def test_transfer_moves_available_stock_in_one_step(store: Container) -> None:
    sh1, bj1 = warehouse_id(store, "SH1"), warehouse_id(store, "BJ1")
    receive(store, "SH1", "TEE-S", 10)
    receive(store, "SH1", "MUG", 4)
    transfer = run(
        store,
        inventory.transfer_stock,
        inventory.TransferStock(sh1, bj1, {"TEE-S": 6, "MUG": 4}, "rebalance"),
    )
    assert transfer.lines == [{"sku": "MUG", "quantity": 4}, {"sku": "TEE-S", "quantity": 6}]
    assert sorted(stock_of(store, "TEE-S")) == sorted([(sh1, 4, 0), (bj1, 6, 0)])
    assert sorted(stock_of(store, "MUG")) == sorted([(sh1, 0, 0), (bj1, 4, 0)])
    with store.uow(SYSTEM) as uow:
        kinds = [
            (m.warehouse_id, m.kind, m.quantity)
            for m in inventory.query_movements(uow, inventory.MovementFilter(sku="TEE-S"))
        ]
    assert kinds[:2] == [(bj1, "transfer_in", 6), (sh1, "transfer_out", -6)]
    ledger_is_sound(store)


def test_transfer_of_more_than_available_changes_nothing(store: Container) -> None:
    sh1, bj1 = warehouse_id(store, "SH1"), warehouse_id(store, "BJ1")
    receive(store, "SH1", "TEE-S", 10)
    receive(store, "SH1", "MUG", 3)
    run(store, inventory.reserve, inventory.ReserveStock("SO-1", {"TEE-S": 8}))
    before = snapshot(store)
    for lines in ({"MUG": 1, "TEE-S": 3}, {"MUG": 4}):
        with pytest.raises(Conflict) as caught:
            run(store, inventory.transfer_stock, inventory.TransferStock(sh1, bj1, lines))
        assert caught.value.code == "inventory.insufficient_stock"
        assert snapshot(store) == before
    with pytest.raises(Conflict) as none_there:
        run(store, inventory.transfer_stock, inventory.TransferStock(bj1, sh1, {"MUG": 1}))
    assert none_there.value.code == "inventory.insufficient_stock"
    with pytest.raises(ValidationFailed) as same:
        run(store, inventory.transfer_stock, inventory.TransferStock(sh1, sh1, {"MUG": 1}))
    assert [(e.field, e.code) for e in same.value.errors] == [
        ("to_warehouse_id", "inventory.same_warehouse")
    ]
    assert snapshot(store) == before


def test_cycle_count_posts_only_the_differences(store: Container) -> None:
    sh1 = warehouse_id(store, "SH1")
    receive(store, "SH1", "TEE-S", 10)
    receive(store, "SH1", "MUG", 4)
    count = run(
        store,
        inventory.record_cycle_count,
        inventory.RecordCycleCount(sh1, {"TEE-S": 8, "MUG": 4}, "aisle 4"),
    )
    assert count.lines == [
        {"sku": "MUG", "expected": 4, "counted": 4, "difference": 0},
        {"sku": "TEE-S", "expected": 10, "counted": 8, "difference": -2},
    ]
    with store.uow(SYSTEM) as uow:
        corrections = inventory.query_movements(
            uow, inventory.MovementFilter(kind="count_correction")
        )
        assert [(m.sku, m.quantity, m.reference) for m in corrections] == [
            ("TEE-S", -2, "count:SH1")
        ]
    assert stock_of(store, "TEE-S") == [(sh1, 8, 0)]
    ledger_is_sound(store)


def test_count_below_reserved_is_refused_for_the_whole_count(store: Container) -> None:
    sh1 = warehouse_id(store, "SH1")
    receive(store, "SH1", "TEE-S", 10)
    receive(store, "SH1", "MUG", 4)
    run(store, inventory.reserve, inventory.ReserveStock("SO-1", {"TEE-S": 5}))
    before = snapshot(store)
    with pytest.raises(Conflict) as caught:
        # MUG sorts first and would be corrected before TEE-S is refused: both roll back.
        run(
            store,
            inventory.record_cycle_count,
            inventory.RecordCycleCount(sh1, {"MUG": 1, "TEE-S": 4}),
        )
    assert caught.value.code == "inventory.below_reserved"
    assert caught.value.details == {"sku": "TEE-S"}
    assert snapshot(store) == before


# --- alerts ------------------------------------------------------------------------------


def test_low_and_out_alerts_fire_once_at_the_crossing(store: Container) -> None:
    run(store, inventory.set_threshold, inventory.SetThreshold("MUG", 5))
    receive(store, "SH1", "MUG", 8)
    assert alerts(store) == []
    adjust(store, "SH1", "MUG", -2)  # 6: still above the threshold
    assert alerts(store) == []
    adjust(store, "SH1", "MUG", -1)  # 5: reaches it
    assert alerts(store) == [("stock.low", {"sku": "MUG", "available": 5, "threshold": 5})]
    adjust(store, "SH1", "MUG", -2)  # 3: already low, no repeat
    assert len(alerts(store)) == 1
    adjust(store, "SH1", "MUG", -3)  # 0: out
    assert alerts(store)[1:] == [("stock.out", {"sku": "MUG"})]
    receive(store, "SH1", "MUG", 1)  # rising never alerts
    assert len(alerts(store)) == 2
    receive(store, "SH1", "MUG", 9)  # 10: above again...
    adjust(store, "SH1", "MUG", -10)  # ...and straight to zero: both lines crossed at once
    assert alerts(store)[2:] == [
        ("stock.low", {"sku": "MUG", "available": 0, "threshold": 5}),
        ("stock.out", {"sku": "MUG"}),
    ]


def test_alerts_count_every_active_warehouse(store: Container) -> None:
    run(store, inventory.set_threshold, inventory.SetThreshold("TEE-S", 3))
    receive(store, "SH1", "TEE-S", 3)
    receive(store, "BJ1", "TEE-S", 3)
    adjust(store, "SH1", "TEE-S", -3)  # SH1 is empty but 3 remain in BJ1: low, not out
    assert alerts(store) == [("stock.low", {"sku": "TEE-S", "available": 3, "threshold": 3})]
    run(store, inventory.reserve, inventory.ReserveStock("SO-9", {"TEE-S": 3}))
    assert alerts(store)[1:] == [("stock.out", {"sku": "TEE-S"})]


def test_threshold_is_validated_and_replaced(store: Container) -> None:
    row = run(store, inventory.set_threshold, inventory.SetThreshold("MUG", 5))
    assert row.low_stock_threshold == 5
    run(store, inventory.set_threshold, inventory.SetThreshold("MUG", 2))
    receive(store, "SH1", "MUG", 1)
    with store.uow(SYSTEM) as uow:
        [(level, threshold)] = inventory.query_stock(uow, inventory.StockFilter(sku="MUG"))
        assert (level.on_hand, threshold) == (1, 2)
    for bad in (-1, 1_000_001):
        with pytest.raises(ValidationFailed) as caught:
            run(store, inventory.set_threshold, inventory.SetThreshold("MUG", bad))
        assert caught.value.code == "inventory.invalid_quantity"
    with pytest.raises(ValidationFailed) as unknown:
        run(store, inventory.set_threshold, inventory.SetThreshold("NOPE", 1))
    assert unknown.value.code == "inventory.unknown_sku"


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize("quantity", [0, -1, -50, 1_000_001, 10**12])
def test_receipt_quantity_out_of_range_changes_nothing(store: Container, quantity: int) -> None:
    receive(store, "SH1", "MUG", 5)
    before = snapshot(store)
    with pytest.raises(ValidationFailed) as caught:
        receive(store, "SH1", "MUG", quantity)
    assert [(e.field, e.code) for e in caught.value.errors] == [
        ("quantity", "inventory.invalid_quantity")
    ]
    assert snapshot(store) == before


@pytest.mark.parametrize("delta", [0, 1_000_001, -1_000_001])
def test_adjustment_delta_out_of_range_changes_nothing(store: Container, delta: int) -> None:
    receive(store, "SH1", "MUG", 5)
    before = snapshot(store)
    with pytest.raises(ValidationFailed) as caught:
        adjust(store, "SH1", "MUG", delta)
    assert [(e.field, e.code) for e in caught.value.errors] == [
        ("delta", "inventory.invalid_quantity")
    ]
    assert snapshot(store) == before


def test_each_bad_input_has_its_own_code_and_changes_nothing(store: Container) -> None:
    sh1 = warehouse_id(store, "SH1")
    receive(store, "SH1", "MUG", 5)
    before = snapshot(store)
    cases: list[tuple[Callable[..., Any], Any, type[DomainError], str]] = [
        (inventory.receive_stock, inventory.ReceiveStock(sh1, "NOPE", 1), ValidationFailed,
         "inventory.unknown_sku"),
        (inventory.receive_stock, inventory.ReceiveStock(999_999, "MUG", 1), NotFound,
         "inventory.warehouse_not_found"),
        (inventory.adjust_stock, inventory.AdjustStock(sh1, "MUG", -6, "lost"), Conflict,
         "inventory.below_reserved"),
        (inventory.adjust_stock, inventory.AdjustStock(sh1, "MUG", -1, "  "), ValidationFailed,
         "validation.failed"),
        (inventory.transfer_stock, inventory.TransferStock(sh1, 999_999, {"MUG": 1}), NotFound,
         "inventory.warehouse_not_found"),
        (inventory.transfer_stock, inventory.TransferStock(sh1, sh1 + 1, {"NOPE": 1}),
         ValidationFailed, "inventory.unknown_sku"),
        (inventory.record_cycle_count, inventory.RecordCycleCount(sh1, {"MUG": -1}),
         ValidationFailed, "validation.failed"),
        (inventory.record_cycle_count, inventory.RecordCycleCount(sh1, {}), ValidationFailed,
         "validation.failed"),
        (inventory.create_warehouse, inventory.CreateWarehouse("SH1", "Again", "CN-SH"),
         Conflict, "inventory.warehouse_code_taken"),
        (inventory.receive_stock, inventory.ReceiveStock(sh1, "MUG", 1), PermissionDenied,
         "auth.permission_denied"),
    ]  # fmt: skip
    for index, (use_case, command, error_type, code) in enumerate(cases):
        actor = READ_ONLY if index == len(cases) - 1 else SYSTEM
        with pytest.raises(error_type) as caught:
            run(store, use_case, command, actor=actor)
        assert caught.value.code == code, use_case
        assert snapshot(store) == before, use_case


def test_warehouse_fields_are_all_reported_together(store: Container) -> None:
    with pytest.raises(ValidationFailed) as caught:
        run(store, inventory.create_warehouse, inventory.CreateWarehouse("no spaces!", " ", "", -1))
    assert sorted(e.field for e in caught.value.errors) == ["code", "name", "priority", "region"]
    sh1 = warehouse_id(store, "SH1")
    with pytest.raises(ValidationFailed) as changed:
        run(
            store, inventory.change_warehouse, inventory.ChangeWarehouse(sh1, name=" ", priority=-2)
        )
    assert sorted(e.field for e in changed.value.errors) == ["name", "priority"]
    with store.uow(SYSTEM) as uow:
        assert inventory.get_warehouse(uow, sh1).name == "Warehouse SH1"


def test_reads_need_inventory_read(store: Container) -> None:
    nobody = Actor("user", 5, "marketing@example.com", frozenset({"catalog.read"}))
    with store.uow(nobody) as uow:
        for read in (
            lambda: inventory.query_stock(uow, inventory.StockFilter()),
            lambda: inventory.query_movements(uow, inventory.MovementFilter()),
            lambda: inventory.query_warehouses(uow),
            lambda: inventory.query_reservations(uow, "SO-1"),
            lambda: inventory.check_ledger(uow),
        ):
            with pytest.raises(PermissionDenied):
                read()


# --- the ledger invariant ------------------------------------------------------------------


def test_ledger_check_reports_a_tampered_stock_level(store: Container) -> None:
    sh1 = warehouse_id(store, "SH1")
    receive(store, "SH1", "MUG", 5)
    with store.uow(SYSTEM) as uow:
        assert inventory.check_ledger(uow) == []
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE stock_levels SET on_hand = 7 WHERE sku = 'MUG'"))
    with store.uow(SYSTEM) as uow:
        [found] = inventory.check_ledger(uow)
    assert (found.sku, found.warehouse_id, found.on_hand, found.ledger_total) == ("MUG", sh1, 7, 5)
    assert found.difference == 2


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ledger_always_equals_on_hand(store: Container, seed: int) -> None:
    """Random receipts, adjustments, transfers, counts and reservations, valid or not."""
    rng = random.Random(seed)
    sh1, bj1 = warehouse_id(store, "SH1"), warehouse_id(store, "BJ1")
    skus, warehouses = ["TEE-S", "MUG"], [sh1, bj1]
    for step in range(40):
        sku, here = rng.choice(skus), rng.choice(warehouses)
        there = bj1 if here == sh1 else sh1
        action = rng.choice(["receive", "adjust", "transfer", "count", "reserve", "release"])
        commands: dict[str, tuple[Callable[..., Any], Any]] = {
            "receive": (
                inventory.receive_stock,
                inventory.ReceiveStock(here, sku, rng.randint(1, 9)),
            ),
            "adjust": (
                inventory.adjust_stock,
                inventory.AdjustStock(here, sku, rng.choice([-1, 1]) * rng.randint(1, 6), "r"),
            ),
            "transfer": (
                inventory.transfer_stock,
                inventory.TransferStock(here, there, {sku: rng.randint(1, 5)}),
            ),
            "count": (
                inventory.record_cycle_count,
                inventory.RecordCycleCount(here, {sku: rng.randint(0, 8)}),
            ),
            "reserve": (
                inventory.reserve,
                inventory.ReserveStock(f"SO-{step}", {sku: rng.randint(1, 4)}),
            ),
            "release": (inventory.release, f"SO-{rng.randint(0, step)}"),
        }
        use_case, command = commands[action]
        before = snapshot(store)
        try:
            run(store, use_case, command)
        except DomainError:
            assert snapshot(store) == before, (step, action)
        ledger_is_sound(store)
        for _, on_hand, reserved in stock_of(store, "TEE-S") + stock_of(store, "MUG"):
            assert 0 <= reserved <= on_hand

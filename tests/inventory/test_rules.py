from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shopops.contexts.inventory.rules import (
    WarehouseStock,
    plan_allocation,
    rank_warehouses,
    threshold_crossing,
)


def test_priority_first_then_customer_region() -> None:
    warehouses = [
        WarehouseStock(1, "CN-BJ", 20, 5),
        WarehouseStock(2, "CN-SH", 10, 5),
        WarehouseStock(3, "CN-GZ", 10, 5),
    ]
    ranked = rank_warehouses(warehouses, "CN-GZ")
    assert [w.warehouse_id for w in ranked] == [3, 2, 1]


def test_single_warehouse_that_serves_everything_wins() -> None:
    stock = {
        "A": [WarehouseStock(1, "X", 1, 5), WarehouseStock(2, "Y", 2, 5)],
        "B": [WarehouseStock(1, "X", 1, 0), WarehouseStock(2, "Y", 2, 5)],
    }
    plan = plan_allocation({"A": 3, "B": 2}, stock, customer_region=None, allow_split=True)
    assert plan.complete
    assert {(p.sku, p.warehouse_id, p.quantity) for p in plan.lines} == {("A", 2, 3), ("B", 2, 2)}


def test_split_across_warehouses_in_rank_order() -> None:
    stock = {"A": [WarehouseStock(1, "X", 1, 4), WarehouseStock(2, "Y", 2, 5)]}
    plan = plan_allocation({"A": 7}, stock, customer_region=None, allow_split=True)
    assert [(p.warehouse_id, p.quantity) for p in plan.lines] == [(1, 4), (2, 3)]


def test_no_split_when_not_allowed() -> None:
    stock = {"A": [WarehouseStock(1, "X", 1, 4), WarehouseStock(2, "Y", 2, 5)]}
    plan = plan_allocation({"A": 7}, stock, customer_region=None, allow_split=False)
    assert not plan.complete
    assert plan.lines == ()
    assert plan.shortfall == {"A": 3}


def test_unknown_sku_is_a_shortfall() -> None:
    plan = plan_allocation({"Z": 1}, {}, customer_region=None, allow_split=True)
    assert plan.shortfall == {"Z": 1}


def test_threshold_crossing_fires_once_downwards() -> None:
    assert threshold_crossing(12, 10, 10).low
    assert not threshold_crossing(10, 8, 10).low  # already below: no repeat
    assert threshold_crossing(3, 0, 10).out
    assert not threshold_crossing(0, 0, 10).out
    assert not threshold_crossing(5, 8, 10).low


stocks = st.lists(
    st.tuples(
        st.integers(1, 6), st.sampled_from(["N", "S"]), st.integers(0, 3), st.integers(0, 20)
    ),
    min_size=0,
    max_size=6,
    unique_by=lambda t: t[0],
)


@given(stocks, st.integers(1, 60), st.booleans(), st.sampled_from([None, "N", "S"]))
def test_plan_never_takes_more_than_available(raw, quantity, allow_split, region) -> None:
    stock = {"A": [WarehouseStock(w, r, p, a) for w, r, p, a in raw]}
    plan = plan_allocation({"A": quantity}, stock, customer_region=region, allow_split=allow_split)
    available = {w: a for w, _, _, a in raw}
    if plan.complete:
        assert sum(p.quantity for p in plan.lines) == quantity
        for line in plan.lines:
            assert 0 < line.quantity <= available[line.warehouse_id]
        if not allow_split:
            assert len({p.warehouse_id for p in plan.lines}) == 1
    else:
        assert plan.lines == ()
        total = sum(available.values()) if allow_split else max(available.values(), default=0)
        assert total < quantity
    # deterministic
    assert plan == plan_allocation(
        {"A": quantity}, stock, customer_region=region, allow_split=allow_split
    )

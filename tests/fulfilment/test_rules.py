from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import reduce

from hypothesis import given
from hypothesis import strategies as st

from shopops.contexts.fulfilment.rules import (
    OpenLine,
    PlannedLine,
    Position,
    ShipmentStatus,
    can_ship,
    is_late,
    order_delivered,
    order_status_after_shipping,
    plan_lines,
    supersedes,
)

S = ShipmentStatus
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def apply(current: Position, incoming: Position) -> Position:
    return incoming if supersedes(incoming, current) else current


positions = st.builds(
    Position,
    st.sampled_from(list(ShipmentStatus)),
    st.integers(min_value=0, max_value=200).map(lambda h: at(h)),
)


def test_newer_scans_move_the_shipment_on() -> None:
    start = Position(S.LABEL_CREATED, at(0))
    assert supersedes(Position(S.IN_TRANSIT, at(1)), start)
    assert supersedes(Position(S.EXCEPTION, at(2)), Position(S.IN_TRANSIT, at(1)))
    assert supersedes(Position(S.IN_TRANSIT, at(3)), Position(S.EXCEPTION, at(2)))  # recovered
    assert supersedes(Position(S.IN_TRANSIT, at(4)), Position(S.OUT_FOR_DELIVERY, at(3)))


def test_older_scans_do_not_move_it_back() -> None:
    current = Position(S.OUT_FOR_DELIVERY, at(5))
    assert not supersedes(Position(S.IN_TRANSIT, at(4)), current)
    assert not supersedes(Position(S.OUT_FOR_DELIVERY, at(5)), current)  # the same scan


def test_at_the_same_instant_the_later_stage_wins() -> None:
    assert supersedes(Position(S.OUT_FOR_DELIVERY, at(1)), Position(S.IN_TRANSIT, at(1)))
    assert not supersedes(Position(S.IN_TRANSIT, at(1)), Position(S.OUT_FOR_DELIVERY, at(1)))


def test_delivered_is_final_and_the_earliest_delivery_counts() -> None:
    delivered = Position(S.DELIVERED, at(10))
    assert supersedes(delivered, Position(S.EXCEPTION, at(20)))  # a delivery reported late
    assert not supersedes(Position(S.EXCEPTION, at(30)), delivered)
    assert not supersedes(Position(S.DELIVERED, at(11)), delivered)
    assert supersedes(Position(S.DELIVERED, at(9)), delivered)


@given(st.lists(positions, min_size=1, max_size=8), st.randoms(use_true_random=False))
def test_the_outcome_does_not_depend_on_arrival_order(
    scans: list[Position], random: object
) -> None:
    start = Position(S.LABEL_CREATED, T0 - timedelta(hours=1))
    shuffled = list(scans)
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    in_order = reduce(apply, sorted(scans, key=lambda p: p.at), start)
    assert reduce(apply, shuffled, start) == in_order


@given(st.lists(positions, min_size=1, max_size=8))
def test_once_delivered_always_delivered(scans: list[Position]) -> None:
    state = Position(S.LABEL_CREATED, T0 - timedelta(hours=1))
    seen_delivered = False
    for scan in scans:
        state = apply(state, scan)
        seen_delivered = seen_delivered or scan.status == S.DELIVERED
        assert (state.status == S.DELIVERED) == seen_delivered


def test_which_orders_may_ship() -> None:
    assert [s for s in ("pending_payment", "paid", "processing") if can_ship(s)] == [
        "paid",
        "processing",
    ]
    assert can_ship("partially_shipped")
    assert not any(can_ship(s) for s in ("shipped", "delivered", "cancelled", "closed"))


def test_order_status_after_shipping() -> None:
    assert order_status_after_shipping(0) == "shipped"
    assert order_status_after_shipping(3) == "partially_shipped"


def test_an_order_is_delivered_when_all_shipped_and_all_arrived() -> None:
    assert order_delivered("shipped", ["delivered", "delivered"])
    assert not order_delivered("shipped", ["delivered", "in_transit"])
    assert not order_delivered("partially_shipped", ["delivered"])  # more to ship
    assert not order_delivered("shipped", [])
    assert not order_delivered("delivered", ["delivered"])  # already there


def test_late_means_not_done_by_the_promise() -> None:
    assert not is_late(None, None, at(100))
    assert not is_late(at(10), None, at(9))
    assert is_late(at(10), None, at(11))
    assert not is_late(at(10), at(9), at(50))
    assert is_late(at(10), at(12), at(50))


def test_everything_held_ships_by_default() -> None:
    lines = [OpenLine(1, "TEE", 7), OpenLine(2, "MUG", 1)]
    plan = plan_lines(None, {"TEE": 5, "MUG": 1}, lines)
    assert plan.ok
    assert plan.lines == (PlannedLine(1, "TEE", 5), PlannedLine(2, "MUG", 1))


def test_a_request_over_what_is_held_or_unshipped_is_a_shortfall() -> None:
    lines = [OpenLine(1, "TEE", 2)]
    plan = plan_lines({"TEE": 3, "CAP": 1}, {"TEE": 5}, lines)
    assert not plan.ok
    assert plan.unknown == ("CAP",)
    assert plan.shortfall == {"TEE": (3, 2)}  # only 2 left to ship though 5 are held


def test_nothing_held_means_an_empty_plan() -> None:
    plan = plan_lines(None, {}, [OpenLine(1, "TEE", 2)])
    assert (plan.lines, plan.ok) == ((), False)


skus = st.sampled_from(["A", "B", "C"])


@given(
    st.lists(st.tuples(skus, st.integers(0, 5)), min_size=1, max_size=5),
    st.dictionaries(skus, st.integers(0, 8)),
    st.none() | st.dictionaries(skus, st.integers(1, 8), min_size=1),
)
def test_plans_never_exceed_what_is_held_or_unshipped(
    open_: list[tuple[str, int]], reserved: dict[str, int], requested: dict[str, int] | None
) -> None:
    lines = [OpenLine(i, sku, left) for i, (sku, left) in enumerate(open_, start=1)]
    plan = plan_lines(requested, reserved, lines)
    if not plan.ok:
        return
    per_line = {line.order_line_id: line.remaining for line in lines}
    shipped: dict[str, int] = {}
    for planned in plan.lines:
        assert 0 < planned.quantity <= per_line[planned.order_line_id]
        shipped[planned.sku] = shipped.get(planned.sku, 0) + planned.quantity
    for sku, quantity in shipped.items():
        assert quantity <= reserved.get(sku, 0)
    if requested is not None:
        assert shipped == requested  # exactly what was asked, or a refusal

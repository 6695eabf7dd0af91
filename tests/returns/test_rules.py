"""Pure returns rules: the status machine and the value of returned units."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from shopops.contexts.returns import ReturnStatus, can_transition, units_value

S = ReturnStatus


def test_status_machine() -> None:
    assert can_transition(S.REQUESTED, S.APPROVED, refund_only=False)
    assert can_transition(S.REQUESTED, S.REJECTED, refund_only=True)
    assert can_transition(S.APPROVED, S.RECEIVED, refund_only=False)
    assert not can_transition(S.APPROVED, S.RECEIVED, refund_only=True)
    assert can_transition(S.APPROVED, S.REFUNDED, refund_only=True)
    assert not can_transition(S.APPROVED, S.REFUNDED, refund_only=False)
    assert can_transition(S.RECEIVED, S.REFUNDED, refund_only=False)
    for final in (S.REJECTED, S.REFUNDED):
        assert not any(can_transition(final, t, refund_only=o) for t in S for o in (True, False))


@given(
    total=st.integers(0, 10**9),
    quantity=st.integers(1, 1000),
    data=st.data(),
)
def test_returned_units_add_up_to_the_line_total(
    total: int, quantity: int, data: st.DataObject
) -> None:
    cuts = sorted(
        data.draw(st.sets(st.integers(1, quantity - 1), max_size=10)) if quantity > 1 else []
    )
    bounds = [0, *cuts, quantity]
    parts = [units_value(total, quantity, a, b - a) for a, b in pairwise(bounds)]
    assert sum(parts) == total
    per_unit_floor, per_unit_ceil = total // quantity, -(-total // quantity)
    for (a, b), part in zip(pairwise(bounds), parts, strict=True):
        assert per_unit_floor * (b - a) <= part <= per_unit_ceil * (b - a)

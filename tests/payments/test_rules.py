"""Pure payment rules: refund allocation across lines (with Hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopops.contexts.payments import allocate_refund, parse_merchant_reference


@st.composite
def refunds_and_lines(draw: st.DrawFn) -> tuple[int, list[int]]:
    refundable = draw(st.lists(st.integers(0, 10**9), min_size=1, max_size=30))
    total = sum(refundable)
    amount = draw(st.integers(1, total)) if total else 0
    return amount, refundable


@given(refunds_and_lines())
def test_allocation_sums_exactly_and_never_exceeds_a_line(case: tuple[int, list[int]]) -> None:
    amount, refundable = case
    if amount == 0:
        with pytest.raises(ValueError):
            allocate_refund(amount, refundable)
        return
    parts = allocate_refund(amount, refundable)
    assert sum(parts) == amount
    assert len(parts) == len(refundable)
    assert all(0 <= part <= limit for part, limit in zip(parts, refundable, strict=True))


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=20))
def test_refunding_everything_gives_each_line_exactly_its_amount(refundable: list[int]) -> None:
    if sum(refundable) == 0:
        return
    assert allocate_refund(sum(refundable), refundable) == refundable


def test_allocation_example_and_refusals() -> None:
    # 10.00 over lines of 40.00 and 12.50: 761.9 / 238.1 -> the larger remainder gets the cent
    assert allocate_refund(1000, [4000, 1250]) == [762, 238]
    with pytest.raises(ValueError):
        allocate_refund(5251, [4000, 1250])
    with pytest.raises(ValueError):
        allocate_refund(-1, [10])


def test_merchant_references() -> None:
    assert parse_merchant_reference("payment:12") == ("payment", 12)
    assert parse_merchant_reference("refund:3") == ("refund", 3)
    assert parse_merchant_reference("order:3") is None
    assert parse_merchant_reference("payment:x") is None
    assert parse_merchant_reference(None) is None

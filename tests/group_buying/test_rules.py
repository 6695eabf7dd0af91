"""Pure group-buy rules: joining, paying, leaving and settling, over random histories."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopops.contexts.group_buying import rules
from shopops.contexts.group_buying.errors import GroupBuyError
from shopops.contexts.group_buying.rules import GroupState, GroupStatus

T0 = datetime(2026, 5, 1, tzinfo=UTC)
EXPIRES = T0 + timedelta(hours=24)


def state(joined: int = 1, paid: int = 0, size: int = 3) -> GroupState:
    return GroupState(GroupStatus.OPEN, size, joined, paid, EXPIRES)


def test_who_may_join() -> None:
    assert rules.join_refusal(state(joined=2), T0) is None
    assert rules.join_refusal(state(joined=3), T0) == GroupBuyError.GROUP_FULL
    assert rules.join_refusal(state(joined=1), EXPIRES) == GroupBuyError.GROUP_CLOSED
    done = replace(state(joined=1), status=GroupStatus.FAILED)
    assert rules.join_refusal(done, T0) == GroupBuyError.GROUP_CLOSED
    with pytest.raises(ValueError, match="group_full"):
        rules.joined(state(joined=3), T0)


def test_settling() -> None:
    assert rules.settle(state(joined=3, paid=3), T0) == GroupStatus.SUCCEEDED
    # every place paid for in time wins even if the job looks only after the expiry
    assert rules.settle(state(joined=3, paid=3), EXPIRES) == GroupStatus.SUCCEEDED
    assert rules.settle(state(joined=3, paid=2), T0) == GroupStatus.OPEN
    assert rules.settle(state(joined=3, paid=2), EXPIRES) == GroupStatus.FAILED
    assert rules.settle(state(joined=1, paid=0), EXPIRES + timedelta(days=9)) == GroupStatus.FAILED


def test_a_payment_after_the_expiry_does_not_count() -> None:
    assert rules.paid(state(joined=2), EXPIRES - timedelta(seconds=1)).paid == 1
    assert rules.paid(state(joined=2), EXPIRES).paid == 0


operations = st.lists(
    st.tuples(
        st.sampled_from(["join", "pay", "leave_unpaid", "leave_paid", "wait"]),
        st.integers(0, 20 * 60),  # minutes to wait before the step
    ),
    max_size=40,
)


@given(size=st.integers(2, 6), steps=operations)
def test_random_histories_keep_the_invariants(size: int, steps: list[tuple[str, int]]) -> None:
    now = T0
    current = GroupState(GroupStatus.OPEN, size, 1, 0, EXPIRES)  # opened with one member
    for step, minutes in steps:
        now += timedelta(minutes=minutes)
        before = current
        if step == "join":
            refusal = rules.join_refusal(current, now)
            if refusal is None:
                current = rules.joined(current, now)
            else:
                assert refusal in (GroupBuyError.GROUP_FULL, GroupBuyError.GROUP_CLOSED)
                assert (
                    current.joined == current.size
                    or now >= current.expires_at
                    or (current.status != GroupStatus.OPEN)
                )
        elif step == "pay" and current.paid < current.joined:
            current = rules.paid(current, now)
        elif step == "leave_unpaid" and current.joined > current.paid:
            current = rules.left(current, was_paid=False)
        elif step == "leave_paid" and current.paid:
            current = rules.left(current, was_paid=True)
        outcome = rules.settle(current, now)
        if outcome != GroupStatus.OPEN:
            current = replace(current, status=outcome)
        # places never overflow; paid members are members
        assert 0 <= current.paid <= current.joined <= current.size
        # final states are final
        if before.status != GroupStatus.OPEN:
            assert current == before
        # success exactly when every place was paid for; failure only after the expiry
        if current.status == GroupStatus.SUCCEEDED and before.status == GroupStatus.OPEN:
            assert current.paid == current.size
        if current.status == GroupStatus.FAILED:
            assert now >= current.expires_at
            assert current.paid < current.size


# --- performance ---------------------------------------------------------------------


def test_success_rate_counts_settled_groups_only() -> None:
    assert rules.success_rate(0, 0) is None
    assert (rules.success_rate(1, 1), rules.success_rate(2, 1), rules.success_rate(0, 4)) == (
        0.5,
        0.666667,
        0.0,
    )
    with pytest.raises(ValueError, match="never negative"):
        rules.success_rate(-1, 2)


@given(succeeded=st.integers(0, 10**9), failed=st.integers(0, 10**9))
def test_success_rate_is_a_share_that_moves_with_the_outcomes(succeeded: int, failed: int) -> None:
    rate = rules.success_rate(succeeded, failed)
    if succeeded + failed == 0:
        assert rate is None
        return
    assert rate is not None
    assert 0 <= rate <= 1
    assert abs(rate - succeeded / (succeeded + failed)) <= 5e-7 + 1e-12  # a tie rounds 5e-7 off
    if failed == 0:
        assert rate == 1
    if succeeded == 0:
        assert rate == 0
    more_successes, more_failures = (
        rules.success_rate(succeeded + 1, failed),
        rules.success_rate(succeeded, failed + 1),
    )
    assert more_successes is not None
    assert more_failures is not None
    assert more_failures <= rate <= more_successes


@given(
    list_price=st.integers(1, 10**9),
    group_price=st.integers(1, 10**9),
    units=st.lists(st.integers(0, 1000), max_size=10),
)
def test_discount_cost_adds_up_over_orders(
    list_price: int, group_price: int, units: list[int]
) -> None:
    def cost(n: int) -> int:
        return rules.discount_cost(
            list_price_minor=list_price, group_price_minor=group_price, units=n
        )

    assert cost(sum(units)) == sum(cost(n) for n in units)
    assert cost(sum(units)) + group_price * sum(units) == list_price * sum(units)
    assert (cost(1) > 0) == (group_price < list_price)


def test_discount_cost_refuses_negative_units() -> None:
    with pytest.raises(ValueError, match="never negative"):
        rules.discount_cost(list_price_minor=9990, group_price_minor=5990, units=-1)

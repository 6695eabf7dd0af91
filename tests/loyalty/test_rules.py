"""Pure loyalty rules: earning, the cap, lot consumption, expiry, reversal, tiers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from shopops.contexts.loyalty import rules
from shopops.contexts.loyalty.rules import Draw, Lot, TierSpec

T0 = datetime(2026, 1, 1, tzinfo=UTC)

# ---- earning ----


def test_one_point_per_dollar_rounds_down() -> None:
    earning = rules.earn_points(12_999, exponent=2, points_per_unit=1, unit_size=1)
    assert (earning.base_points, earning.points, earning.multipliers) == (129, 129, ())


def test_multipliers_apply_once_to_the_exact_amount() -> None:
    # 129.99 x 1.5 x 2 = 389.97 -> 389 (flooring the base first would give 387)
    earning = rules.earn_points(
        12_999, exponent=2, points_per_unit=1, unit_size=1, multiplier_percents=(150, 200)
    )
    assert (earning.base_points, earning.points) == (129, 389)


def test_zero_exponent_currency_and_unit_size() -> None:
    # JPY: 1 point per 100 yen
    earning = rules.earn_points(12_345, exponent=0, points_per_unit=1, unit_size=100)
    assert earning.points == 123
    assert rules.earn_points(999, exponent=3, points_per_unit=2, unit_size=1).points == 1


def test_nothing_earned_on_nothing_spent_or_earning_off() -> None:
    assert rules.earn_points(0, exponent=2, points_per_unit=5, unit_size=1).points == 0
    assert rules.earn_points(-500, exponent=2, points_per_unit=5, unit_size=1).points == 0
    assert rules.earn_points(10_000, exponent=2, points_per_unit=0, unit_size=1).points == 0


def test_campaigns_do_not_stack() -> None:
    assert rules.best_campaign_multiplier([150, 300, 200]) == 300
    assert rules.best_campaign_multiplier([]) is None


@given(
    amount=st.integers(0, 10**12),
    per_unit=st.integers(0, 100),
    unit=st.integers(1, 1000),
    multipliers=st.lists(st.integers(100, 1000), max_size=2),
)
def test_multipliers_never_reduce_points(
    amount: int, per_unit: int, unit: int, multipliers: list[int]
) -> None:
    earning = rules.earn_points(
        amount,
        exponent=2,
        points_per_unit=per_unit,
        unit_size=unit,
        multiplier_percents=multipliers,
    )
    assert 0 <= earning.base_points <= earning.points
    assert earning.base_points * 100 * unit <= amount * per_unit  # never a fraction given away


# ---- redemption cap ----


def test_cap_is_a_share_of_the_order_total() -> None:
    assert rules.redemption_cap(10_000, 50, 1) == 5_000
    assert rules.redemption_cap(10_001, 50, 2) == 2_500
    assert rules.redemption_cap(10_000, 0, 1) == 0
    assert rules.quote(9_000, balance=700, cap=5_000) == 700
    assert rules.quote(300, balance=700, cap=5_000) == 300
    assert rules.quote(9_000, balance=7_000, cap=5_000) == 5_000


@given(
    total=st.integers(0, 10**10),
    cap_percent=st.integers(0, 100),
    point_value=st.integers(1, 1000),
    requested=st.integers(0, 10**9),
    balance=st.integers(0, 10**9),
)
def test_a_quote_never_exceeds_the_cap_balance_or_request(
    total: int, cap_percent: int, point_value: int, requested: int, balance: int
) -> None:
    cap = rules.redemption_cap(total, cap_percent, point_value)
    points = rules.quote(requested, balance, cap)
    assert 0 <= points <= min(requested, balance)
    assert points * point_value * 100 <= total * cap_percent  # value within the share
    # and the cap is tight: one more point would break it
    assert (cap + 1) * point_value * 100 > total * cap_percent


# ---- lots: consumption and expiry ----


def test_consumption_takes_the_oldest_lots_first() -> None:
    lots = [
        Lot(3, 50, T0 + timedelta(days=30)),
        Lot(1, 100, T0),
        Lot(2, 100, T0),
        Lot(4, 10, None),
    ]
    assert rules.consume(lots, 180) == [Draw(1, 100), Draw(2, 80)]
    assert rules.consume(lots, 260) == [Draw(1, 100), Draw(2, 100), Draw(3, 50), Draw(4, 10)]
    assert rules.consume(lots, 0) == []


def test_consuming_more_than_the_lots_hold_is_refused() -> None:
    try:
        rules.consume([Lot(1, 5, None)], 6)
    except rules.NotEnoughInLots:
        return
    raise AssertionError("expected NotEnoughInLots")


lots_strategy = st.lists(
    st.builds(
        Lot,
        id=st.integers(1, 10**6),
        remaining=st.integers(0, 1000),
        expires_at=st.one_of(st.none(), st.integers(0, 400).map(lambda d: T0 + timedelta(days=d))),
    ),
    max_size=12,
    unique_by=lambda lot: lot.id,
)


@given(lots=lots_strategy, data=st.data())
def test_consumption_is_fifo_and_exact(lots: list[Lot], data: st.DataObject) -> None:
    held = sum(lot.remaining for lot in lots)
    points = data.draw(st.integers(0, held))
    draws = rules.consume(lots, points)
    assert sum(d.points for d in draws) == points
    by_id = {lot.id: lot for lot in lots}
    assert all(0 < d.points <= by_id[d.lot_id].remaining for d in draws)
    ordered = [lot for lot in rules.consumption_order(lots) if lot.remaining > 0]
    # the draws are a prefix of the order, every lot but the last emptied
    assert [d.lot_id for d in draws] == [lot.id for lot in ordered[: len(draws)]]
    assert all(d.points == by_id[d.lot_id].remaining for d in draws[:-1])


@given(lots=lots_strategy, days=st.integers(0, 400))
def test_expiry_takes_exactly_the_due_lots_oldest_first(lots: list[Lot], days: int) -> None:
    now = T0 + timedelta(days=days)
    draws = rules.expired(lots, now)
    due = {lot.id for lot in lots if lot.expires_at and lot.expires_at <= now and lot.remaining}
    assert {d.lot_id for d in draws} == due
    by_id = {lot.id: lot for lot in lots}
    assert all(d.points == by_id[d.lot_id].remaining for d in draws)
    moments = [(by_id[d.lot_id].expires_at, d.lot_id) for d in draws]
    assert moments == sorted(moments)  # oldest first


def test_expiry_leaves_lots_not_yet_due() -> None:
    lots = [Lot(1, 10, T0), Lot(2, 20, T0 + timedelta(seconds=1)), Lot(3, 0, T0), Lot(4, 5, None)]
    assert rules.expired(lots, T0) == [Draw(1, 10)]


# ---- reversal ----


def test_reversal_is_proportional_and_complete_on_a_full_refund() -> None:
    assert rules.reversal_target(100, 10_000, 2_500) == 25
    assert rules.reversal_target(100, 10_000, 3_333) == 33
    assert rules.reversal_target(100, 10_000, 10_000) == 100
    assert rules.reversal_target(100, 10_000, 20_000) == 100
    assert rules.reversal_target(0, 10_000, 5_000) == 0
    assert rules.reversal_target(100, 0, 5_000) == 0


@given(
    earned=st.integers(0, 10**6),
    basis=st.integers(1, 10**9),
    refunds=st.lists(st.integers(0, 10**8), max_size=6),
)
def test_partial_refunds_sum_like_one_and_never_exceed_earned(
    earned: int, basis: int, refunds: list[int]
) -> None:
    reversed_so_far = 0
    refunded = 0
    for refund in refunds:
        refunded += refund
        step = rules.reversal_target(earned, basis, refunded) - reversed_so_far
        assert step >= 0  # never gives points back
        reversed_so_far += step
    assert reversed_so_far == rules.reversal_target(earned, basis, refunded)
    assert 0 <= reversed_so_far <= earned
    assert reversed_so_far * basis <= earned * refunded  # never more than the refunded share


def test_redeemed_points_come_back_in_the_refunded_share() -> None:
    assert rules.restoration_target(500, 1_750, 3_500) == 250
    assert rules.restoration_target(500, 1_000, 3_000) == 166
    assert rules.restoration_target(500, 3_500, 3_500) == 500
    assert rules.restoration_target(500, 9_999, 3_500) == 500
    assert rules.restoration_target(500, 0, 3_500) == 0
    assert rules.restoration_target(500, 100, 0) == 0


@given(
    redeemed=st.integers(0, 10**6),
    total=st.integers(1, 10**9),
    refunds=st.lists(st.integers(0, 10**8), max_size=6),
)
def test_restorations_over_partial_refunds_add_up_to_one(
    redeemed: int, total: int, refunds: list[int]
) -> None:
    restored = refunded = 0
    for refund in refunds:
        refunded = min(refunded + refund, total)  # never more than was paid is refunded
        step = rules.restoration_target(redeemed, refunded, total) - restored
        assert step >= 0
        restored += step
    assert restored == rules.restoration_target(redeemed, refunded, total)
    assert restored * total <= redeemed * refunded  # never more than the refunded share
    assert rules.restoration_target(redeemed, total, total) == redeemed


def test_reversal_plan_takes_the_orders_own_lot_first() -> None:
    lots = [Lot(1, 100, T0), Lot(2, 30, T0 + timedelta(days=9)), Lot(3, 50, T0)]
    plan = rules.plan_reversal(lots, own_lot_id=2, points=60)
    assert plan == rules.ReversalPlan([Draw(2, 30), Draw(1, 30)], forgiven=0)


def test_reversal_plan_forgives_what_was_already_spent() -> None:
    plan = rules.plan_reversal([Lot(1, 10, T0)], own_lot_id=9, points=25)
    assert plan == rules.ReversalPlan([Draw(1, 10)], forgiven=15)


@given(lots=lots_strategy, points=st.integers(0, 20_000), own=st.integers(1, 10**6))
def test_reversal_never_takes_more_than_held(lots: list[Lot], points: int, own: int) -> None:
    plan = rules.plan_reversal(lots, own, points)
    taken = sum(d.points for d in plan.draws)
    held = sum(lot.remaining for lot in lots)
    assert taken + plan.forgiven == points
    assert taken == min(points, held)
    assert plan.forgiven >= 0
    by_id = {lot.id: lot for lot in lots}
    assert all(0 < d.points <= by_id[d.lot_id].remaining for d in plan.draws)


# ---- tiers ----

LADDER = [
    TierSpec("bronze", "Bronze", 0),
    TierSpec("silver", "Silver", 50_000, discount_percent=2, points_multiplier_percent=125),
    TierSpec("gold", "Gold", 200_000, 5, True, 150),
]


def test_tier_for_spend() -> None:
    assert rules.tier_for_spend(LADDER, 0) == LADDER[0]
    assert rules.tier_for_spend(LADDER, 49_999) == LADDER[0]
    assert rules.tier_for_spend(LADDER, 50_000) == LADDER[1]
    assert rules.tier_for_spend(LADDER, 10**9) == LADDER[2]
    assert rules.tier_for_spend(LADDER[1:], 100) is None


def test_direction_of_a_change() -> None:
    assert rules.direction(LADDER, None, "bronze") == "upgrade"
    assert rules.direction(LADDER, "gold", "silver") == "downgrade"
    assert rules.direction(LADDER, "silver", None) == "downgrade"
    assert rules.direction(LADDER, "retired", "bronze") == "upgrade"
    assert rules.direction(LADDER, "gold", "gold") is None


def test_tiers_must_be_listed_with_rising_spend() -> None:
    assert rules.validate_tiers(LADDER) == []
    swapped = [LADDER[0], LADDER[2], LADDER[1]]
    [error] = rules.validate_tiers(swapped)
    assert (error.field, error.code) == ("tiers.2.min_spend_minor", "loyalty.tiers_out_of_order")
    equal = [LADDER[0], TierSpec("silver", "Silver", 0)]
    assert [e.code for e in rules.validate_tiers(equal)] == ["loyalty.tiers_out_of_order"]


def test_every_tier_problem_is_reported() -> None:
    bad = [
        TierSpec("", "", -1, discount_percent=101, points_multiplier_percent=99),
        TierSpec("x", "X", 10),
        TierSpec("x", "X again", 20),
    ]
    assert [(e.field, e.code) for e in rules.validate_tiers(bad)] == [
        ("tiers.0.code", "loyalty.invalid_tier"),
        ("tiers.0.name", "loyalty.invalid_tier"),
        ("tiers.0.min_spend_minor", "loyalty.invalid_tier"),
        ("tiers.0.discount_percent", "loyalty.invalid_tier"),
        ("tiers.0.points_multiplier_percent", "loyalty.invalid_tier"),
        ("tiers.2.code", "loyalty.duplicate_tier"),
    ]


# ---- settings and dates ----


def test_program_settings_are_checked() -> None:
    errors = rules.validate_program(
        currency="US",
        points_per_unit=-1,
        unit_size=0,
        credit_on="shipped",
        redemption_cap_percent=101,
        point_value_minor=0,
        expiry_months=121,
    )
    assert [e.field for e in errors] == [
        "currency",
        "points_per_unit",
        "unit_size",
        "credit_on",
        "redemption_cap_percent",
        "point_value_minor",
        "expiry_months",
    ]


def test_campaign_window_must_be_ordered_and_aware() -> None:
    assert rules.validate_campaign("Double", 200, T0, T0 + timedelta(days=1)) == []
    [error] = rules.validate_campaign("Double", 200, T0, T0)
    assert error.field == "ends_at"
    naive = datetime(2026, 1, 1)
    assert [e.field for e in rules.validate_campaign("", 100, naive, T0)] == [
        "name",
        "multiplier_percent",
        "starts_at",
    ]


def test_add_months_clamps_to_the_month_end() -> None:
    assert rules.add_months(datetime(2026, 1, 31, 9, tzinfo=UTC), 1) == datetime(
        2026, 2, 28, 9, tzinfo=UTC
    )
    assert rules.add_months(datetime(2024, 2, 29, tzinfo=UTC), -12) == datetime(
        2023, 2, 28, tzinfo=UTC
    )
    assert rules.add_months(datetime(2026, 3, 15, tzinfo=UTC), 12) == datetime(
        2027, 3, 15, tzinfo=UTC
    )

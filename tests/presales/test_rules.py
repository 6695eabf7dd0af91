"""Pure presale rules: the amounts of an order, and what makes a presale valid."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopops.contexts.presales import rules

T0 = datetime(2026, 9, 1, tzinfo=UTC)


def test_a_deposit_worth_more_than_it_costs() -> None:
    due = rules.amounts(price_minor=29900, deposit_minor=5000, worth_minor=10000, quantity=2)
    assert due == rules.PresaleAmounts(
        list_minor=59800, discount_minor=10000, deposit_minor=10000, balance_minor=39800
    )
    assert due.total_minor == 49800


def test_impossible_terms_are_refused() -> None:
    for price, deposit, worth in ((100, 0, 50), (100, 60, 50), (100, 50, 100), (100, 100, 100)):
        with pytest.raises(ValueError, match="deposit <= worth < price"):
            rules.amounts(price_minor=price, deposit_minor=deposit, worth_minor=worth, quantity=1)


@given(
    price=st.integers(2, 10**9),
    data=st.data(),
    quantity=st.integers(1, 100),
)
def test_deposit_and_balance_add_up_to_the_total(
    price: int, data: st.DataObject, quantity: int
) -> None:
    worth = data.draw(st.integers(1, price - 1))
    deposit = data.draw(st.integers(1, worth))
    due = rules.amounts(
        price_minor=price, deposit_minor=deposit, worth_minor=worth, quantity=quantity
    )
    assert due.deposit_minor + due.balance_minor == due.total_minor
    assert due.total_minor == due.list_minor - due.discount_minor
    assert 0 < due.deposit_minor < due.total_minor <= due.list_minor
    assert due.balance_minor > 0
    # what the deposit is worth plus the balance is exactly the list price
    assert worth * quantity + due.balance_minor == due.list_minor
    # the terms pass validation
    assert (
        rules.validate_offer(
            name="x",
            price_minor=price,
            deposit_minor=deposit,
            worth_minor=worth,
            deposit_starts_at=T0,
            deposit_ends_at=T0 + timedelta(days=1),
            balance_starts_at=T0 + timedelta(days=1),
            balance_ends_at=T0 + timedelta(days=2),
            max_quantity=1,
        )
        == []
    )


def _codes(**overrides: object) -> list[tuple[str, str]]:
    terms: dict[str, object] = {
        "name": "Boots",
        "price_minor": 29900,
        "deposit_minor": 5000,
        "worth_minor": 10000,
        "deposit_starts_at": T0,
        "deposit_ends_at": T0 + timedelta(days=10),
        "balance_starts_at": T0 + timedelta(days=10),
        "balance_ends_at": T0 + timedelta(days=13),
        "max_quantity": 1,
    }
    terms.update(overrides)
    return sorted((e.field, e.code) for e in rules.validate_offer(**terms))  # type: ignore[arg-type]


def test_each_bad_term_has_its_code() -> None:
    assert _codes() == []
    assert _codes(deposit_minor=29900, worth_minor=29900) == [
        ("deposit", "presales.deposit_not_below_price"),
        ("deposit_worth", "presales.worth_not_below_price"),
    ]
    assert _codes(worth_minor=4000) == [("deposit_worth", "presales.worth_below_deposit")]
    assert _codes(worth_minor=29900) == [("deposit_worth", "presales.worth_not_below_price")]
    assert _codes(deposit_minor=0, worth_minor=0) == [("deposit", "presales.invalid_deposit")]
    assert _codes(price_minor=0, deposit_minor=None, worth_minor=None) == [
        ("price", "presales.invalid_price")
    ]
    assert _codes(balance_starts_at=T0 + timedelta(days=9)) == [
        ("balance_starts_at", "presales.invalid_window")
    ]
    assert _codes(deposit_ends_at=T0, balance_ends_at=T0 + timedelta(days=10)) == [
        ("balance_ends_at", "presales.invalid_window"),
        ("deposit_ends_at", "presales.invalid_window"),
    ]
    assert _codes(deposit_starts_at=T0.replace(tzinfo=None)) == [
        ("deposit_starts_at", "presales.invalid_window")
    ]
    assert _codes(name="", max_quantity=0) == [
        ("max_quantity", "presales.invalid_quantity"),
        ("name", "presales.invalid_name"),
    ]


# --- performance ---------------------------------------------------------------------


def test_a_rate_before_anything_happened_is_none_and_a_part_never_exceeds_its_whole() -> None:
    assert rules.rate(0, 0) is None
    assert (rules.rate(2, 5), rules.rate(1, 3), rules.rate(5, 5)) == (0.4, 0.333333, 1.0)
    for part, whole in ((3, 2), (-1, 2), (1, 0)):
        with pytest.raises(ValueError, match="0 <= part <= whole"):
            rules.rate(part, whole)


@given(whole=st.integers(1, 10**9), data=st.data())
def test_a_conversion_rate_is_a_share_between_0_and_1(whole: int, data: st.DataObject) -> None:
    part = data.draw(st.integers(0, whole))
    rate = rules.rate(part, whole)
    assert rate is not None
    assert 0 <= rate <= 1
    assert abs(rate - part / whole) <= 5e-7 + 1e-12  # rounded to 6 places (a tie is 5e-7 off)
    if part < whole:
        more = rules.rate(part + 1, whole)
        assert more is not None
        assert more >= rate
    figures = rules.PresaleFigures(*([0] * 14))
    converted = dataclasses.replace(figures, deposits_paid=whole, balances_paid=part)
    assert converted.conversion_rate == rate

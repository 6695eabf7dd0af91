"""Money: exact integer arithmetic, currency exponents, one rounding mode, exact splits."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopops.kernel.errors import ValidationFailed
from shopops.kernel.money import (
    ROUNDING,
    Money,
    allocate,
    currency_exponent,
    normalize_currency,
    to_major,
    to_minor,
)


class TestCurrencies:
    @pytest.mark.parametrize(
        ("currency", "exponent"),
        [("JPY", 0), ("KRW", 0), ("USD", 2), ("CNY", 2), ("EUR", 2), ("KWD", 3), ("BHD", 3)],
    )
    def test_exponents(self, currency: str, exponent: int) -> None:
        assert currency_exponent(currency) == exponent

    def test_currency_is_normalized(self) -> None:
        assert normalize_currency(" usd ") == "USD"
        assert Money(1, "jpy").currency == "JPY"

    @pytest.mark.parametrize("bad", ["US", "USDX", "U5D", "", "ÄBC", "12$"])
    def test_invalid_currency_refused(self, bad: str) -> None:
        with pytest.raises(ValidationFailed) as caught:
            Money(1, bad)
        assert caught.value.code == "money.invalid_currency"


class TestToMinor:
    @pytest.mark.parametrize(
        ("value", "currency", "minor"),
        [
            ("12.34", "USD", 1234),
            ("12.3", "USD", 1230),
            ("12.340", "USD", 1234),  # trailing zeros are not extra precision
            ("12", "USD", 1200),
            (12, "USD", 1200),
            (Decimal("0.01"), "USD", 1),
            ("-5.5", "USD", -550),
            ("1234", "JPY", 1234),
            ("1.234", "KWD", 1234),
            ("0.001", "KWD", 1),
            (" 7.25 ", "usd", 725),
        ],
    )
    def test_converts_exactly(self, value: object, currency: str, minor: int) -> None:
        assert to_minor(value, currency) == minor  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("value", "currency"),
        [("12.345", "USD"), ("0.001", "USD"), ("1.5", "JPY"), ("0.0001", "KWD")],
    )
    def test_refuses_extra_precision(self, value: str, currency: str) -> None:
        with pytest.raises(ValidationFailed) as caught:
            to_minor(value, currency)
        assert caught.value.code == "money.too_precise"

    @pytest.mark.parametrize("value", ["abc", "", "NaN", "Infinity", "-Infinity", "1,5"])
    def test_refuses_non_numbers(self, value: str) -> None:
        with pytest.raises(ValidationFailed) as caught:
            to_minor(value, "USD")
        assert caught.value.code == "money.invalid_amount"

    @pytest.mark.parametrize(
        ("minor", "currency", "major"),
        [(1234, "USD", "12.34"), (5, "USD", "0.05"), (1234, "JPY", "1234"), (1, "KWD", "0.001")],
    )
    def test_to_major(self, minor: int, currency: str, major: str) -> None:
        value = to_major(minor, currency)
        assert value == Decimal(major)
        assert str(value) == major  # quantized to the currency's exponent


class TestArithmetic:
    def test_of_and_amount(self) -> None:
        assert Money.of("0.10", "USD") + Money.of("0.20", "USD") == Money.of("0.30", "USD")
        assert Money.of("12.34", "USD").minor == 1234
        assert Money.of("1.5", "KWD").amount == Decimal("1.500")
        assert str(Money.of("1000", "JPY")) == "1000 JPY"
        assert str(Money(5, "USD")) == "0.05 USD"

    def test_exact_operations(self) -> None:
        a, b = Money(1005, "USD"), Money(995, "USD")
        assert a + b == Money(2000, "USD")
        assert a - b == Money(10, "USD")
        assert -a == Money(-1005, "USD")
        assert a * 3 == Money(3015, "USD")
        assert 3 * a == Money(3015, "USD")
        assert Money.zero("EUR").is_zero()
        assert b < a
        assert b <= a
        assert a > b
        assert a >= a

    def test_sum_of_many_tenths_is_exact(self) -> None:
        total = Money.zero("USD")
        for _ in range(1000):
            total = total + Money.of("0.10", "USD")
        assert total == Money.of("100.00", "USD")

    def test_minor_must_be_int(self) -> None:
        with pytest.raises(TypeError):
            Money(1.5, "USD")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            Money(True, "USD")

    def test_multiplying_by_a_float_is_refused(self) -> None:
        with pytest.raises(TypeError):
            Money(100, "USD") * 1.5  # type: ignore[operator]

    def test_equality_includes_currency(self) -> None:
        assert Money(100, "USD") != Money(100, "EUR")

    @pytest.mark.parametrize(
        "operation",
        [
            lambda a, b: a + b,
            lambda a, b: a - b,
            lambda a, b: a < b,
            lambda a, b: a <= b,
            lambda a, b: a > b,
            lambda a, b: a >= b,
        ],
    )
    def test_currency_mismatch(self, operation) -> None:
        with pytest.raises(ValidationFailed) as caught:
            operation(Money(100, "USD"), Money(100, "EUR"))
        assert caught.value.code == "money.currency_mismatch"

    def test_combining_with_a_number_is_a_type_error(self) -> None:
        with pytest.raises(TypeError):
            Money(100, "USD") + 1  # type: ignore[operator]


class TestPercent:
    def test_rounding_mode_is_half_even(self) -> None:
        assert ROUNDING == "ROUND_HALF_EVEN"

    @pytest.mark.parametrize(
        ("minor", "rate", "expected"),
        [
            (1005, 10, 100),  # 100.5 -> 100 (to even)
            (1015, 10, 102),  # 101.5 -> 102 (to even)
            (1025, 10, 102),  # 102.5 -> 102
            (1006, 10, 101),  # 100.6 -> 101
            (-1005, 10, -100),
            (-1015, 10, -102),
            (1000, "12.5", 125),
            (999, "33.3", 333),  # 332.667 -> 333
            (10000, 0, 0),
            (250, 100, 250),
        ],
    )
    def test_percent(self, minor: int, rate: object, expected: int) -> None:
        assert Money(minor, "USD").percent(rate).minor == expected  # type: ignore[arg-type]

    def test_percent_keeps_currency(self) -> None:
        assert Money(1000, "KWD").percent(15) == Money(150, "KWD")

    @given(
        minor=st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1),
        rate=st.decimals(min_value=-1000, max_value=1000, places=4, allow_nan=False),
    )
    def test_percent_is_the_exact_share_rounded_half_even(self, minor: int, rate: Decimal) -> None:
        # Any amount a BIGINT column holds, any rate with up to four decimals.
        exact = Fraction(minor) * Fraction(rate) / 100
        assert Money(minor, "USD").percent(rate).minor == round(exact)  # round() is half-even


class TestAllocate:
    def test_examples(self) -> None:
        assert allocate(100, [1, 1, 1]) == [34, 33, 33]
        assert allocate(-100, [1, 1, 1]) == [-34, -33, -33]
        assert allocate(5, [1, 3]) == [1, 4]  # 1.25 / 3.75: largest remainder wins
        assert allocate(10, [0, 1]) == [0, 10]
        assert allocate(7, [0, 0]) == [4, 3]  # all-zero weights split evenly
        assert allocate(0, [5, 5]) == [0, 0]

    def test_ties_go_to_the_earliest_part(self) -> None:
        assert allocate(2, [1, 1, 1, 1]) == [1, 1, 0, 0]

    def test_money_allocate(self) -> None:
        parts = Money(1000, "JPY").allocate([1, 2, 3])
        assert parts == [Money(167, "JPY"), Money(333, "JPY"), Money(500, "JPY")]
        assert sum(p.minor for p in parts) == 1000

    def test_refuses_bad_weights(self) -> None:
        with pytest.raises(ValueError, match="at least one weight"):
            allocate(10, [])
        with pytest.raises(ValueError, match="must not be negative"):
            allocate(10, [1, -1])

    @given(
        total=st.integers(min_value=-(10**12), max_value=10**12),
        weights=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=30),
    )
    def test_parts_sum_exactly_and_stay_within_one_unit(
        self, total: int, weights: list[int]
    ) -> None:
        parts = allocate(total, weights)
        assert len(parts) == len(weights)
        assert sum(parts) == total
        weight_sum = sum(weights)
        for part, weight in zip(parts, weights, strict=True):
            exact = (
                Fraction(total * weight, weight_sum)
                if weight_sum
                else Fraction(total, len(weights))
            )
            assert abs(part - exact) < 1
            # every part moves away from zero in the direction of the total only
            assert part == 0 or (part > 0) == (total > 0)

    @given(
        total=st.integers(min_value=-(10**12), max_value=10**12),
        weights=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=30),
    )
    def test_deterministic(self, total: int, weights: list[int]) -> None:
        assert allocate(total, weights) == allocate(total, list(weights))
        assert allocate(total, tuple(weights)) == allocate(total, weights)

    @given(
        total=st.integers(min_value=0, max_value=10**9),
        weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=20),
    )
    def test_negating_the_total_negates_every_part(self, total: int, weights: list[int]) -> None:
        assert allocate(-total, weights) == [-p for p in allocate(total, weights)]

"""Money as integer minor units of one ISO 4217 currency.

Decimal appears only at the edges (parsing, formatting); arithmetic stays in
integers so sums are exact. The one rounding mode is ROUND_HALF_EVEN.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from shopops.kernel.errors import ValidationFailed

ROUNDING = ROUND_HALF_EVEN

# ISO 4217 minor-unit exponents that differ from the common 2.
_EXPONENTS: dict[str, int] = {
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "ISK": 0,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "PYG": 0,
    "RWF": 0,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
    "CLF": 4,
    "UYW": 4,
}


def currency_exponent(currency: str) -> int:
    """Number of minor-unit digits of ``currency`` (JPY 0, CNY 2, KWD 3)."""
    return _EXPONENTS.get(normalize_currency(currency), 2)


def normalize_currency(currency: str) -> str:
    code = currency.strip().upper()
    if len(code) != 3 or not code.isalpha() or not code.isascii():
        raise ValidationFailed(
            "money.invalid_currency", f"'{currency}' is not a 3-letter ISO 4217 currency code"
        )
    return code


def to_minor(value: Decimal | str | int, currency: str) -> int:
    """Convert a major-unit decimal (``"12.34"``) to minor units, refusing extra precision."""
    exponent = currency_exponent(currency)
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationFailed("money.invalid_amount", f"'{value}' is not a number") from None
    if not amount.is_finite():
        raise ValidationFailed("money.invalid_amount", f"'{value}' is not a finite number")
    scaled = amount.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise ValidationFailed(
            "money.too_precise",
            f"'{value}' has more than {exponent} decimal places for {currency}",
        )
    return int(scaled)


def to_major(minor: int, currency: str) -> Decimal:
    exponent = currency_exponent(currency)
    return Decimal(minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split integer ``total`` across ``weights`` proportionally; parts sum exactly to total.

    Largest-remainder method: floor shares first, then the leftover units go to
    the parts with the largest remainders (ties to the earliest part), so the
    result is deterministic.
    """
    if not weights:
        raise ValueError("allocate needs at least one weight")
    if any(w < 0 for w in weights):
        raise ValueError("allocation weights must not be negative")
    weight_sum = sum(weights)
    if weight_sum == 0:
        weights = [1] * len(weights)
        weight_sum = len(weights)
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    shares = [magnitude * w // weight_sum for w in weights]
    remainders = [magnitude * w % weight_sum for w in weights]
    leftover = magnitude - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for index in order[:leftover]:
        shares[index] += 1
    return [sign * s for s in shares]


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An exact amount: ``minor`` units of ``currency``."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.minor, int) or isinstance(self.minor, bool):
            raise TypeError("Money.minor must be an int of minor units")
        object.__setattr__(self, "currency", normalize_currency(self.currency))

    @classmethod
    def of(cls, major: Decimal | str | int, currency: str) -> Money:
        """Build from a major-unit value: ``Money.of("12.34", "USD")``."""
        return cls(to_minor(major, currency), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @property
    def amount(self) -> Decimal:
        return to_major(self.minor, self.currency)

    def _check(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise ValidationFailed(
                "money.currency_mismatch",
                f"cannot combine {self.currency} with {other.currency}",
            )

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __mul__(self, factor: int) -> Money:
        if not isinstance(factor, int) or isinstance(factor, bool):
            raise TypeError("Money can only be multiplied by an int; use percent() for rates")
        return Money(self.minor * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._check(other)
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        self._check(other)
        return self.minor <= other.minor

    def __gt__(self, other: Money) -> bool:
        self._check(other)
        return self.minor > other.minor

    def __ge__(self, other: Money) -> bool:
        self._check(other)
        return self.minor >= other.minor

    def percent(self, rate: Decimal | int | str) -> Money:
        """``rate`` percent of this amount, rounded once with the house rounding mode."""
        value = (Decimal(self.minor) * Decimal(str(rate)) / 100).quantize(
            Decimal(1), rounding=ROUNDING
        )
        return Money(int(value), self.currency)

    def allocate(self, weights: Sequence[int]) -> list[Money]:
        return [Money(part, self.currency) for part in allocate(self.minor, weights)]

    def is_zero(self) -> bool:
        return self.minor == 0

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

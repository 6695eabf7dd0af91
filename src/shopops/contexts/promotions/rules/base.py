"""What every promotion rule sees, what it returns, and how its parameters are read.

A rule is a frozen parameter object with a ``level`` and an ``apply`` method.
``apply`` reads the current line amounts (after the promotions applied before
it) and returns what it would give; the engine clamps the result to line
floors and budgets and records it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import IntEnum
from typing import Any, Protocol

from shopops.contexts.promotions.arithmetic import BASIS_POINTS
from shopops.contexts.promotions.errors import PromotionError
from shopops.kernel.errors import FieldErrorCollector, ValidationFailed
from shopops.kernel.money import allocate, to_major, to_minor


class Level(IntEnum):
    """Application phases, in order: each phase sees the amounts the earlier ones left."""

    PRICE = 0  # a special unit price (flash sale)
    ITEM = 1  # per line (percentage, per-unit amount, multi-buy)
    ORDER = 2  # on the scoped subtotal, allocated across lines (thresholds, vouchers)
    SHIPPING = 3
    GIFT = 4


@dataclass(slots=True)
class LineState:
    """Running amounts per cart line while promotions are applied."""

    quantities: tuple[int, ...]
    net: list[int]  # what each line costs after the promotions applied so far
    floor: list[int]  # no line may go below this

    def room(self, index: int) -> int:
        return max(self.net[index] - self.floor[index], 0)


@dataclass(slots=True)
class RuleContext:
    """What one rule sees. Not frozen: the engine points one context at promotion after
    promotion (rules only read it, and never keep it)."""

    state: LineState
    lines: tuple[int, ...]  # indexes of the cart lines in the promotion's scope
    shipping_method: str
    shipping_fee_minor: int
    units_left: int | None  # flash/gift units this cart may still take (None: no quota)
    # Set only while the line amounts cannot change (the engine's stand-alone pass, where
    # every rule sees the list prices): a rule may keep what it derives from them here,
    # under a key naming the rule type, for the next rule of the cart. None otherwise.
    memo: dict[Hashable, Any] | None = None

    def base(self) -> int:
        """The scoped lines' current amount (what spend thresholds look at)."""
        net = self.state.net
        return sum([net[i] for i in self.lines])

    def totals(self) -> tuple[int, int]:
        """The scoped lines' current amount, and their room above their floors, in total."""
        net, floor, lines = self.state.net, self.state.floor, self.lines
        base = sum([net[i] for i in lines])
        return base, base - sum([floor[i] for i in lines])


# The outcomes are built for every promotion of every cart, several times: they are not
# frozen (a frozen dataclass costs about three times as much to build); nothing changes
# one once it is returned.


@dataclass(slots=True)
class LineDiscounts:
    """Per-line amounts off (before floors), and units taken from a quota."""

    amounts: Mapping[int, int]
    units: int = 0


@dataclass(slots=True)
class OrderDiscount:
    amount: int


@dataclass(slots=True)
class ShippingDiscount:
    amount: int


@dataclass(frozen=True, slots=True)
class GiftLine:
    sku: str
    quantity: int
    unit_price_minor: int


@dataclass(slots=True)
class Skip:
    """The rule gives nothing here: a stable reason code and a sentence."""

    reason: str
    message: str


Outcome = LineDiscounts | OrderDiscount | ShippingDiscount | GiftLine | Skip


class RuleParams(Protocol):
    @property
    def level(self) -> Level: ...

    def apply(self, context: RuleContext) -> Outcome: ...

    def value(self, context: RuleContext) -> int:
        """What ``apply`` would take off on its own, as one amount (``outcome_value``):
        the stand-alone value that orders the engine's greedy pick."""
        ...

    def to_json(self, currency: str | None) -> dict[str, Any]: ...


def clamped_total(amounts: Mapping[int, int], state: LineState) -> int:
    """What ``line_discounts(amounts, state)`` adds up to (with no cap)."""
    net, floor = state.net, state.floor
    total = 0
    for i, amount in amounts.items():
        room = net[i] - floor[i]
        if amount > room:
            amount = room
        if amount > 0:
            total += amount
    return total


def outcome_value(outcome: Outcome, context: RuleContext) -> int:
    """What an outcome takes off on its own: its line amounts; an order amount within the
    room of the lines above their floors; a shipping amount within the fee; a gift's worth."""
    if isinstance(outcome, LineDiscounts):
        return sum(outcome.amounts.values())
    if isinstance(outcome, OrderDiscount):
        net, floor = context.state.net, context.state.floor
        return min(outcome.amount, sum([net[i] - floor[i] for i in context.lines]))
    if isinstance(outcome, Skip):
        return 0
    if isinstance(outcome, ShippingDiscount):
        return min(outcome.amount, context.shipping_fee_minor)
    return outcome.quantity * outcome.unit_price_minor


class Reader:
    """Reads one ``params`` mapping, adding every problem to ``errors`` with a stable code."""

    def __init__(
        self,
        raw: Mapping[str, Any],
        currency: str | None,
        errors: FieldErrorCollector,
        prefix: str = "params",
    ) -> None:
        self.raw = raw
        self.currency = currency
        self.errors = errors
        self.prefix = prefix

    def error(self, name: str, code: str, message: str) -> None:
        self.errors.add(f"{self.prefix}.{name}" if name else self.prefix, code, message)

    def child(self, raw: Mapping[str, Any], prefix: str) -> Reader:
        return Reader(raw, self.currency, self.errors, prefix)

    def money(self, name: str, *, required: bool = True, positive: bool = True) -> int | None:
        value = self.raw.get(name)
        if value is None:
            if required:
                self.error(name, PromotionError.INVALID_PARAMS, "required")
            return None
        if self.currency is None:
            self.error(name, PromotionError.CURRENCY_REQUIRED, "amounts need the currency set")
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            self.error(name, PromotionError.INVALID_AMOUNT, "give the amount as a string, '50.00'")
            return None
        try:
            minor = to_minor(str(value), self.currency)
        except ValidationFailed as problem:
            self.error(name, PromotionError.INVALID_AMOUNT, problem.message)
            return None
        if minor < 0 or (positive and minor == 0):
            self.error(name, PromotionError.INVALID_AMOUNT, "must be more than zero")
            return None
        return minor

    def percent(self, name: str, *, default: int | None = None) -> int | None:
        """A percentage 0 < p <= 100 with at most two decimals, as basis points."""
        value = self.raw.get(name)
        if value is None:
            if default is None:
                self.error(name, PromotionError.INVALID_PERCENTAGE, "required")
            return default
        try:
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise InvalidOperation
            scaled = Decimal(str(value)) * 100
        except InvalidOperation:
            self.error(name, PromotionError.INVALID_PERCENTAGE, "not a number")
            return None
        if not scaled.is_finite() or scaled != scaled.to_integral_value():
            self.error(name, PromotionError.INVALID_PERCENTAGE, "at most two decimals")
            return None
        if not 0 < scaled <= BASIS_POINTS:
            self.error(
                name, PromotionError.INVALID_PERCENTAGE, f"must be above 0 and at most 100: {value}"
            )
            return None
        return int(scaled)

    def integer(
        self, name: str, *, minimum: int = 1, required: bool = True, default: int | None = None
    ) -> int | None:
        value = self.raw.get(name)
        if value is None:
            if required:
                self.error(name, PromotionError.INVALID_PARAMS, "required")
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.error(name, PromotionError.INVALID_PARAMS, f"a whole number, at least {minimum}")
            return None
        return value

    def choice(self, name: str, options: Sequence[str], default: str) -> str:
        value = self.raw.get(name, default)
        if value not in options:
            self.error(name, PromotionError.INVALID_PARAMS, f"one of {', '.join(options)}")
            return default
        return str(value)

    def texts(self, name: str) -> tuple[str, ...]:
        value = self.raw.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.error(name, PromotionError.INVALID_PARAMS, "a list of non-empty strings")
            return ()
        return tuple(sorted(set(value)))

    def text(self, name: str) -> str | None:
        value = self.raw.get(name)
        if not isinstance(value, str) or not value.strip():
            self.error(name, PromotionError.INVALID_PARAMS, "required")
            return None
        return value.strip()

    def reject_unknown(self, known: Sequence[str]) -> None:
        for key in sorted(set(self.raw) - set(known)):
            self.error(
                key, PromotionError.UNKNOWN_FIELD, f"unknown field; known: {', '.join(known)}"
            )


def major(minor: int | None, currency: str | None) -> str | None:
    """Minor units as the decimal string definitions are written in."""
    if minor is None or currency is None:
        return None
    return str(to_major(minor, currency))


def percent_text(rate_bp: int) -> str:
    """Basis points back to the percentage as written: 1500 -> "15", 1250 -> "12.5"."""
    if rate_bp % 100 == 0:
        return str(rate_bp // 100)
    return str(Decimal(rate_bp).scaleb(-2).normalize())


Parser = Callable[[Reader], RuleParams | None]


def line_discounts(
    amounts: Mapping[int, int], state: LineState, cap: int | None = None
) -> LineDiscounts:
    """Per-line amounts clamped to each line's room above its floor, then to ``cap`` in total."""
    net, floor = state.net, state.floor
    clamped = {}
    for i, amount in amounts.items():
        room = net[i] - floor[i]
        if amount > room:
            amount = room
        if amount > 0:
            clamped[i] = amount
    if cap is not None and sum(clamped.values()) > cap:
        indexes = sorted(clamped)
        parts = allocate(cap, [clamped[i] for i in indexes])
        clamped = {i: part for i, part in zip(indexes, parts, strict=True) if part}
    return LineDiscounts(clamped)

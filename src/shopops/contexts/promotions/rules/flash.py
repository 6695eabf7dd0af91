"""Flash sale: a special unit price for the scoped items, within a unit quota.

Units beyond what the quota and the customer's own limit still allow are sold
at the normal price. The quota is enforced at redemption by a conditional
UPDATE, so concurrent checkouts never sell more than it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shopops.contexts.promotions.arithmetic import round_half_even
from shopops.contexts.promotions.reasons import Reason
from shopops.contexts.promotions.rules.base import (
    Level,
    LineDiscounts,
    Outcome,
    Reader,
    RuleContext,
    Skip,
    line_discounts,
    major,
    outcome_value,
)

FIELDS = ("price",)


@dataclass(frozen=True, slots=True)
class FlashPrice:
    price_minor: int

    @property
    def level(self) -> Level:
        return Level.PRICE

    def apply(self, context: RuleContext) -> Outcome:
        state = context.state
        left = context.units_left
        if left is not None and left <= 0:
            return Skip(Reason.QUOTA_EXHAUSTED, "the flash sale quota is used up")
        amounts: dict[int, int] = {}
        units_by_line: dict[int, int] = {}
        for i in context.lines:
            quantity = state.quantities[i]
            units = quantity if left is None else min(quantity, left - sum(units_by_line.values()))
            if units <= 0:
                break
            normal = round_half_even(state.net[i] * units, quantity)
            if normal > self.price_minor * units:
                amounts[i] = normal - self.price_minor * units
                units_by_line[i] = units
        result = line_discounts(amounts, state)
        return LineDiscounts(result.amounts, units=sum(units_by_line[i] for i in result.amounts))

    def value(self, context: RuleContext) -> int:
        return outcome_value(self.apply(context), context)

    def to_json(self, currency: str | None) -> dict[str, Any]:
        return {"price": major(self.price_minor, currency)}


def parse(reader: Reader) -> FlashPrice | None:
    reader.reject_unknown(FIELDS)
    price = reader.money("price", positive=False)
    return None if price is None else FlashPrice(price)

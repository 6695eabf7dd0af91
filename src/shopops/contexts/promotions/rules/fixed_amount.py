"""A fixed amount off the scoped subtotal (``order``) or off every scoped unit (``unit``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shopops.contexts.promotions.rules.base import (
    Level,
    OrderDiscount,
    Outcome,
    Reader,
    RuleContext,
    clamped_total,
    line_discounts,
    major,
)

FIELDS = ("amount", "per")


@dataclass(frozen=True, slots=True)
class FixedAmountOff:
    amount_minor: int
    per: str  # "order" | "unit"

    @property
    def level(self) -> Level:
        return Level.ITEM if self.per == "unit" else Level.ORDER

    def apply(self, context: RuleContext) -> Outcome:
        if self.per == "order":
            return OrderDiscount(min(self.amount_minor, context.base()))
        quantities = context.state.quantities
        amounts = {i: self.amount_minor * quantities[i] for i in context.lines}
        return line_discounts(amounts, context.state)

    def value(self, context: RuleContext) -> int:
        if self.per == "order":
            base, room = context.totals()
            return min(self.amount_minor, base, room)
        quantities = context.state.quantities
        amounts = {i: self.amount_minor * quantities[i] for i in context.lines}
        return clamped_total(amounts, context.state)

    def to_json(self, currency: str | None) -> dict[str, Any]:
        return {"amount": major(self.amount_minor, currency), "per": self.per}


def parse(reader: Reader) -> FixedAmountOff | None:
    reader.reject_unknown(FIELDS)
    amount = reader.money("amount")
    per = reader.choice("per", ("order", "unit"), "order")
    return None if amount is None else FixedAmountOff(amount, per)

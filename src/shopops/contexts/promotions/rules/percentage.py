"""Percentage off: each scoped line (``items``) or the scoped subtotal (``order``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shopops.contexts.promotions.arithmetic import share
from shopops.contexts.promotions.rules.base import (
    Level,
    OrderDiscount,
    Outcome,
    Reader,
    RuleContext,
    line_discounts,
    major,
    percent_text,
)

FIELDS = ("percent", "applies_to", "max_discount")


@dataclass(frozen=True, slots=True)
class PercentageOff:
    rate_bp: int
    applies_to: str  # "items" | "order"
    max_discount_minor: int | None = None

    @property
    def level(self) -> Level:
        return Level.ORDER if self.applies_to == "order" else Level.ITEM

    def apply(self, context: RuleContext) -> Outcome:
        if self.applies_to == "order":
            amount = share(context.base(), self.rate_bp)
            if self.max_discount_minor is not None:
                amount = min(amount, self.max_discount_minor)
            return OrderDiscount(amount)
        net, floor, rate = context.state.net, context.state.floor, self.rate_bp
        amounts = {}
        for i in context.lines:
            amount = min(share(net[i], rate), net[i] - floor[i])
            if amount > 0:
                amounts[i] = amount
        return line_discounts(amounts, context.state, self.max_discount_minor)

    def to_json(self, currency: str | None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "percent": percent_text(self.rate_bp),
            "applies_to": self.applies_to,
        }
        if self.max_discount_minor is not None:
            data["max_discount"] = major(self.max_discount_minor, currency)
        return data


def parse(reader: Reader) -> PercentageOff | None:
    reader.reject_unknown(FIELDS)
    rate = reader.percent("percent")
    applies_to = reader.choice("applies_to", ("items", "order"), "items")
    cap = reader.money("max_discount", required=False)
    return None if rate is None else PercentageOff(rate, applies_to, cap)

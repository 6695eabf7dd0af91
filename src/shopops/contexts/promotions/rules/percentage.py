"""Percentage off: each scoped line (``items``) or the scoped subtotal (``order``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from shopops.contexts.promotions.arithmetic import BASIS_POINTS, share
from shopops.contexts.promotions.rules.base import (
    Level,
    LineDiscounts,
    LineState,
    OrderDiscount,
    Outcome,
    Reader,
    RuleContext,
    line_discounts,
    major,
    percent_text,
)

FIELDS = ("percent", "applies_to", "max_discount")
HALF = BASIS_POINTS // 2


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
        amounts = self._amounts(context.state, context.lines)
        cap = self.max_discount_minor
        if cap is not None and sum(amounts.values()) > cap:
            return line_discounts(amounts, context.state, cap)
        return LineDiscounts(amounts)

    def value(self, context: RuleContext) -> int:
        if self.applies_to == "order":
            base, room = context.totals()
            amount = share(base, self.rate_bp)
            if self.max_discount_minor is not None:
                amount = min(amount, self.max_discount_minor)
            return min(amount, room)
        memo = context.memo
        if memo is None:
            total = sum(self._amounts(context.state, context.lines).values())
        else:  # the amounts stay put: each line's share at this rate is worked out once
            key = ("percentage", self.rate_bp)
            shares = memo.get(key)
            if shares is None:
                every_line = range(len(context.state.net))
                amounts = self._amounts(context.state, every_line)
                shares = memo[key] = [amounts.get(i, 0) for i in every_line]
            total = sum([shares[i] for i in context.lines])
        cap = self.max_discount_minor
        return total if cap is None or total <= cap else cap  # a capped split sums to the cap

    def _amounts(self, state: LineState, lines: Iterable[int]) -> dict[int, int]:
        """Each line's share at the rate within its room above the floor (none: left out)."""
        net, floor, rate = state.net, state.floor, self.rate_bp
        amounts = {}
        for i in lines:
            # share(net[i], rate), inlined: the engine's hottest loop
            amount, remainder = divmod(net[i] * rate, BASIS_POINTS)
            if remainder > HALF or (remainder == HALF and amount & 1):
                amount += 1
            room = net[i] - floor[i]
            if amount > room:
                amount = room
            if amount > 0:
                amounts[i] = amount
        return amounts

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

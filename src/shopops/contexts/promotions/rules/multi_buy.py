"""Multi-buy: buy X get Y (free or at a percentage off), and "the Nth item at P % off".

Every scoped unit goes into one pool. Each complete group of X + Y units earns
Y discounted units, as many times as the cart allows (up to
``max_applications``); the discounted units are the cheapest ones in the pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shopops.contexts.promotions.arithmetic import BASIS_POINTS, round_half_even
from shopops.contexts.promotions.reasons import Reason
from shopops.contexts.promotions.rules.base import (
    Level,
    Outcome,
    Reader,
    RuleContext,
    Skip,
    clamped_total,
    line_discounts,
    percent_text,
)

MULTI_BUY_FIELDS = ("buy", "get", "percent", "max_applications")
NTH_ITEM_FIELDS = ("n", "percent", "max_applications")


@dataclass(frozen=True, slots=True)
class MultiBuy:
    buy: int
    get: int
    rate_bp: int = BASIS_POINTS  # 100 %: the Y units are free
    max_applications: int | None = None
    style: str = "multi_buy"  # or "nth_item": written as {n: buy + 1}

    @property
    def level(self) -> Level:
        return Level.ITEM

    def apply(self, context: RuleContext) -> Outcome:
        amounts = self._amounts(context)
        return amounts if isinstance(amounts, Skip) else line_discounts(amounts, context.state)

    def value(self, context: RuleContext) -> int:
        amounts = self._amounts(context)
        return 0 if isinstance(amounts, Skip) else clamped_total(amounts, context.state)

    def _amounts(self, context: RuleContext) -> dict[int, int] | Skip:
        """The discounted units' amounts, cheapest units first, before the lines' floors."""
        state = context.state
        quantities, net = state.quantities, state.net
        pool = sum([quantities[i] for i in context.lines])
        applications = pool // (self.buy + self.get)
        if self.max_applications is not None:
            applications = min(applications, self.max_applications)
        if applications == 0:
            return Skip(
                Reason.MIN_QUANTITY_NOT_MET,
                f"needs {self.buy + self.get} eligible items, the cart has {pool}",
            )
        discounted = applications * self.get
        cheapest_first = sorted(context.lines, key=lambda i: (net[i] / quantities[i], i))
        amounts: dict[int, int] = {}
        for i in cheapest_first:
            units = min(quantities[i], discounted)
            amounts[i] = round_half_even(
                net[i] * units * self.rate_bp, quantities[i] * BASIS_POINTS
            )
            discounted -= units
            if discounted == 0:
                break
        return amounts

    def to_json(self, currency: str | None) -> dict[str, Any]:
        data: dict[str, Any] = (
            {"n": self.buy + 1} if self.style == "nth_item" else {"buy": self.buy, "get": self.get}
        )
        data["percent"] = percent_text(self.rate_bp)
        if self.max_applications is not None:
            data["max_applications"] = self.max_applications
        return data


def parse_multi_buy(reader: Reader) -> MultiBuy | None:
    reader.reject_unknown(MULTI_BUY_FIELDS)
    buy, get = reader.integer("buy"), reader.integer("get")
    rate = reader.percent("percent", default=BASIS_POINTS)
    limit = reader.integer("max_applications", required=False)
    if buy is None or get is None or rate is None:
        return None
    return MultiBuy(buy, get, rate, limit)


def parse_nth_item(reader: Reader) -> MultiBuy | None:
    reader.reject_unknown(NTH_ITEM_FIELDS)
    n = reader.integer("n", minimum=2)
    rate = reader.percent("percent")
    limit = reader.integer("max_applications", required=False)
    if n is None or rate is None:
        return None
    return MultiBuy(n - 1, 1, rate, limit, style="nth_item")

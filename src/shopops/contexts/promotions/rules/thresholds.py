"""Spend thresholds: tiers (spend 300 save 50 / spend 500 save 100) and repeating steps
(every 300 save 30, up to a cap). Both look at the scoped lines' amount after
price- and item-level promotions, and only the highest tier reached applies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shopops.contexts.promotions.errors import PromotionError
from shopops.contexts.promotions.reasons import Reason
from shopops.contexts.promotions.rules.base import (
    Level,
    OrderDiscount,
    Outcome,
    Reader,
    RuleContext,
    Skip,
    major,
)

TIER_FIELDS = ("tiers",)
STEP_FIELDS = ("every", "save", "max_discount")


@dataclass(frozen=True, slots=True)
class SpendTiers:
    tiers: tuple[tuple[int, int], ...]  # (spend, save), spend strictly ascending

    @property
    def level(self) -> Level:
        return Level.ORDER

    def apply(self, context: RuleContext) -> Outcome:
        base = context.base()
        amount = self._amount(base)
        if amount is None:
            lowest = self.tiers[0][0]
            return Skip(Reason.MIN_SPEND_NOT_MET, f"spend {lowest - base} more (minor units)")
        return OrderDiscount(amount)

    def value(self, context: RuleContext) -> int:
        base, room = context.totals()
        amount = self._amount(base)
        return 0 if amount is None else min(amount, room)

    def _amount(self, base: int) -> int | None:
        """The highest tier reached (None: none is)."""
        reached = [save for spend, save in self.tiers if base >= spend]
        return min(reached[-1], base) if reached else None

    def to_json(self, currency: str | None) -> dict[str, Any]:
        return {
            "tiers": [
                {"spend": major(spend, currency), "save": major(save, currency)}
                for spend, save in self.tiers
            ]
        }


@dataclass(frozen=True, slots=True)
class RepeatingThreshold:
    every_minor: int
    save_minor: int
    max_discount_minor: int | None = None

    @property
    def level(self) -> Level:
        return Level.ORDER

    def apply(self, context: RuleContext) -> Outcome:
        base = context.base()
        amount = self._amount(base)
        if amount is None:
            return Skip(Reason.MIN_SPEND_NOT_MET, f"spend {self.every_minor - base} more")
        return OrderDiscount(amount)

    def value(self, context: RuleContext) -> int:
        base, room = context.totals()
        amount = self._amount(base)
        return 0 if amount is None else min(amount, room)

    def _amount(self, base: int) -> int | None:
        """What the steps reached save (None: not one step is)."""
        times = base // self.every_minor
        if times == 0:
            return None
        amount = times * self.save_minor
        if self.max_discount_minor is not None:
            amount = min(amount, self.max_discount_minor)
        return min(amount, base)

    def to_json(self, currency: str | None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "every": major(self.every_minor, currency),
            "save": major(self.save_minor, currency),
        }
        if self.max_discount_minor is not None:
            data["max_discount"] = major(self.max_discount_minor, currency)
        return data


def parse_tiers(reader: Reader) -> SpendTiers | None:
    reader.reject_unknown(TIER_FIELDS)
    raw = reader.raw.get("tiers")
    if not isinstance(raw, list) or not raw or not all(isinstance(t, dict) for t in raw):
        reader.error("tiers", PromotionError.INVALID_PARAMS, "a non-empty list of {spend, save}")
        return None
    tiers: list[tuple[int, int]] = []
    for index, item in enumerate(raw):
        tier = reader.child(item, f"{reader.prefix}.tiers.{index}")
        tier.reject_unknown(("spend", "save"))
        spend, save = tier.money("spend"), tier.money("save")
        if spend is None or save is None:
            return None
        if save > spend:
            tier.error(
                "save", PromotionError.INVALID_AMOUNT, "a tier cannot save more than its spend"
            )
        if tiers and (spend <= tiers[-1][0] or save < tiers[-1][1]):
            tier.error(
                "",
                PromotionError.TIERS_OUT_OF_ORDER,
                "tiers go from the lowest spend up, each saving at least as much as the one before",
            )
        tiers.append((spend, save))
    return SpendTiers(tuple(tiers))


def parse_steps(reader: Reader) -> RepeatingThreshold | None:
    reader.reject_unknown(STEP_FIELDS)
    every, save = reader.money("every"), reader.money("save")
    cap = reader.money("max_discount", required=False)
    if every is None or save is None:
        return None
    if save > every:
        reader.error(
            "save", PromotionError.INVALID_AMOUNT, "a step cannot save more than it spends"
        )
    return RepeatingThreshold(every, save, cap)

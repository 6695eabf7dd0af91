"""Free shipping, optionally only for some shipping methods and up to a fee."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shopops.contexts.promotions.reasons import Reason
from shopops.contexts.promotions.rules.base import (
    Level,
    Outcome,
    Reader,
    RuleContext,
    ShippingDiscount,
    Skip,
    major,
    outcome_value,
)

FIELDS = ("methods", "max_fee")


@dataclass(frozen=True, slots=True)
class FreeShipping:
    methods: tuple[str, ...] = ()  # empty: every method
    max_fee_minor: int | None = None

    @property
    def level(self) -> Level:
        return Level.SHIPPING

    def apply(self, context: RuleContext) -> Outcome:
        if self.methods and context.shipping_method not in self.methods:
            return Skip(
                Reason.SHIPPING_METHOD_NOT_ELIGIBLE,
                f"only for {', '.join(self.methods)}, not {context.shipping_method}",
            )
        fee = context.shipping_fee_minor
        if self.max_fee_minor is not None:
            fee = min(fee, self.max_fee_minor)
        return ShippingDiscount(fee)

    def value(self, context: RuleContext) -> int:
        return outcome_value(self.apply(context), context)

    def to_json(self, currency: str | None) -> dict[str, Any]:
        data: dict[str, Any] = {"methods": list(self.methods)}
        if self.max_fee_minor is not None:
            data["max_fee"] = major(self.max_fee_minor, currency)
        return data


def parse(reader: Reader) -> FreeShipping | None:
    reader.reject_unknown(FIELDS)
    return FreeShipping(reader.texts("methods"), reader.money("max_fee", required=False))

"""Gift with purchase: adds a free line of a given SKU (its stock is reserved with the order).

The gift's list price is looked up when promotions are loaded, so the gift's
value shows as a discount and the line totals zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shopops.contexts.promotions.reasons import Reason
from shopops.contexts.promotions.rules.base import (
    GiftLine,
    Level,
    Outcome,
    Reader,
    RuleContext,
    Skip,
    outcome_value,
)

FIELDS = ("sku", "quantity")


@dataclass(frozen=True, slots=True)
class Gift:
    sku: str
    quantity: int = 1
    unit_price_minor: int = 0
    currency: str | None = None  # the gift SKU's currency, known once loaded

    @property
    def level(self) -> Level:
        return Level.GIFT

    def apply(self, context: RuleContext) -> Outcome:
        if context.units_left is not None and context.units_left < self.quantity:
            return Skip(Reason.QUOTA_EXHAUSTED, "no gifts left")
        return GiftLine(self.sku, self.quantity, self.unit_price_minor)

    def value(self, context: RuleContext) -> int:
        return outcome_value(self.apply(context), context)

    def to_json(self, currency: str | None) -> dict[str, Any]:
        return {"sku": self.sku, "quantity": self.quantity}


def parse(reader: Reader) -> Gift | None:
    reader.reject_unknown(FIELDS)
    sku = reader.text("sku")
    quantity = reader.integer("quantity", required=False, default=1)
    if sku is None or quantity is None:
        return None
    return Gift(sku, quantity)

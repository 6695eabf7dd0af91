"""Promotion rules, one small module per type, and the registry of their parsers."""

from __future__ import annotations

from shopops.contexts.promotions.rules import (
    fixed_amount,
    flash,
    gift,
    multi_buy,
    percentage,
    shipping,
    thresholds,
)
from shopops.contexts.promotions.rules.base import (
    GiftLine,
    Level,
    LineDiscounts,
    LineState,
    OrderDiscount,
    Outcome,
    Parser,
    Reader,
    RuleContext,
    RuleParams,
    ShippingDiscount,
    Skip,
)
from shopops.contexts.promotions.rules.fixed_amount import FixedAmountOff
from shopops.contexts.promotions.rules.flash import FlashPrice
from shopops.contexts.promotions.rules.gift import Gift
from shopops.contexts.promotions.rules.multi_buy import MultiBuy
from shopops.contexts.promotions.rules.percentage import PercentageOff
from shopops.contexts.promotions.rules.shipping import FreeShipping
from shopops.contexts.promotions.rules.thresholds import RepeatingThreshold, SpendTiers

PARSERS: dict[str, Parser] = {
    "percentage": percentage.parse,
    "fixed_amount": fixed_amount.parse,
    "spend_tiers": thresholds.parse_tiers,
    "repeating_threshold": thresholds.parse_steps,
    "multi_buy": multi_buy.parse_multi_buy,
    "nth_item": multi_buy.parse_nth_item,
    "gift": gift.parse,
    "free_shipping": shipping.parse,
    "flash_price": flash.parse,
}
KINDS = tuple(PARSERS)
QUOTA_KINDS = frozenset({"flash_price", "gift"})  # kinds that count units against a quota

__all__ = [
    "KINDS",
    "PARSERS",
    "QUOTA_KINDS",
    "FixedAmountOff",
    "FlashPrice",
    "FreeShipping",
    "Gift",
    "GiftLine",
    "Level",
    "LineDiscounts",
    "LineState",
    "MultiBuy",
    "OrderDiscount",
    "Outcome",
    "Parser",
    "PercentageOff",
    "Reader",
    "RepeatingThreshold",
    "RuleContext",
    "RuleParams",
    "ShippingDiscount",
    "Skip",
    "SpendTiers",
]

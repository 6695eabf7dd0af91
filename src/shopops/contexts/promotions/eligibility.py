"""Which promotions can apply to a cart at all, before stacking: the static checks,
cheapest first, each failure a stable reason code with a sentence."""

from __future__ import annotations

from dataclasses import dataclass, field

from shopops.contexts.promotions.cart import Cart, CouponGrant
from shopops.contexts.promotions.definitions import PromotionRule, Usage
from shopops.contexts.promotions.reasons import Reason
from shopops.contexts.promotions.rules import Gift, Level

NO_USAGE = Usage()


@dataclass(slots=True)
class Candidate:
    """A promotion that passed the static checks for this cart (hot fields precomputed)."""

    rule: PromotionRule
    lines: tuple[int, ...]  # scoped line indexes, exclusions removed
    units_left: int | None  # quota units this cart may take
    budget_left: int | None  # discount budget left
    coupon: CouponGrant | None
    id: int = field(init=False)
    level: Level = field(init=False)
    group: str = field(init=False)
    order_key: tuple[int, int, int] = field(init=False)
    min_spend: int = field(init=False)

    def __post_init__(self) -> None:
        rule, coupon = self.rule, self.coupon
        self.id = rule.id
        self.level = rule.level
        self.group = rule.group
        self.order_key = rule.order_key
        self.min_spend = max(
            rule.conditions.min_spend_minor or 0, (coupon.min_spend_minor or 0) if coupon else 0
        )


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: str
    message: str


NOT_IN_SCOPE = Refusal(Reason.NO_ELIGIBLE_LINES, "no line of the cart is in its scope")
NEEDS_COUPON = Refusal(Reason.COUPON_REQUIRED, "needs a coupon code")


def _customer_refusal(rule: PromotionRule, cart: Cart, usage: Usage) -> Refusal | None:
    conditions, limits, customer = rule.conditions, rule.limits, cart.customer
    per_customer = limits.per_customer is not None or limits.per_customer_units is not None
    if customer.id is None and (conditions.needs_customer or per_customer):
        return Refusal(Reason.CUSTOMER_REQUIRED, "only for signed-in customers")
    if conditions.tiers and customer.tier not in conditions.tiers:
        tiers = ", ".join(sorted(conditions.tiers))
        return Refusal(Reason.TIER_NOT_ELIGIBLE, f"for tiers {tiers}; customer is {customer.tier}")
    if conditions.segments and conditions.segments.isdisjoint(customer.segments):
        segments = ", ".join(sorted(conditions.segments))
        return Refusal(Reason.SEGMENT_NOT_ELIGIBLE, f"for customers tagged {segments}")
    if conditions.first_order_only and not customer.first_order:
        return Refusal(Reason.NOT_FIRST_ORDER, "only for a customer's first order")
    if limits.per_customer is not None and usage.customer_redemptions >= limits.per_customer:
        return Refusal(Reason.CUSTOMER_LIMIT_REACHED, f"{limits.per_customer} use(s) per customer")
    return None


def _limit_refusal(rule: PromotionRule, usage: Usage) -> Refusal | None:
    limits = rule.limits
    if limits.max_redemptions is not None and usage.redemptions >= limits.max_redemptions:
        return Refusal(Reason.USAGE_LIMIT_REACHED, f"all {limits.max_redemptions} uses are taken")
    if limits.max_discount_minor is not None and usage.discount_minor >= limits.max_discount_minor:
        return Refusal(Reason.BUDGET_EXHAUSTED, "the discount budget is spent")
    if limits.quota_units is not None and usage.units >= limits.quota_units:
        return Refusal(Reason.QUOTA_EXHAUSTED, f"all {limits.quota_units} units are gone")
    if limits.per_customer_units is not None and usage.customer_units >= limits.per_customer_units:
        return Refusal(
            Reason.CUSTOMER_LIMIT_REACHED, f"{limits.per_customer_units} unit(s) per customer"
        )
    return None


def _units_left(rule: PromotionRule, usage: Usage) -> int | None:
    limits = rule.limits
    left = [
        limit - used
        for limit, used in (
            (limits.quota_units, usage.units),
            (limits.per_customer_units, usage.customer_units),
        )
        if limit is not None
    ]
    return min(left) if left else None


def check(
    rule: PromotionRule,
    cart: Cart,
    included: tuple[int, ...] | None,
    usage: Usage | None,
    coupon: CouponGrant | None,
) -> Candidate | Refusal:
    """A candidate for stacking, or why the promotion cannot apply to this cart."""
    if not included:
        return NOT_IN_SCOPE
    usage = usage or NO_USAGE
    schedule = rule.schedule.refusal(cart.at)
    if schedule is not None:
        return Refusal(schedule, f"not running at {cart.at.isoformat()}")
    currency = rule.params.currency if isinstance(rule.params, Gift) else rule.currency
    if currency is not None and currency != cart.currency:
        return Refusal(
            Reason.CURRENCY_MISMATCH, f"set in {currency}, the cart is in {cart.currency}"
        )
    channels = rule.conditions.channels
    if channels and cart.channel not in channels:
        return Refusal(Reason.CHANNEL_NOT_ELIGIBLE, f"only on {', '.join(sorted(channels))}")
    refusal = _customer_refusal(rule, cart, usage) or _limit_refusal(rule, usage)
    if refusal is not None:
        return refusal
    if rule.requires_coupon and coupon is None:
        return NEEDS_COUPON
    scope, lines = rule.scope, cart.lines
    kept = included
    if scope.exclude_products or scope.exclude_categories or scope.exclude_brands:
        kept = tuple(
            i
            for i in included
            if not scope.excludes(lines[i].product_id, lines[i].category_ids, lines[i].brand_id)
        )
        if not kept:
            return Refusal(Reason.EXCLUDED_PRODUCT, "every line in its scope is excluded")
    minimum = rule.conditions.min_quantity
    if minimum is not None and sum(lines[i].quantity for i in kept) < minimum:
        return Refusal(Reason.MIN_QUANTITY_NOT_MET, f"needs {minimum} eligible items")
    spend = max(
        rule.conditions.min_spend_minor or 0, (coupon.min_spend_minor or 0) if coupon else 0
    )
    if spend and sum(lines[i].subtotal_minor for i in kept) < spend:
        return Refusal(Reason.MIN_SPEND_NOT_MET, f"needs a spend of {spend} on eligible items")
    budget_left = None
    if rule.limits.max_discount_minor is not None:
        budget_left = rule.limits.max_discount_minor - usage.discount_minor
    return Candidate(rule, kept, _units_left(rule, usage), budget_left, coupon)

"""Which promotions can apply to a cart at all, before stacking: the static checks,
cheapest first, each failure a stable reason code with a sentence.

What the checks read of a rule, and the refusals whose sentence depends on the rule
alone, are worked out once per ``PromotionSet`` (``Gate``), not once per cart."""

from __future__ import annotations

from collections.abc import Sequence
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
    id: int
    position: int  # the rule's place in its PromotionSet (by id): its bit in stacking masks
    rank: int  # its place in the application order (level, priority, id)
    level: Level
    group: str
    min_spend: int  # the rule's or the coupon's, whichever is higher (0: none)


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: str
    message: str


NOT_IN_SCOPE = Refusal(Reason.NO_ELIGIBLE_LINES, "no line of the cart is in its scope")
NEEDS_COUPON = Refusal(Reason.COUPON_REQUIRED, "needs a coupon code")
ALL_EXCLUDED = Refusal(Reason.EXCLUDED_PRODUCT, "every line in its scope is excluded")
NEEDS_CUSTOMER = Refusal(Reason.CUSTOMER_REQUIRED, "only for signed-in customers")
NOT_FIRST_ORDER = Refusal(Reason.NOT_FIRST_ORDER, "only for a customer's first order")
BUDGET_SPENT = Refusal(Reason.BUDGET_EXHAUSTED, "the discount budget is spent")


@dataclass(frozen=True, slots=True)
class Gate:
    """What the checks read of one rule, derived once per ``PromotionSet`` (not per cart)."""

    rule: PromotionRule
    position: int  # the rule's place in the set (by id): its bit in the stacking masks
    rank: int  # its place in the application order (``order_key``)
    scheduled: bool  # a start, an end or a recurrence to check
    currency: str | None
    channels: frozenset[str]
    customer_checks: bool  # customer conditions or per-customer limits
    limit_checks: bool  # limits to check against the usage
    min_quantity: int | None
    min_spend: int  # the rule's own minimum spend (0: none)
    budget: int | None  # the discount budget over all orders
    counted: bool  # a unit quota: ``units_left`` depends on the usage
    plain: bool  # none of the above to check but the currency
    # the refusals whose sentence depends on the rule alone, by the condition refused
    refusals: dict[str, Refusal] = field(default_factory=dict)

    @classmethod
    def of(cls, rule: PromotionRule, position: int, rank: int) -> Gate:
        schedule, conditions, limits = rule.schedule, rule.conditions, rule.limits
        scheduled = any(
            value is not None
            for value in (schedule.starts_at, schedule.ends_at, schedule.recurrence)
        )
        per_customer = limits.per_customer is not None or limits.per_customer_units is not None
        customer_checks = conditions.needs_customer or per_customer
        limit_checks = any(
            value is not None
            for value in (
                limits.max_redemptions,
                limits.max_discount_minor,
                limits.quota_units,
                limits.per_customer_units,
            )
        )
        counted = limits.quota_units is not None or limits.per_customer_units is not None
        plain = not (
            scheduled
            or conditions.channels
            or customer_checks
            or limit_checks
            or rule.requires_coupon
            or conditions.min_quantity is not None
            or conditions.min_spend_minor
            or counted
        )
        return cls(
            rule,
            position,
            rank,
            scheduled,
            rule.params.currency if isinstance(rule.params, Gift) else rule.currency,
            conditions.channels,
            customer_checks,
            limit_checks,
            conditions.min_quantity,
            conditions.min_spend_minor or 0,
            limits.max_discount_minor,
            counted,
            plain,
            _static_refusals(rule),
        )


def _static_refusals(rule: PromotionRule) -> dict[str, Refusal]:
    conditions, limits = rule.conditions, rule.limits
    messages: dict[str, tuple[str, str]] = {}  # key -> (reason, sentence)
    if conditions.channels:
        channels = ", ".join(sorted(conditions.channels))
        messages["channels"] = (Reason.CHANNEL_NOT_ELIGIBLE, f"only on {channels}")
    if conditions.tiers:
        messages["tiers"] = (
            Reason.TIER_NOT_ELIGIBLE,
            f"for tiers {', '.join(sorted(conditions.tiers))}",  # the customer's tier follows
        )
    if conditions.segments:
        segments = ", ".join(sorted(conditions.segments))
        messages["segments"] = (Reason.SEGMENT_NOT_ELIGIBLE, f"for customers tagged {segments}")
    if limits.per_customer is not None:
        messages["per_customer"] = (
            Reason.CUSTOMER_LIMIT_REACHED,
            f"{limits.per_customer} use(s) per customer",
        )
    if limits.max_redemptions is not None:
        messages["redemptions"] = (
            Reason.USAGE_LIMIT_REACHED,
            f"all {limits.max_redemptions} uses are taken",
        )
    if limits.quota_units is not None:
        messages["quota"] = (Reason.QUOTA_EXHAUSTED, f"all {limits.quota_units} units are gone")
    if limits.per_customer_units is not None:
        messages["customer_units"] = (
            Reason.CUSTOMER_LIMIT_REACHED,
            f"{limits.per_customer_units} unit(s) per customer",
        )
    if conditions.min_quantity is not None:
        messages["min_quantity"] = (
            Reason.MIN_QUANTITY_NOT_MET,
            f"needs {conditions.min_quantity} eligible items",
        )
    return {key: Refusal(reason, message) for key, (reason, message) in messages.items()}


def _customer_refusal(gate: Gate, cart: Cart, usage: Usage) -> Refusal | None:
    rule, customer = gate.rule, cart.customer
    conditions, limits = rule.conditions, rule.limits
    if customer.id is None:
        return NEEDS_CUSTOMER
    if conditions.tiers and customer.tier not in conditions.tiers:
        tiers = gate.refusals["tiers"].message
        return Refusal(Reason.TIER_NOT_ELIGIBLE, f"{tiers}; customer is {customer.tier}")
    if conditions.segments and conditions.segments.isdisjoint(customer.segments):
        return gate.refusals["segments"]
    if conditions.first_order_only and not customer.first_order:
        return NOT_FIRST_ORDER
    if limits.per_customer is not None and usage.customer_redemptions >= limits.per_customer:
        return gate.refusals["per_customer"]
    return None


def _limit_refusal(gate: Gate, usage: Usage) -> Refusal | None:
    limits = gate.rule.limits
    if limits.max_redemptions is not None and usage.redemptions >= limits.max_redemptions:
        return gate.refusals["redemptions"]
    if limits.max_discount_minor is not None and usage.discount_minor >= limits.max_discount_minor:
        return BUDGET_SPENT
    if limits.quota_units is not None and usage.units >= limits.quota_units:
        return gate.refusals["quota"]
    if limits.per_customer_units is not None and usage.customer_units >= limits.per_customer_units:
        return gate.refusals["customer_units"]
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
    gate: Gate,
    cart: Cart,
    kept: tuple[int, ...],
    usage: Usage | None,
    coupon: CouponGrant | None,
    subtotals: Sequence[int],
) -> Candidate | Refusal:
    """A candidate for stacking, or why the promotion cannot apply to this cart.

    ``kept`` are the lines its scope includes, exclusions removed (the caller refuses a
    promotion whose scope includes no line with ``NOT_IN_SCOPE`` before calling this);
    ``subtotals`` are the cart lines' list-price subtotals.
    """
    rule = gate.rule
    currency = gate.currency
    if gate.plain and coupon is None and kept and (currency is None or currency == cart.currency):
        return Candidate(
            rule,
            kept,
            None,
            None,
            None,
            rule.id,
            gate.position,
            gate.rank,
            rule.level,
            rule.group,
            0,
        )
    if gate.scheduled:
        schedule = rule.schedule.refusal(cart.at)
        if schedule is not None:
            return Refusal(schedule, f"not running at {cart.at.isoformat()}")
    if currency is not None and currency != cart.currency:
        return Refusal(
            Reason.CURRENCY_MISMATCH, f"set in {currency}, the cart is in {cart.currency}"
        )
    if gate.channels and cart.channel not in gate.channels:
        return gate.refusals["channels"]
    if gate.customer_checks:
        refusal = _customer_refusal(gate, cart, usage or NO_USAGE)
        if refusal is not None:
            return refusal
    if gate.limit_checks:
        refusal = _limit_refusal(gate, usage or NO_USAGE)
        if refusal is not None:
            return refusal
    if coupon is None:
        if rule.requires_coupon:
            return NEEDS_COUPON
        spend = gate.min_spend
    else:
        spend = max(gate.min_spend, coupon.min_spend_minor or 0)
    if not kept:
        return ALL_EXCLUDED
    minimum = gate.min_quantity
    if minimum is not None and sum([cart.lines[i].quantity for i in kept]) < minimum:
        return gate.refusals["min_quantity"]
    if spend and sum([subtotals[i] for i in kept]) < spend:
        return Refusal(Reason.MIN_SPEND_NOT_MET, f"needs a spend of {spend} on eligible items")
    budget_left = gate.budget
    if budget_left is not None and usage is not None:
        budget_left -= usage.discount_minor
    units_left = _units_left(rule, usage or NO_USAGE) if gate.counted else None
    return Candidate(
        rule,
        kept,
        units_left,
        budget_left,
        coupon,
        rule.id,
        gate.position,
        gate.rank,
        rule.level,
        rule.group,
        spend,
    )

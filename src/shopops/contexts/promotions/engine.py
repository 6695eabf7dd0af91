"""The pricing engine: pure rules, no I/O. A cart and the active promotions in, a priced
cart with an explanation out.

Order of work, the same for every cart:

1. every promotion passes or fails the static checks (schedule, channel,
   customer, coupon, limits, scope, minimum quantity and spend at list price);
2. stacking picks the compatible set best for the customer (``stacking``);
3. the set is applied by level — special prices, then line promotions, then
   order promotions on what is left, then shipping, then gifts — and by
   priority within a level; each promotion sees the amounts the earlier ones
   left, so discounts compound and never add up past the price;
4. loyalty points pay part of what remains; tax included in each line is
   worked out last.

Guarantees, for every cart: no line below its floor (or zero), the total
never negative, the total discount never above the subtotal plus shipping,
and order-level discounts and points split across lines so that the parts
sum exactly to the whole (``arithmetic.allocate_capped``). Amounts are
integer minor units; ``arithmetic.round_half_even`` is the only rounding.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter

from shopops.contexts.promotions.arithmetic import allocate_capped, included_tax
from shopops.contexts.promotions.cart import (
    Cart,
    CartLine,
    CouponGrant,
    CustomerFacts,
    PointsOffer,
    Shipping,
)
from shopops.contexts.promotions.definitions import PromotionRule, Usage
from shopops.contexts.promotions.eligibility import Candidate, Refusal, check
from shopops.contexts.promotions.index import PromotionSet
from shopops.contexts.promotions.priced import (
    AppliedPromotion,
    Consideration,
    CouponOutcome,
    LinePart,
    PricedCart,
    PricedLine,
)
from shopops.contexts.promotions.reasons import Reason, not_combinable_with
from shopops.contexts.promotions.rules import (
    GiftLine,
    Level,
    LineDiscounts,
    LineState,
    OrderDiscount,
    RuleContext,
    ShippingDiscount,
    Skip,
)
from shopops.contexts.promotions.stacking import (
    candidate_sets,
    conflict_between,
    conflict_masks,
    members,
)
from shopops.kernel.money import allocate

Explanation = tuple[Consideration, ...]


@dataclass(slots=True)
class _Effect:
    """What one promotion did in one evaluation."""

    reason: str
    message: str = ""
    amount: int = 0
    parts: dict[int, int] = field(default_factory=dict)  # line index -> amount
    units: int = 0
    gift: GiftLine | None = None


@dataclass(slots=True)
class _Evaluation:
    state: LineState
    effects: dict[int, _Effect]
    order: list[Candidate]  # application order
    shipping_discount: int = 0
    benefit: int = 0


def _check_cart(cart: Cart) -> None:
    if not cart.lines:
        raise ValueError("a cart needs at least one line")
    for line in cart.lines:
        if line.quantity <= 0 or line.unit_price_minor < 0 or line.floor_unit_minor < 0:
            raise ValueError(f"invalid cart line {line}")
    if cart.shipping.fee_minor < 0 or cart.tax_rate_bp < 0:
        raise ValueError("shipping fee and tax rate cannot be negative")


def _line_effect(outcome: LineDiscounts, candidate: Candidate, state: LineState) -> _Effect:
    amounts = {i: min(a, state.room(i)) for i, a in outcome.amounts.items()}
    total = sum(amounts.values())
    budget = candidate.budget_left
    if budget is not None and total > budget:
        indexes = sorted(amounts)
        amounts = dict(zip(indexes, allocate(budget, [amounts[i] for i in indexes]), strict=True))
        total = budget
    for i, amount in amounts.items():
        state.net[i] -= amount
    parts = {i: a for i, a in amounts.items() if a}
    return _Effect(Reason.APPLIED, f"on {len(parts)} line(s)", total, parts, outcome.units)


def _order_effect(outcome: OrderDiscount, candidate: Candidate, state: LineState) -> _Effect:
    lines = candidate.lines
    rooms = [state.room(i) for i in lines]
    amount = min(outcome.amount, sum(rooms))
    if candidate.budget_left is not None:
        amount = min(amount, candidate.budget_left)
    parts = allocate_capped(amount, [state.net[i] for i in lines], rooms)
    for i, part in zip(lines, parts, strict=True):
        state.net[i] -= part
    shares = {i: p for i, p in zip(lines, parts, strict=True) if p}
    return _Effect(Reason.APPLIED, f"split over {len(shares)} line(s)", amount, shares)


@dataclass(frozen=True, slots=True)
class _Start:
    """A cart's lines before any promotion: shared by every evaluation of the cart."""

    quantities: tuple[int, ...]
    net: list[int]
    floor: list[int]

    @classmethod
    def of(cls, cart: Cart) -> _Start:
        lines = cart.lines
        return cls(
            tuple(line.quantity for line in lines),
            [line.subtotal_minor for line in lines],
            [line.floor_minor for line in lines],
        )


def _evaluate(cart: Cart, start: _Start, chosen: Iterable[Candidate]) -> _Evaluation:
    state = LineState(start.quantities, start.net.copy(), start.floor)
    evaluation = _Evaluation(state, {}, sorted(chosen, key=attrgetter("order_key")))
    shipping_left = cart.shipping.fee_minor
    for candidate in evaluation.order:
        context = RuleContext(
            state, candidate.lines, cart.shipping.method, shipping_left, candidate.units_left
        )
        spend = candidate.min_spend
        if spend and candidate.level > Level.PRICE and context.base() < spend:
            evaluation.effects[candidate.id] = _Effect(
                Reason.MIN_SPEND_NOT_MET,
                f"eligible items come to {context.base()} after earlier promotions; needs {spend}",
            )
            continue
        outcome = candidate.rule.params.apply(context)
        budget = candidate.budget_left
        if isinstance(outcome, Skip):
            effect = _Effect(outcome.reason, outcome.message)
        elif isinstance(outcome, LineDiscounts):
            effect = _line_effect(outcome, candidate, state)
        elif isinstance(outcome, OrderDiscount):
            effect = _order_effect(outcome, candidate, state)
        elif isinstance(outcome, ShippingDiscount):
            amount = min(outcome.amount, shipping_left, shipping_left if budget is None else budget)
            shipping_left -= amount
            effect = _Effect(Reason.APPLIED, "off shipping", amount)
        else:
            value = outcome.quantity * outcome.unit_price_minor
            if budget is not None and value > budget:
                effect = _Effect(Reason.BUDGET_EXHAUSTED, "the budget left cannot cover the gift")
            else:
                gift = f"adds {outcome.quantity} x {outcome.sku} free"
                effect = _Effect(Reason.APPLIED, gift, value, units=outcome.quantity, gift=outcome)
        if effect.reason == Reason.APPLIED and effect.amount == 0 and effect.gift is None:
            effect = _Effect(Reason.NO_DISCOUNT, "nothing left to discount on its lines")
        evaluation.effects[candidate.id] = effect
        evaluation.benefit += effect.amount
    evaluation.shipping_discount = cart.shipping.fee_minor - shipping_left
    return evaluation


def _standalone(cart: Cart, pristine: LineState, candidate: Candidate) -> int:
    """What one promotion alone would give: the value that orders the greedy pick."""
    context = RuleContext(
        pristine,
        candidate.lines,
        cart.shipping.method,
        cart.shipping.fee_minor,
        candidate.units_left,
    )
    outcome = candidate.rule.params.apply(context)
    if isinstance(outcome, Skip):
        return 0
    if isinstance(outcome, LineDiscounts):
        value = sum(outcome.amounts.values())
    elif isinstance(outcome, OrderDiscount):
        net, floor = pristine.net, pristine.floor
        value = min(outcome.amount, sum(net[i] - floor[i] for i in candidate.lines))
    elif isinstance(outcome, ShippingDiscount):
        value = min(outcome.amount, cart.shipping.fee_minor)
    else:
        value = outcome.quantity * outcome.unit_price_minor
    budget = candidate.budget_left
    return value if budget is None else min(value, budget)


def _points(cart: Cart, state: LineState) -> tuple[int, dict[int, int]]:
    """Points spent and each line's share of their value, within the lines' room."""
    offer = cart.points
    if offer is None or offer.points <= 0 or offer.value_minor <= 0 or offer.per <= 0:
        return 0, {}
    rooms = [state.room(i) for i in range(len(cart.lines))]
    value = min(offer.points * offer.value_minor // offer.per, sum(rooms))
    points = value * offer.per // offer.value_minor  # never spend more points than used
    value = points * offer.value_minor // offer.per
    parts = allocate_capped(value, list(state.net), rooms)
    return points, {i: p for i, p in enumerate(parts) if p}


def _priced_lines(
    cart: Cart, evaluation: _Evaluation, points_parts: Mapping[int, int]
) -> list[PricedLine]:
    item_parts: list[list[LinePart]] = [[] for _ in cart.lines]
    order_parts: list[list[LinePart]] = [[] for _ in cart.lines]
    gifts: list[PricedLine] = []
    for candidate in evaluation.order:
        effect = evaluation.effects[candidate.id]
        if effect.reason != Reason.APPLIED:
            continue
        target = order_parts if candidate.rule.level == Level.ORDER else item_parts
        for i, amount in sorted(effect.parts.items()):
            target[i].append(LinePart(candidate.id, amount))
        if effect.gift is not None:
            gift = effect.gift
            value = gift.quantity * gift.unit_price_minor
            gifts.append(
                PricedLine(
                    sku=gift.sku,
                    quantity=gift.quantity,
                    unit_price_minor=gift.unit_price_minor,
                    subtotal_minor=value,
                    item_discounts=(LinePart(candidate.id, value),) if value else (),
                    order_discounts=(),
                    points_minor=0,
                    total_minor=0,
                    tax_minor=0,
                    floor_minor=0,
                    gift_of=candidate.id,
                )
            )
    priced = []
    for i, line in enumerate(cart.lines):
        total = evaluation.state.net[i] - points_parts.get(i, 0)
        priced.append(
            PricedLine(
                sku=line.sku,
                quantity=line.quantity,
                unit_price_minor=line.unit_price_minor,
                subtotal_minor=line.subtotal_minor,
                item_discounts=tuple(item_parts[i]),
                order_discounts=tuple(order_parts[i]),
                points_minor=points_parts.get(i, 0),
                total_minor=total,
                tax_minor=included_tax(total, cart.tax_rate_bp),
                floor_minor=line.floor_minor,
            )
        )
    return priced + gifts


def _explain(
    promotions: PromotionSet,
    refusals: Mapping[int, Refusal],
    candidates: Sequence[Candidate],
    masks: Sequence[int],
    evaluation: _Evaluation,
    chosen: int,
) -> Explanation:
    index = {candidate.id: k for k, candidate in enumerate(candidates)}
    lines = []
    for rule in promotions.rules:
        refusal = refusals.get(rule.id)
        effect = evaluation.effects.get(rule.id)
        if refusal is not None:
            reason, message, amount = refusal.reason, refusal.message, 0
        elif effect is not None:
            reason, message, amount = effect.reason, effect.message, effect.amount
        else:
            k = index[rule.id]
            blocking = masks[k] & chosen
            other = candidates[(blocking & -blocking).bit_length() - 1]
            reason = not_combinable_with(other.id)
            why = conflict_between(candidates[k], other) or ""
            message, amount = f"promotion {other.id} gives the customer more; {why}", 0
        lines.append(
            Consideration(
                rule.id, rule.name, rule.kind, reason == Reason.APPLIED, reason, amount, message
            )
        )
    return tuple(lines)


def price_cart(
    cart: Cart,
    promotions: PromotionSet | Sequence[PromotionRule],
    usage: Mapping[int, Usage] | None = None,
) -> PricedCart:
    """Price ``cart`` against ``promotions`` given their live counters in ``usage``."""
    _check_cart(cart)
    promotion_set = promotions if isinstance(promotions, PromotionSet) else PromotionSet(promotions)
    usage = usage or {}
    grants: dict[int, CouponGrant] = {}
    for grant in cart.coupons:
        grants.setdefault(grant.promotion_id, grant)
    matches = promotion_set.match(cart.lines)
    refusals: dict[int, Refusal] = {}
    candidates: dict[int, Candidate] = {}
    for rule in promotion_set.rules:
        checked = check(rule, cart, matches.get(rule.id), usage.get(rule.id), grants.get(rule.id))
        if isinstance(checked, Refusal):
            refusals[rule.id] = checked
        else:
            candidates[rule.id] = checked
    ordered = list(candidates.values())
    masks = conflict_masks(ordered)
    start = _Start.of(cart)
    evaluations: dict[int, _Evaluation] = {}

    def evaluate(chosen: int) -> _Evaluation:
        if chosen not in evaluations:
            evaluations[chosen] = _evaluate(cart, start, [ordered[k] for k in members(chosen)])
        return evaluations[chosen]

    def preference(chosen: int) -> tuple[int, tuple[tuple[int, int], ...]]:
        picked = sorted((ordered[k].rule.stacking.priority, ordered[k].id) for k in members(chosen))
        return -evaluate(chosen).benefit, tuple(picked)

    pristine = LineState(start.quantities, start.net, start.floor)  # rules only read it
    sets = candidate_sets(ordered, masks, lambda k: _standalone(cart, pristine, ordered[k]))
    chosen = min(sets, key=preference)
    evaluation = evaluate(chosen)
    points, points_parts = _points(cart, evaluation.state)
    explanation = _explain(promotion_set, refusals, ordered, masks, evaluation, chosen)
    return _assemble(cart, evaluation, points, points_parts, explanation)


def _assemble(
    cart: Cart,
    evaluation: _Evaluation,
    points: int,
    points_parts: Mapping[int, int],
    explanation: Explanation,
) -> PricedCart:
    lines = _priced_lines(cart, evaluation, points_parts)
    applied = []
    for candidate in evaluation.order:
        effect = evaluation.effects[candidate.id]
        if effect.reason == Reason.APPLIED:
            rule = candidate.rule
            code = candidate.coupon.code if candidate.coupon else None
            applied.append(
                AppliedPromotion(
                    rule.id,
                    rule.name,
                    rule.kind,
                    rule.level.name.lower(),
                    effect.amount,
                    code,
                    effect.units,
                )
            )
    by_promotion = {c.promotion_id: c for c in explanation}
    coupons = []
    for grant in cart.coupons:
        considered = by_promotion.get(grant.promotion_id)
        reason = considered.reason if considered else "promotion_not_active"
        coupons.append(
            CouponOutcome(grant.code, grant.promotion_id, reason == Reason.APPLIED, reason)
        )
    item_discount = sum(a.discount_minor for a in applied if a.level in ("price", "item", "gift"))
    order_discount = sum(a.discount_minor for a in applied if a.level == "order")
    shipping = cart.shipping.fee_minor
    shipping_total = shipping - evaluation.shipping_discount
    return PricedCart(
        currency=cart.currency,
        lines=tuple(lines),
        subtotal_minor=sum(line.subtotal_minor for line in lines),
        item_discount_minor=item_discount,
        order_discount_minor=order_discount,
        shipping_minor=shipping,
        shipping_discount_minor=evaluation.shipping_discount,
        points_redeemed=points,
        points_minor=sum(points_parts.values()),
        total_minor=sum(line.total_minor for line in lines) + shipping_total,
        tax_minor=sum(line.tax_minor for line in lines)
        + included_tax(shipping_total, cart.tax_rate_bp),
        applied=tuple(applied),
        explanation=explanation,
        coupons=tuple(coupons),
    )


__all__ = [
    "Cart",
    "CartLine",
    "Consideration",
    "CouponGrant",
    "CustomerFacts",
    "Explanation",
    "PointsOffer",
    "PricedCart",
    "PricedLine",
    "PromotionRule",
    "PromotionSet",
    "Shipping",
    "Usage",
    "price_cart",
]

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

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import TypeVar

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
from shopops.contexts.promotions.eligibility import NEEDS_COUPON, Candidate, Refusal, check
from shopops.contexts.promotions.index import MAX_REMEMBERED, PromotionSet
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


APPLIED = Reason.APPLIED  # enum members read once: attribute lookups on an enum class are slow
NO_DISCOUNT = Reason.NO_DISCOUNT
PRICE, ORDER, SHIPPING = Level.PRICE, Level.ORDER, Level.SHIPPING
LEVEL_NAMES = {level: level.name.lower() for level in Level}
TIMED = frozenset({Reason.NOT_STARTED, Reason.ENDED, Reason.OUTSIDE_RECURRING_WINDOW})
Key = TypeVar("Key", bound=Hashable)


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
    effects: dict[int, _Effect]  # by rule position
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
    net, floor = state.net, state.floor
    amounts = {}
    for i, amount in outcome.amounts.items():
        room = net[i] - floor[i]
        amounts[i] = min(amount, room if room > 0 else 0)
    total = sum(amounts.values())
    budget = candidate.budget_left
    if budget is not None and total > budget:
        indexes = sorted(amounts)
        amounts = dict(zip(indexes, allocate(budget, [amounts[i] for i in indexes]), strict=True))
        total = budget
    parts = {}
    for i, amount in amounts.items():
        if amount:
            net[i] -= amount
            parts[i] = amount
    return _Effect(APPLIED, f"on {len(parts)} line(s)", total, parts, outcome.units)


def _order_effect(outcome: OrderDiscount, candidate: Candidate, state: LineState) -> _Effect:
    lines = candidate.lines
    net, floor = state.net, state.floor
    rooms = [max(net[i] - floor[i], 0) for i in lines]
    amount = min(outcome.amount, sum(rooms))
    if candidate.budget_left is not None:
        amount = min(amount, candidate.budget_left)
    parts = allocate_capped(amount, [net[i] for i in lines], rooms)
    shares = {}
    for i, part in zip(lines, parts, strict=True):
        if part:
            net[i] -= part
            shares[i] = part
    return _Effect(APPLIED, f"split over {len(shares)} line(s)", amount, shares)


@dataclass(frozen=True, slots=True)
class _Start:
    """A cart's lines before any promotion: shared by every evaluation of the cart."""

    quantities: tuple[int, ...]
    net: list[int]  # list-price subtotals
    floor: list[int]

    @classmethod
    def of(cls, cart: Cart) -> _Start:
        quantities, net, floor = [], [], []
        for line in cart.lines:
            quantity = line.quantity
            subtotal = line.unit_price_minor * quantity
            quantities.append(quantity)
            net.append(subtotal)
            floor.append(min(line.floor_unit_minor * quantity, subtotal))
        return cls(tuple(quantities), net, floor)


def _evaluate(cart: Cart, start: _Start, chosen: Iterable[Candidate]) -> _Evaluation:
    state = LineState(start.quantities, start.net.copy(), start.floor)
    evaluation = _Evaluation(state, {}, sorted(chosen, key=attrgetter("rank")))
    effects = evaluation.effects
    shipping_left = cart.shipping.fee_minor
    context = RuleContext(state, (), cart.shipping.method, shipping_left, None)
    for candidate in evaluation.order:
        context.lines = candidate.lines
        context.shipping_fee_minor = shipping_left
        context.units_left = candidate.units_left
        spend = candidate.min_spend
        if spend and candidate.level > PRICE and context.base() < spend:
            effects[candidate.position] = _Effect(
                Reason.MIN_SPEND_NOT_MET,
                f"eligible items come to {context.base()} after earlier promotions; needs {spend}",
            )
            continue
        outcome = candidate.rule.params.apply(context)
        budget = candidate.budget_left
        if isinstance(outcome, LineDiscounts):
            effect = _line_effect(outcome, candidate, state)
        elif isinstance(outcome, OrderDiscount):
            effect = _order_effect(outcome, candidate, state)
        elif isinstance(outcome, Skip):
            effect = _Effect(outcome.reason, outcome.message)
        elif isinstance(outcome, ShippingDiscount):
            amount = min(outcome.amount, shipping_left, shipping_left if budget is None else budget)
            shipping_left -= amount
            effect = _Effect(APPLIED, "off shipping", amount)
        else:
            value = outcome.quantity * outcome.unit_price_minor
            if budget is not None and value > budget:
                effect = _Effect(Reason.BUDGET_EXHAUSTED, "the budget left cannot cover the gift")
            else:
                gift = f"adds {outcome.quantity} x {outcome.sku} free"
                effect = _Effect(APPLIED, gift, value, units=outcome.quantity, gift=outcome)
        if effect.reason == APPLIED and effect.amount == 0 and effect.gift is None:
            effect = _Effect(NO_DISCOUNT, "nothing left to discount on its lines")
        effects[candidate.position] = effect
        evaluation.benefit += effect.amount
    evaluation.shipping_discount = cart.shipping.fee_minor - shipping_left
    return evaluation


def _standalone(cart: Cart, start: _Start) -> Callable[[Candidate], int]:
    """What one promotion alone would give: the value that orders the greedy pick."""
    pristine = LineState(start.quantities, start.net, start.floor)  # rules only read it
    context = RuleContext(pristine, (), cart.shipping.method, cart.shipping.fee_minor, None, {})

    def standalone(candidate: Candidate) -> int:
        context.lines = candidate.lines
        context.units_left = candidate.units_left
        value = candidate.rule.params.value(context)
        budget = candidate.budget_left
        return value if budget is None else min(value, budget)

    return standalone


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
        effect = evaluation.effects[candidate.position]
        if effect.reason != APPLIED:
            continue
        target = order_parts if candidate.level == ORDER else item_parts
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
    net, floor, rate = evaluation.state.net, evaluation.state.floor, cart.tax_rate_bp
    for i, line in enumerate(cart.lines):
        points = points_parts.get(i, 0)
        total = net[i] - points
        priced.append(
            PricedLine(
                line.sku,
                line.quantity,
                line.unit_price_minor,
                line.unit_price_minor * line.quantity,
                tuple(item_parts[i]),
                tuple(order_parts[i]),
                points,
                total,
                included_tax(total, rate),
                floor[i],
            )
        )
    return priced + gifts


def _remember(table: dict[Key, Consideration], key: Key, line: Consideration) -> None:
    if len(table) < MAX_REMEMBERED:
        table[key] = line


def _explain(
    promotions: PromotionSet,
    refusals: Mapping[int, Refusal],
    candidates: Sequence[Candidate],
    by_position: Mapping[int, Candidate],
    conflicts: tuple[Sequence[int], Sequence[int]],
    evaluation: _Evaluation,
    chosen: int,
) -> Explanation:
    """One line per promotion, by id. The lines that read the same for every cart (out of
    scope, needs a coupon, lost to the same promotion for the same cause) come from
    ``promotions``, built once."""
    rules = promotions.rules
    lines = list(promotions.not_in_scope)
    needs_coupon = promotions.needs_coupon
    refused = promotions.refused
    for position, refusal in refusals.items():
        if refusal is NEEDS_COUPON:
            lines[position] = needs_coupon[position]
            continue
        reason, message = refusal.reason, refusal.message
        refusal_key = (position, reason, message)
        line = refused.get(refusal_key)
        if line is None:
            rule = rules[position]
            line = Consideration(rule.id, rule.name, rule.kind, False, reason, 0, message)
            if reason not in TIMED:
                _remember(refused, refusal_key, line)
        lines[position] = line
    effects = evaluation.effects
    for candidate in evaluation.order:
        rule, effect = candidate.rule, effects[candidate.position]
        reason = effect.reason
        lines[candidate.position] = Consideration(
            rule.id, rule.name, rule.kind, reason == APPLIED, reason, effect.amount, effect.message
        )
    losers, exclusive, span = promotions.losers, promotions.exclusive, len(rules)
    masks, shared = conflicts
    for candidate, mask, overlap in zip(candidates, masks, shared, strict=True):
        position = candidate.position
        if position in effects:
            continue
        blocking = mask & chosen
        winner = (blocking & -blocking).bit_length() - 1  # the lowest id among the winners
        cause = 0 if exclusive[position] or exclusive[winner] else 1 if overlap >> winner & 1 else 2
        loser_key = (position * span + winner) * 3 + cause
        line = losers.get(loser_key)
        if line is None:
            rule, other = candidate.rule, by_position[winner]
            why = conflict_between(candidate, other) or ""
            line = Consideration(
                rule.id,
                rule.name,
                rule.kind,
                False,
                not_combinable_with(other.id),
                0,
                f"promotion {other.id} gives the customer more; {why}",
            )
            _remember(losers, loser_key, line)
        lines[position] = line
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
    start = _Start.of(cart)
    scoping = promotion_set.scope(cart.lines)
    kept = scoping.kept
    rules, gates = promotion_set.rules, promotion_set.gates
    refusals: dict[int, Refusal] = {}
    candidates: list[Candidate] = []
    for position in sorted(kept):
        promotion_id = rules[position].id
        checked = check(
            gates[position],
            cart,
            kept[position],
            usage.get(promotion_id) if usage else None,
            grants.get(promotion_id) if grants else None,
            start.net,
        )
        if isinstance(checked, Refusal):
            refusals[position] = checked
        else:
            candidates.append(checked)
    conflicts = conflict_masks(
        candidates, promotion_set.conflicts, scoping.line_rules, promotion_set.groups
    )
    by_position = {candidate.position: candidate for candidate in candidates}
    evaluations: dict[int, _Evaluation] = {}

    def evaluate(chosen: int) -> _Evaluation:
        if chosen not in evaluations:
            picked = [by_position[k] for k in members(chosen)]
            evaluations[chosen] = _evaluate(cart, start, picked)
        return evaluations[chosen]

    def preference(chosen: int) -> tuple[int, tuple[tuple[int, int], ...]]:
        picked = sorted(
            (by_position[k].rule.stacking.priority, by_position[k].id) for k in members(chosen)
        )
        return -evaluate(chosen).benefit, tuple(picked)

    sets = candidate_sets(
        candidates, conflicts[0], _standalone(cart, start), promotion_set.tiebreak
    )
    chosen = sets[0] if len(sets) == 1 else min(sets, key=preference)
    evaluation = evaluate(chosen)
    points, points_parts = _points(cart, evaluation.state)
    explanation = _explain(
        promotion_set, refusals, candidates, by_position, conflicts, evaluation, chosen
    )
    return _assemble(cart, promotion_set, evaluation, points, points_parts, explanation)


def _assemble(
    cart: Cart,
    promotions: PromotionSet,
    evaluation: _Evaluation,
    points: int,
    points_parts: Mapping[int, int],
    explanation: Explanation,
) -> PricedCart:
    lines = _priced_lines(cart, evaluation, points_parts)
    applied = []
    item_discount = order_discount = 0
    for candidate in evaluation.order:
        effect = evaluation.effects[candidate.position]
        if effect.reason == APPLIED:
            rule = candidate.rule
            code = candidate.coupon.code if candidate.coupon else None
            if candidate.level == ORDER:
                order_discount += effect.amount
            elif candidate.level != SHIPPING:
                item_discount += effect.amount  # price-, item- and gift-level
            applied.append(
                AppliedPromotion(
                    rule.id,
                    rule.name,
                    rule.kind,
                    LEVEL_NAMES[candidate.level],
                    effect.amount,
                    code,
                    effect.units,
                )
            )
    coupons = []
    for grant in cart.coupons:
        position = promotions.positions.get(grant.promotion_id)
        reason = "promotion_not_active" if position is None else explanation[position].reason
        coupons.append(CouponOutcome(grant.code, grant.promotion_id, reason == APPLIED, reason))
    shipping = cart.shipping.fee_minor
    shipping_total = shipping - evaluation.shipping_discount
    total = tax = subtotal = 0
    for line in lines:
        subtotal += line.subtotal_minor
        total += line.total_minor
        tax += line.tax_minor
    return PricedCart(
        currency=cart.currency,
        lines=tuple(lines),
        subtotal_minor=subtotal,
        item_discount_minor=item_discount,
        order_discount_minor=order_discount,
        shipping_minor=shipping,
        shipping_discount_minor=evaluation.shipping_discount,
        points_redeemed=points,
        points_minor=sum(points_parts.values()),
        total_minor=total + shipping_total,
        tax_minor=tax + included_tax(shipping_total, cart.tax_rate_bp),
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

"""Properties of the pricing engine over random carts and random promotion sets.

For every cart: nothing below zero or its floor, the discount never above the
subtotal plus shipping, the books balance to the unit, every split sums exactly to
its whole, the same input always prices the same, and refunding everything —
in any pieces — gives back exactly what was paid.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopops.contexts.promotions import (
    CouponGrant,
    CustomerFacts,
    PointsOffer,
    PricedCart,
    PromotionRule,
    PromotionSet,
    Shipping,
    Usage,
    price_cart,
    refund_units,
)
from shopops.contexts.promotions.rules import Gift, LineState, RuleContext
from shopops.contexts.promotions.rules.base import outcome_value
from tests.promotions.support import AT, cart, line, rule

PROPERTY_SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
GROUPS = ["", "a", "b", "c"]


def _money(draw: st.DrawFn, low: int = 1, high: int = 30000) -> str:
    return f"{draw(st.integers(low, high)) / 100:.2f}"


@st.composite
def _params(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    if kind == "percentage":
        return {
            "percent": draw(st.integers(1, 100)),
            "applies_to": draw(st.sampled_from(["items", "order"])),
        }
    if kind == "fixed_amount":
        return {"amount": _money(draw), "per": draw(st.sampled_from(["order", "unit"]))}
    if kind == "spend_tiers":
        spends = sorted(draw(st.sets(st.integers(100, 60000), min_size=1, max_size=3)))
        saves = sorted(draw(st.integers(1, s)) for s in spends)
        saves = [min(max(saves[: i + 1]), spends[i]) for i in range(len(spends))]
        tiers = [
            {"spend": f"{s / 100:.2f}", "save": f"{v / 100:.2f}"}
            for s, v in zip(spends, saves, strict=True)
        ]
        return {"tiers": tiers}
    if kind == "repeating_threshold":
        every = draw(st.integers(100, 30000))
        return {"every": f"{every / 100:.2f}", "save": f"{draw(st.integers(1, every)) / 100:.2f}"}
    if kind == "multi_buy":
        return {
            "buy": draw(st.integers(1, 3)),
            "get": draw(st.integers(1, 2)),
            "percent": draw(st.integers(1, 100)),
        }
    if kind == "nth_item":
        return {"n": draw(st.integers(2, 4)), "percent": draw(st.integers(1, 100))}
    if kind == "gift":
        return {"sku": "GIFT", "quantity": draw(st.integers(1, 2))}
    if kind == "free_shipping":
        return {"methods": draw(st.sampled_from([[], ["standard"]]))}
    return {"price": _money(draw, 0, 20000)}


@st.composite
def _promotion(draw: st.DrawFn, promotion_id: int, count: int) -> PromotionRule:
    kind = draw(
        st.sampled_from(
            [
                "percentage",
                "fixed_amount",
                "spend_tiers",
                "repeating_threshold",
                "multi_buy",
                "nth_item",
                "gift",
                "free_shipping",
                "flash_price",
            ]
        )
    )
    scope = draw(
        st.sampled_from(
            [
                {},
                {"products": [1, 2]},
                {"categories": [10]},
                {"categories": [2]},
                {"brands": [1]},
                {"exclude_products": [3]},
                {"categories": [10], "exclude_brands": [2]},
            ]
        )
    )
    stacking: dict[str, Any] = {
        "group": draw(st.sampled_from(GROUPS)),
        "priority": draw(st.integers(0, 3)),
    }
    if draw(st.integers(0, 9)) == 0:
        stacking["exclusive"] = True
    elif draw(st.integers(0, 4)) == 0:
        stacking["combinable_with"] = draw(st.lists(st.integers(1, count), max_size=3))
    limits: dict[str, Any] = {}
    if draw(st.booleans()):
        limits["max_discount"] = _money(draw, 1, 50000)
    if kind in ("flash_price", "gift") and draw(st.booleans()):
        limits["quota_units"] = draw(st.integers(1, 10))
    conditions: dict[str, Any] = {}
    if draw(st.booleans()):
        conditions["min_spend"] = _money(draw, 1, 40000)
    promotion = rule(
        promotion_id,
        kind,
        draw(_params(kind)),
        currency="CNY",
        scope=scope,
        stacking=stacking,
        limits=limits,
        conditions=conditions,
        requires_coupon=draw(st.integers(0, 4)) == 0,
    )
    if isinstance(promotion.params, Gift):
        price = draw(st.integers(0, 5000))
        promotion = replace(
            promotion, params=replace(promotion.params, unit_price_minor=price, currency="CNY")
        )
    return promotion


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Any, list[PromotionRule], dict[int, Usage]]:
    lines = []
    for index in range(draw(st.integers(1, 10))):
        product = draw(st.integers(1, 6))
        price = draw(st.integers(0, 50000))
        floor = draw(st.sampled_from([0, 0, price // 3, price]))
        lines.append(
            line(
                f"S{index}",
                draw(st.integers(1, 6)),
                price,
                product=product,
                categories=(product % 3 + 1, 10),
                brand=draw(st.sampled_from([None, 1, 2])),
                floor=floor,
            )
        )
    count = draw(st.integers(0, 12))
    rules = [draw(_promotion(i, count)) for i in range(1, count + 1)]
    usage = {}
    for promotion in rules:
        if draw(st.integers(0, 3)) == 0:
            budget = promotion.limits.max_discount_minor or 0
            quota = promotion.limits.quota_units or 0
            usage[promotion.id] = Usage(
                discount_minor=draw(st.integers(0, budget)), units=draw(st.integers(0, quota))
            )
    coupons = tuple(
        CouponGrant(f"C{r.id}", r.id) for r in rules if r.requires_coupon and draw(st.booleans())
    )
    points = None
    if draw(st.booleans()):
        points = PointsOffer(
            draw(st.integers(0, 100000)),
            draw(st.integers(1, 5)),
            draw(st.sampled_from([1, 3, 100])),
        )
    shopping = cart(
        *lines,
        customer=CustomerFacts(draw(st.sampled_from([None, 1]))),
        coupons=coupons,
        shipping=Shipping(
            draw(st.sampled_from(["standard", "express"])), draw(st.integers(0, 3000))
        ),
        points=points,
        tax_rate_bp=draw(st.sampled_from([0, 600, 1300])),
        at=AT + timedelta(minutes=draw(st.integers(0, 60))),
    )
    return shopping, rules, usage


def _price(scenario: tuple[Any, list[PromotionRule], dict[int, Usage]]) -> PricedCart:
    shopping, rules, usage = scenario
    return price_cart(shopping, rules, usage)


@PROPERTY_SETTINGS
@given(scenarios())
def test_guarantees_hold_for_every_cart(scenario: Any) -> None:
    priced = _price(scenario)
    assert priced.total_minor >= 0
    for priced_line in priced.lines:
        assert priced_line.total_minor >= 0
        assert priced_line.total_minor >= priced_line.floor_minor
        assert priced_line.discount_minor <= priced_line.subtotal_minor
    assert priced.discount_minor <= priced.subtotal_minor + priced.shipping_minor
    assert 0 <= priced.shipping_discount_minor <= priced.shipping_minor
    assert priced.total_minor == (
        priced.subtotal_minor + priced.shipping_minor - priced.discount_minor - priced.points_minor
    )
    assert 0 <= priced.tax_minor <= priced.total_minor


@PROPERTY_SETTINGS
@given(scenarios())
def test_every_split_sums_exactly_to_its_whole(scenario: Any) -> None:
    _, rules, usage = scenario
    priced = _price(scenario)
    by_id = {r.id: r for r in rules}
    for promotion in priced.applied:
        parts = sum(
            part.amount_minor
            for priced_line in priced.lines
            for part in (*priced_line.item_discounts, *priced_line.order_discounts)
            if part.promotion_id == promotion.promotion_id
        )
        expected = 0 if promotion.level == "shipping" else promotion.discount_minor
        assert parts == expected
        budget = by_id[promotion.promotion_id].limits.max_discount_minor
        if budget is not None:
            used = usage.get(promotion.promotion_id, Usage()).discount_minor
            assert promotion.discount_minor <= budget - used
    assert sum(a.discount_minor for a in priced.applied) == priced.discount_minor
    assert sum(p.points_minor for p in priced.lines) == priced.points_minor
    for priced_line in priced.lines:
        assert priced_line.total_minor == (
            priced_line.subtotal_minor - priced_line.discount_minor - priced_line.points_minor
        )
    assert len(priced.explanation) == len(rules)
    assert {c.promotion_id for c in priced.explanation if c.applied} == {
        a.promotion_id for a in priced.applied
    }


@PROPERTY_SETTINGS
@given(scenarios(), st.randoms(use_true_random=False))
def test_the_same_cart_always_prices_the_same(scenario: Any, rng: random.Random) -> None:
    shopping, rules, usage = scenario
    first = price_cart(shopping, rules, usage)
    shuffled = list(rules)
    rng.shuffle(shuffled)
    assert price_cart(shopping, shuffled, usage) == first
    assert price_cart(shopping, PromotionSet(rules, indexed=False), usage) == first


@PROPERTY_SETTINGS
@given(st.data())
def test_a_rules_stand_alone_value_is_what_applying_it_would_take_off(
    data: st.DataObject,
) -> None:
    # the engine orders its greedy pick by ``value``, a shortcut: it must agree with
    # ``apply`` clamped the way the engine clamps it, per-cart memo or not
    params = data.draw(_promotion(1, 1)).params
    count = data.draw(st.integers(1, 8))
    net = data.draw(st.lists(st.integers(0, 50000), min_size=count, max_size=count))
    floor = [min(amount, data.draw(st.integers(0, 50000))) for amount in net]
    quantities = tuple(data.draw(st.integers(1, 6)) for _ in range(count))
    lines = tuple(sorted(data.draw(st.sets(st.integers(0, count - 1), min_size=1))))
    method = data.draw(st.sampled_from(["standard", "express"]))
    fee, units = data.draw(st.integers(0, 3000)), data.draw(st.none() | st.integers(0, 10))
    state = LineState(quantities, net, floor)
    plain = RuleContext(state, lines, method, fee, units)
    expected = outcome_value(params.apply(plain), plain)
    assert params.value(plain) == expected
    memo = RuleContext(state, lines, method, fee, units, {})
    assert params.value(memo) == params.value(memo) == expected


@PROPERTY_SETTINGS
@given(st.lists(scenarios(), min_size=2, max_size=4))
def test_a_promotion_set_reused_for_many_carts_prices_each_like_a_fresh_one(
    drawn: list[Any],
) -> None:
    # a PromotionSet remembers explanation lines between carts: nothing of one cart may
    # leak into the next, whether the line comes from memory or is built afresh
    _, rules, usage = drawn[0]
    shared = PromotionSet(rules)
    for shopping, _, _ in drawn + drawn:
        assert price_cart(shopping, shared, usage) == price_cart(shopping, rules, usage)


@PROPERTY_SETTINGS
@given(scenarios(), st.randoms(use_true_random=False))
def test_refunding_everything_in_any_pieces_gives_back_what_was_paid(
    scenario: Any, rng: random.Random
) -> None:
    priced = _price(scenario)
    refunded = 0
    for priced_line in priced.lines:
        returned, money, points = 0, 0, 0
        reversed_: dict[int, int] = {}
        while returned < priced_line.quantity:
            pieces = rng.randint(1, priced_line.quantity - returned)
            refund = refund_units(priced_line, returned, pieces)
            assert refund.amount_minor >= 0
            returned += pieces
            money += refund.amount_minor
            points += refund.points_minor
            for promotion_id, amount in refund.discounts_reversed.items():
                reversed_[promotion_id] = reversed_.get(promotion_id, 0) + amount
        assert money == priced_line.total_minor
        assert points == priced_line.points_minor
        given_per_promotion: dict[int, int] = {}
        for part in (*priced_line.item_discounts, *priced_line.order_discounts):
            given_per_promotion[part.promotion_id] = (
                given_per_promotion.get(part.promotion_id, 0) + part.amount_minor
            )
        assert reversed_ == given_per_promotion
        refunded += money
    shipping_paid = priced.shipping_minor - priced.shipping_discount_minor
    assert refunded + shipping_paid == priced.total_minor

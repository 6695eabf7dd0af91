"""The pricing engine, one promotion type and rule at a time, with exact amounts."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from shopops.contexts.promotions import (
    CouponGrant,
    CustomerFacts,
    PointsOffer,
    PromotionSet,
    Shipping,
    Usage,
    price_cart,
)
from tests.promotions.support import AT, applied, cart, line, reasons, rule, totals

CNY = {"currency": "CNY"}


# --- promotion types ----------------------------------------------------------------------


def test_percentage_off_items_rounds_each_line_half_even() -> None:
    priced = price_cart(
        cart(line("A", 1, 1050), line("B", 3, 999)), [rule(1, "percentage", {"percent": 10})]
    )
    # 10 % of 10.50 is 1.05; 10 % of 29.97 is 2.997 -> 3.00
    assert [p.discount_minor for p in priced.lines] == [105, 300]
    assert priced.total_minor == 1050 + 2997 - 405
    assert reasons(priced) == {1: "applied"}


def test_percentage_off_the_order_is_split_across_lines_exactly() -> None:
    promotion = rule(1, "percentage", {"percent": "12.5", "applies_to": "order"})
    priced = price_cart(cart(line("A", 1, 333), line("B", 1, 333), line("C", 1, 334)), [promotion])
    parts = [sum(p.amount_minor for p in line.order_discounts) for line in priced.lines]
    assert sum(parts) == priced.order_discount_minor == 125  # 12.5 % of 10.00
    # 41.625, 41.625, 41.75: the two leftover units go to C, then to A (ties: earliest)
    assert parts == [42, 41, 42]
    assert priced.total_minor == 875


def test_percentage_cap_limits_the_total_discount() -> None:
    promotion = rule(1, "percentage", {"percent": 50, "max_discount": "30"}, **CNY)
    priced = price_cart(cart(line("A", 2, 5000), line("B", 1, 2000)), [promotion])
    assert priced.item_discount_minor == 3000
    assert sum(totals(priced)) == 12000 - 3000


def test_fixed_amount_per_order_and_per_unit() -> None:
    per_order = rule(1, "fixed_amount", {"amount": "15"}, **CNY)
    per_unit = rule(2, "fixed_amount", {"amount": "2", "per": "unit"}, **CNY)
    priced = price_cart(cart(line("A", 3, 1000), line("B", 1, 500)), [per_order])
    assert priced.order_discount_minor == 1500
    assert sum(totals(priced)) == 3500 - 1500
    priced = price_cart(cart(line("A", 3, 1000), line("B", 1, 150)), [per_unit])
    assert [p.discount_minor for p in priced.lines] == [600, 150]  # never below zero


def test_spend_tiers_give_only_the_highest_tier_reached() -> None:
    tiers = rule(
        1,
        "spend_tiers",
        {"tiers": [{"spend": "300", "save": "50"}, {"spend": "500", "save": "100"}]},
        **CNY,
    )
    below = price_cart(cart(line("A", 1, 29999)), [tiers])
    assert reasons(below) == {1: "min_spend_not_met"}
    assert below.total_minor == 29999
    assert price_cart(cart(line("A", 1, 30000)), [tiers]).total_minor == 25000
    assert price_cart(cart(line("A", 2, 30000)), [tiers]).total_minor == 50000


def test_repeating_threshold_repeats_up_to_its_cap() -> None:
    steps = rule(
        1, "repeating_threshold", {"every": "300", "save": "30", "max_discount": "100"}, **CNY
    )
    assert applied(price_cart(cart(line("A", 1, 95000)), [steps])) == {1: 9000}
    assert applied(price_cart(cart(line("A", 1, 150000)), [steps])) == {1: 10000}


def test_multi_buy_repeats_and_frees_the_cheapest_units() -> None:
    buy_two_get_one = rule(1, "multi_buy", {"buy": 2, "get": 1})
    priced = price_cart(cart(line("A", 4, 1000), line("B", 2, 600)), [buy_two_get_one])
    # 6 units make two groups: the two cheapest units (B, 6.00 each) are free
    assert [p.discount_minor for p in priced.lines] == [0, 1200]
    priced = price_cart(cart(line("A", 5, 1000)), [buy_two_get_one])
    assert priced.item_discount_minor == 1000  # 5 units: one complete group


def test_nth_item_at_a_percentage() -> None:
    second_half = rule(1, "nth_item", {"n": 2, "percent": 50})
    priced = price_cart(cart(line("A", 3, 999)), [second_half])
    assert priced.item_discount_minor == 500  # one unit of 9.99 at half: 4.995 -> 5.00
    assert reasons(price_cart(cart(line("A", 1, 999)), [second_half])) == {
        1: "min_quantity_not_met"
    }


def test_gift_with_purchase_adds_a_free_line_and_counts_its_value() -> None:
    gift = rule(
        1, "gift", {"sku": "MUG"}, conditions={"min_spend": "100"}, limits={"quota_units": 5}, **CNY
    )
    gift = replace(gift, params=replace(gift.params, unit_price_minor=1500, currency="CNY"))
    priced = price_cart(cart(line("A", 1, 10000)), [gift])
    assert [(p.sku, p.quantity, p.total_minor, p.gift_of) for p in priced.lines] == [
        ("A", 1, 10000, None),
        ("MUG", 1, 0, 1),
    ]
    assert (priced.subtotal_minor, priced.discount_minor, priced.total_minor) == (
        11500,
        1500,
        10000,
    )
    assert (applied(priced), priced.applied[0].units) == ({1: 1500}, 1)
    assert reasons(price_cart(cart(line("A", 1, 9999)), [gift])) == {1: "min_spend_not_met"}
    gone = price_cart(cart(line("A", 1, 10000)), [gift], {1: Usage(units=5)})
    assert reasons(gone) == {1: "quota_exhausted"}
    assert [p.sku for p in gone.lines] == ["A"]


def test_free_shipping_by_method_and_up_to_a_fee() -> None:
    free = rule(1, "free_shipping", {"methods": ["standard"], "max_fee": "8"}, **CNY)
    priced = price_cart(cart(line("A", 1, 5000), shipping=Shipping("standard", 1200)), [free])
    assert (priced.shipping_minor, priced.shipping_discount_minor) == (1200, 800)
    assert priced.total_minor == 5000 + 400
    express = price_cart(cart(line("A", 1, 5000), shipping=Shipping("express", 2000)), [free])
    assert reasons(express) == {1: "shipping_method_not_eligible"}
    assert express.total_minor == 7000


def test_flash_price_within_quota_and_customer_limit() -> None:
    flash = rule(
        1,
        "flash_price",
        {"price": "9.90"},
        limits={"quota_units": 100, "per_customer_units": 3},
        **CNY,
    )
    customer = CustomerFacts(7)
    priced = price_cart(cart(line("A", 5, 1990), customer=customer), [flash], {1: Usage(units=98)})
    assert priced.item_discount_minor == 2 * 1000  # only 2 units left in the quota
    assert priced.applied[0].units == 2
    priced = price_cart(cart(line("A", 5, 1990), customer=customer), [flash])
    assert priced.applied[0].units == 3  # the customer's own limit
    spent = {1: Usage(units=10, customer_units=3)}
    assert reasons(price_cart(cart(line("A", 1, 1990), customer=customer), [flash], spent)) == {
        1: "customer_limit_reached"
    }
    assert reasons(price_cart(cart(line("A", 1, 1990)), [flash])) == {1: "customer_required"}


# --- who, when, where -----------------------------------------------------------------------


def test_customer_conditions_have_their_own_reasons() -> None:
    gold = rule(1, "percentage", {"percent": 5}, conditions={"tiers": ["gold"]})
    vip = rule(
        2, "percentage", {"percent": 5}, conditions={"segments": ["vip"]}, stacking={"group": "vip"}
    )
    first = rule(
        3,
        "percentage",
        {"percent": 5},
        conditions={"first_order_only": True},
        stacking={"group": "first"},
    )
    app_only = rule(
        4, "percentage", {"percent": 5}, conditions={"channels": ["app"]}, stacking={"group": "app"}
    )
    rules = [gold, vip, first, app_only]
    assert reasons(price_cart(cart(line("A", 1, 1000)), rules)) == {
        1: "customer_required",
        2: "customer_required",
        3: "customer_required",
        4: "channel_not_eligible",
    }
    silver = CustomerFacts(1, "silver", frozenset({"student"}), first_order=False)
    assert reasons(price_cart(cart(line("A", 1, 1000), customer=silver), rules)) == {
        1: "tier_not_eligible",
        2: "segment_not_eligible",
        3: "not_first_order",
        4: "channel_not_eligible",
    }
    gold_vip = CustomerFacts(1, "gold", frozenset({"vip"}), first_order=True)
    priced = price_cart(cart(line("A", 1, 1000), customer=gold_vip, channel="app"), rules)
    assert set(reasons(priced).values()) == {"applied"}


def test_schedules_and_member_days() -> None:
    window = {"starts_at": (AT + timedelta(days=1)).isoformat()}
    later = rule(1, "percentage", {"percent": 5}, schedule=window)
    ended = rule(
        2,
        "percentage",
        {"percent": 5},
        stacking={"group": "g2"},
        schedule={"ends_at": AT.isoformat()},
    )
    wednesdays = {
        "recurring": {
            "weekdays": [2],
            "start_time": "10:00",
            "end_time": "22:00",
            "timezone": "Asia/Shanghai",
        }
    }
    member_day = rule(
        3, "percentage", {"percent": 5}, stacking={"group": "g3"}, schedule=wednesdays
    )
    # 12:00 UTC on Wednesday is 20:00 in Shanghai: inside the window
    assert reasons(price_cart(cart(line("A", 1, 1000)), [later, ended, member_day])) == {
        1: "not_started",
        2: "ended",
        3: "applied",
    }
    # 15:00 UTC is 23:00 in Shanghai
    evening = cart(line("A", 1, 1000), at=AT + timedelta(hours=3))
    assert reasons(price_cart(evening, [member_day])) == {3: "outside_recurring_window"}


def test_scope_covers_subcategories_and_honours_exclusions() -> None:
    shoes = rule(1, "percentage", {"percent": 10}, scope={"categories": [2]})
    not_b = rule(
        2, "percentage", {"percent": 10}, scope={"exclude_products": [20]}, stacking={"group": "x"}
    )
    hats = rule(3, "percentage", {"percent": 10}, scope={"brands": [9]}, stacking={"group": "y"})
    trail_shoe = line("TRAIL", 1, 1000, product=10, categories=(3, 2))  # trail is under shoes
    bag = line("BAG", 1, 1000, product=20, categories=(5,))
    priced = price_cart(cart(trail_shoe, bag), [shoes, not_b, hats])
    assert reasons(priced) == {1: "applied", 2: "applied", 3: "no_eligible_lines"}
    assert [p.discount_minor for p in priced.lines] == [190, 0]  # 10 % then 10 % of 9.00
    only_bag = price_cart(cart(bag), [not_b])
    assert reasons(only_bag) == {2: "excluded_product"}


def test_budget_caps_the_discount_then_stops_the_promotion() -> None:
    budget = rule(1, "percentage", {"percent": 20}, limits={"max_discount": "100"}, **CNY)
    priced = price_cart(cart(line("A", 1, 10000)), [budget], {1: Usage(discount_minor=9500)})
    assert applied(priced) == {1: 500}
    spent = price_cart(cart(line("A", 1, 10000)), [budget], {1: Usage(discount_minor=10000)})
    assert reasons(spent) == {1: "budget_exhausted"}
    uses = rule(2, "percentage", {"percent": 20}, limits={"max_redemptions": 3})
    assert reasons(price_cart(cart(line("A", 1, 100)), [uses], {2: Usage(redemptions=3)})) == {
        2: "usage_limit_reached"
    }


def test_coupon_promotions_need_their_code_and_its_minimum_spend() -> None:
    voucher = rule(1, "fixed_amount", {"amount": "20"}, requires_coupon=True, **CNY)
    assert reasons(price_cart(cart(line("A", 1, 10000)), [voucher])) == {1: "coupon_required"}
    grant = CouponGrant("SAVE20", 1, min_spend_minor=15000)
    priced = price_cart(cart(line("A", 1, 10000), coupons=(grant,)), [voucher])
    assert reasons(priced) == {1: "min_spend_not_met"}
    assert [(c.code, c.applied, c.reason) for c in priced.coupons] == [
        ("SAVE20", False, "min_spend_not_met")
    ]
    priced = price_cart(cart(line("A", 2, 10000), coupons=(grant,)), [voucher])
    assert priced.applied[0].coupon_code == "SAVE20"
    assert priced.total_minor == 18000


def test_currency_of_fixed_amounts_must_match_the_cart() -> None:
    usd = rule(1, "fixed_amount", {"amount": "5"}, currency="USD")
    assert reasons(price_cart(cart(line("A", 1, 1000)), [usd])) == {1: "currency_mismatch"}


# --- floors, points, tax --------------------------------------------------------------------


def test_no_line_goes_below_its_floor() -> None:
    deep = rule(1, "percentage", {"percent": 90})
    voucher = rule(2, "fixed_amount", {"amount": "1000"}, **CNY)
    priced = price_cart(cart(line("A", 2, 1000, floor=600), line("B", 1, 500)), [deep, voucher])
    assert totals(priced) == [1200, 0]
    assert all(p.total_minor >= p.floor_minor for p in priced.lines)


def test_points_pay_part_of_what_is_left_split_exactly() -> None:
    offer = PointsOffer(points=1234, value_minor=1, per=1)  # 1 point = 0.01
    priced = price_cart(cart(line("A", 1, 1000), line("B", 2, 1000), points=offer), [])
    assert (priced.points_redeemed, priced.points_minor) == (1234, 1234)
    assert [p.points_minor for p in priced.lines] == [411, 823]
    assert priced.total_minor == 3000 - 1234
    too_many = PointsOffer(points=100_000, value_minor=1, per=1)
    priced = price_cart(cart(line("A", 1, 1000, floor=400), points=too_many), [])
    assert (priced.points_redeemed, priced.total_minor) == (600, 400)
    coarse = PointsOffer(points=250, value_minor=100, per=100)  # 100 points = 1.00
    priced = price_cart(cart(line("A", 1, 1000), points=coarse), [])
    assert (priced.points_redeemed, priced.points_minor) == (250, 250)


def test_tax_included_in_each_line_and_shipping() -> None:
    priced = price_cart(
        cart(line("A", 1, 11300), shipping=Shipping("standard", 1130), tax_rate_bp=1300), []
    )
    assert [p.tax_minor for p in priced.lines] == [1300]
    assert priced.tax_minor == 1300 + 130
    assert priced.total_minor == 12430


# --- stacking ------------------------------------------------------------------------------


def test_same_group_on_the_same_line_keeps_the_better_for_the_customer() -> None:
    ten = rule(1, "percentage", {"percent": 10})
    twenty = rule(2, "percentage", {"percent": 20})
    priced = price_cart(cart(line("A", 1, 1000)), [ten, twenty])
    assert reasons(priced) == {1: "not_combinable_with:2", 2: "applied"}
    message = next(c.message for c in priced.explanation if c.promotion_id == 1)
    assert "stacking group 'item'" in message


def test_same_group_on_different_lines_both_apply() -> None:
    shoes = rule(1, "percentage", {"percent": 10}, scope={"products": [1]})
    hats = rule(2, "percentage", {"percent": 20}, scope={"products": [2]})
    priced = price_cart(
        cart(line("S", 1, 1000, product=1), line("H", 1, 1000, product=2)), [shoes, hats]
    )
    assert applied(priced) == {1: 100, 2: 200}


def test_exclusive_applies_alone_and_only_when_best() -> None:
    exclusive = rule(1, "fixed_amount", {"amount": "30"}, stacking={"exclusive": True}, **CNY)
    ten = rule(2, "percentage", {"percent": 10})
    free_ship = rule(3, "free_shipping", {})
    small = cart(line("A", 1, 10000), shipping=Shipping("standard", 1000))
    priced = price_cart(small, [exclusive, ten, free_ship])
    assert reasons(priced) == {1: "applied", 2: "not_combinable_with:1", 3: "not_combinable_with:1"}
    large = cart(line("A", 1, 100000), shipping=Shipping("standard", 1000))
    priced = price_cart(large, [exclusive, ten, free_ship])
    assert reasons(priced) == {1: "not_combinable_with:2", 2: "applied", 3: "applied"}


def test_combinable_with_lists_only_the_promotions_allowed_alongside() -> None:
    picky = rule(1, "percentage", {"percent": 10}, stacking={"group": "a", "combinable_with": [3]})
    other = rule(2, "fixed_amount", {"amount": "1"}, stacking={"group": "b"}, **CNY)
    friend = rule(3, "free_shipping", {})
    priced = price_cart(
        cart(line("A", 1, 10000), shipping=Shipping("standard", 500)), [picky, other, friend]
    )
    assert reasons(priced) == {1: "applied", 2: "not_combinable_with:1", 3: "applied"}


def test_levels_apply_in_order_and_priority_orders_within_a_level() -> None:
    later = rule(1, "percentage", {"percent": 10}, stacking={"group": "a", "priority": 200})
    first = rule(
        2,
        "fixed_amount",
        {"amount": "1", "per": "unit"},
        stacking={"group": "b", "priority": 10},
        **CNY,
    )
    order = rule(3, "fixed_amount", {"amount": "5"}, **CNY)
    priced = price_cart(cart(line("A", 1, 1000)), [later, first, order])
    assert [a.promotion_id for a in priced.applied] == [2, 1, 3]
    assert applied(priced) == {2: 100, 1: 90, 3: 500}  # 10 % of 9.00, then 5.00 off 8.10


def test_the_index_and_a_full_scan_agree() -> None:
    rules = [
        rule(1, "percentage", {"percent": 10}, scope={"categories": [1]}),
        rule(2, "percentage", {"percent": 15}, scope={"brands": [4]}, stacking={"group": "b"}),
        rule(
            3, "multi_buy", {"buy": 1, "get": 1}, scope={"products": [7]}, stacking={"group": "c"}
        ),
    ]
    shopping = cart(line("A", 2, 1000, product=7, categories=(1,), brand=4), line("B", 1, 500))
    indexed = price_cart(shopping, PromotionSet(rules))
    scanned = price_cart(shopping, PromotionSet(rules, indexed=False))
    assert indexed == scanned


def test_a_reused_promotion_set_explains_each_cart_by_its_own_conflict() -> None:
    # the set remembers losers' explanation lines between carts: the same two promotions
    # conflict through their group on one cart and through combinable_with on the other
    rules = [
        rule(
            1,
            "percentage",
            {"percent": 10},
            scope={"categories": [1]},
            stacking={"group": "a", "combinable_with": ["shipping"]},
        ),
        rule(2, "percentage", {"percent": 20}, scope={"categories": [2]}, stacking={"group": "a"}),
    ]
    shared = PromotionSet(rules)
    overlapping = cart(line("A", 1, 1000, categories=(1, 2)))
    apart = cart(line("A", 1, 1000, categories=(1,)), line("B", 1, 1000, categories=(2,)))
    group = "both are in stacking group 'a' and cover the same line"
    listed = "not on each other's combinable_with list"
    for shopping, why in [(overlapping, group), (apart, listed)] * 2:
        loser = price_cart(shopping, shared).explanation[0]
        assert (loser.promotion_id, loser.reason) == (1, "not_combinable_with:2")
        assert loser.message == f"promotion 2 gives the customer more; {why}"


def test_same_input_same_output() -> None:
    rules = [
        rule(i, "percentage", {"percent": i}, stacking={"group": f"g{i % 3}"}) for i in range(1, 10)
    ]
    shopping = cart(line("A", 2, 999), line("B", 1, 12345))
    assert price_cart(shopping, rules) == price_cart(shopping, list(reversed(rules)))


def test_an_empty_cart_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one line"):
        price_cart(cart(), [])

"""Bugs other platforms shipped in their promotion engines, each proven absent here.

- saleor#17453: an entire-order percentage voucher plus a 40 % catalogue promotion
  were both computed on the undiscounted price, so together they produced free orders.
- medusa#13265: buy-X-get-Y applied once even when the cart held the condition twice.
- medusa#11258: buy-X-get-Y ignored its application limit and usage limits.
- odoo#53935: tiered (threshold) promotions could not be made exclusive.
- erpnext#36616: a pricing rule matching an item more than one way discounted it twice,
  and thresholds looked at amounts other discounts had already reduced.
"""

from __future__ import annotations

from shopops.contexts.promotions import CouponGrant, CustomerFacts, Usage, price_cart
from tests.promotions.support import applied, cart, line, reasons, rule

CNY = {"currency": "CNY"}


def test_saleor_17453_entire_order_voucher_plus_40_percent_is_not_free() -> None:
    catalogue = rule(1, "percentage", {"percent": 40})
    voucher = rule(2, "percentage", {"percent": 60, "applies_to": "order"}, requires_coupon=True)
    shopping = cart(line("A", 2, 5000), coupons=(CouponGrant("SIXTY", 2),))
    priced = price_cart(shopping, [catalogue, voucher])
    # 40 % off 100.00 leaves 60.00; the voucher takes 60 % of that, not of 100.00
    assert applied(priced) == {1: 4000, 2: 3600}
    assert priced.total_minor == 2400
    assert priced.total_minor > 0
    assert priced.discount_minor <= priced.subtotal_minor


def test_saleor_17453_even_percentages_summing_past_100_leave_the_cost_floor() -> None:
    catalogue = rule(1, "percentage", {"percent": 70})
    voucher = rule(2, "percentage", {"percent": 70, "applies_to": "order"}, requires_coupon=True)
    shopping = cart(line("A", 1, 10000, floor=2000), coupons=(CouponGrant("SEVENTY", 2),))
    priced = price_cart(shopping, [catalogue, voucher])
    assert priced.total_minor == 2000  # 70 % then 70 % would be 9.00; the cost floor holds 20.00
    assert applied(priced) == {1: 7000, 2: 1000}


def test_medusa_13265_buy_x_get_y_applies_every_time_the_cart_qualifies() -> None:
    buy_two_get_one = rule(1, "multi_buy", {"buy": 2, "get": 1})
    priced = price_cart(cart(line("TEE", 9, 1000)), [buy_two_get_one])
    assert priced.item_discount_minor == 3 * 1000  # three complete groups of 2 + 1
    mixed = price_cart(cart(line("TEE", 4, 1000), line("CAP", 2, 800)), [buy_two_get_one])
    assert mixed.item_discount_minor == 2 * 800  # two groups; the cheapest units are free


def test_medusa_11258_buy_x_get_y_respects_its_limits() -> None:
    limited = rule(
        1,
        "multi_buy",
        {"buy": 2, "get": 1, "max_applications": 2},
        limits={"max_redemptions": 10, "per_customer": 1},
    )
    customer = CustomerFacts(5)
    priced = price_cart(cart(line("TEE", 12, 1000), customer=customer), [limited])
    assert priced.item_discount_minor == 2 * 1000  # at most two applications
    used_up = price_cart(
        cart(line("TEE", 3, 1000), customer=customer), [limited], {1: Usage(redemptions=10)}
    )
    assert reasons(used_up) == {1: "usage_limit_reached"}
    again = price_cart(
        cart(line("TEE", 3, 1000), customer=customer),
        [limited],
        {1: Usage(redemptions=1, customer_redemptions=1)},
    )
    assert reasons(again) == {1: "customer_limit_reached"}
    assert again.total_minor == 3000


def test_odoo_53935_tiered_promotion_can_be_exclusive() -> None:
    tiers = rule(
        1,
        "spend_tiers",
        {"tiers": [{"spend": "300", "save": "50"}, {"spend": "500", "save": "100"}]},
        stacking={"exclusive": True},
        **CNY,
    )
    ten = rule(2, "percentage", {"percent": 10})
    free_ship = rule(3, "free_shipping", {})
    priced = price_cart(cart(line("A", 1, 60000)), [tiers, ten, free_ship])
    assert reasons(priced) == {1: "applied", 2: "not_combinable_with:1", 3: "not_combinable_with:1"}
    assert priced.total_minor == 50000
    # when the other promotions are worth more, the exclusive tier steps aside, alone
    big = price_cart(cart(line("A", 1, 200000)), [tiers, ten, free_ship])
    assert reasons(big)[1] == "not_combinable_with:2"
    assert applied(big) == {2: 20000}


def test_erpnext_36616_one_item_is_discounted_once_however_many_ways_it_matches() -> None:
    everywhere = rule(
        1, "percentage", {"percent": 10}, scope={"products": [7], "categories": [3], "brands": [9]}
    )
    item = line("A", 1, 10000, product=7, categories=(3,), brand=9)
    priced = price_cart(cart(item), [everywhere])
    assert [(p.promotion_id, p.amount_minor) for p in priced.lines[0].item_discounts] == [(1, 1000)]
    assert priced.total_minor == 9000


def test_erpnext_36616_thresholds_see_the_price_after_item_discounts() -> None:
    ten = rule(1, "percentage", {"percent": 10})
    threshold = rule(2, "spend_tiers", {"tiers": [{"spend": "300", "save": "50"}]}, **CNY)
    priced = price_cart(cart(line("A", 1, 31000)), [ten, threshold])
    # 310.00 - 10 % = 279.00: below the 300.00 threshold, so no second discount
    assert reasons(priced) == {1: "applied", 2: "min_spend_not_met"}
    assert priced.total_minor == 27900

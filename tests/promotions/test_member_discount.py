"""A loyalty tier's discount priced as a promotion of the cart: explained, split over the
lines, compounding after the other promotions, and stacking by the usual rules."""

from __future__ import annotations

from typing import Any

from shopops.contexts import promotions
from shopops.contexts.customers.models import Customer
from shopops.contexts.promotions import pricing
from tests.promotions.conftest import NOW, SYSTEM, Shop

GOLD = promotions.MemberDiscount("gold", "Gold", 300)  # 3 %
BRONZE = promotions.MemberDiscount("bronze", "Bronze", 0)
LADDER = (BRONZE, GOLD)
MEMBER = promotions.MEMBER_DISCOUNT_ID


def member_quote(shop: Shop, customer: str | None, *lines: tuple[str, int], **options: Any) -> Any:
    customer_id = shop.ids[f"customer:{customer}"] if customer else None
    return shop.quote(*lines, customer_id=customer_id, member_discounts=LADDER, **options)


def applied(priced: promotions.PricedCart) -> list[tuple[int, str, str, int]]:
    return [(a.promotion_id, a.name, a.level, a.discount_minor) for a in priced.applied]


def reasons(priced: promotions.PricedCart) -> dict[int, str]:
    return {c.promotion_id: c.reason for c in priced.explanation}


def order_parts(priced: promotions.PricedCart) -> list[list[tuple[int, int]]]:
    return [
        [(p.promotion_id, p.amount_minor) for p in line.order_discounts] for line in priced.lines
    ]


def bronze_customer(shop: Shop) -> int:
    with shop.container.uow(SYSTEM) as uow:
        customer = Customer(tags=[], tier="bronze", source_channel="web", registered_at=NOW)
        uow.session.add(customer)
        uow.session.flush()
        uow.commit()
        return int(customer.id)


def test_a_gold_member_gets_the_tier_discount_explained_and_split_over_the_lines(
    shop: Shop,
) -> None:
    priced = member_quote(shop, "gold", ("TEE", 2), ("BAG", 1))  # 200.00 + 200.00
    assert applied(priced) == [(MEMBER, "Gold member 3% off", "order", 1200)]
    assert priced.applied[0].kind == "member_discount"
    assert order_parts(priced) == [[(MEMBER, 600)], [(MEMBER, 600)]]
    assert [line.total_minor for line in priced.lines] == [19400, 19400]
    assert (priced.order_discount_minor, priced.discount_minor, priced.total_minor) == (
        1200,
        1200,
        38800,
    )
    (line,) = priced.explanation
    assert (line.promotion_id, line.name, line.applied, line.reason, line.discount_minor) == (
        MEMBER,
        "Gold member 3% off",
        True,
        "applied",
        1200,
    )
    stored = priced.as_dict()
    assert stored["order_discounts"] == [{"promotion_id": MEMBER, "amount_minor": 1200}]
    assert stored["lines"][0]["discounts"] == [
        {"promotion_id": MEMBER, "amount_minor": 600, "level": "order"}
    ]


def test_bronze_members_plain_customers_and_guests_get_no_member_discount(shop: Shop) -> None:
    bronze = bronze_customer(shop)
    carts = [
        shop.quote(("TEE", 1), customer_id=bronze, member_discounts=LADDER),  # 0 %
        member_quote(shop, "plain", ("TEE", 1)),  # no tier
        member_quote(shop, None, ("TEE", 1)),  # a guest
        shop.quote(("TEE", 1), customer_id=shop.ids["customer:gold"]),  # no ladder given
        shop.quote(  # a ladder without the customer's tier
            ("TEE", 1),
            customer_id=shop.ids["customer:gold"],
            member_discounts=(promotions.MemberDiscount("silver", "Silver", 500),),
        ),
    ]
    for priced in carts:
        assert (priced.applied, priced.explanation, priced.total_minor) == ((), (), 10000)


def test_the_member_discount_comes_after_every_other_promotion(shop: Shop) -> None:
    ten = shop.create({"name": "Ten", "kind": "percentage", "params": {"percent": 10}})
    spend = shop.create(
        {
            "name": "300 save 30",
            "kind": "spend_tiers",
            "currency": "CNY",
            "params": {"tiers": [{"spend": "270", "save": "30"}]},
        }
    )
    priced = member_quote(shop, "gold", ("TEE", 3))  # 300.00
    # 10 % (30.00) leaves 270.00, which still reaches the spend tier (30.00 off): the member
    # discount is 3 % of the 240.00 left, 7.20 — it never makes a threshold harder to reach
    assert applied(priced) == [
        (ten, "Ten", "item", 3000),
        (spend, "300 save 30", "order", 3000),
        (MEMBER, "Gold member 3% off", "order", 720),
    ]
    assert priced.total_minor == 30000 - 3000 - 3000 - 720
    # the explanation lists it first (its id is below every stored promotion's)
    assert [c.promotion_id for c in priced.explanation] == [MEMBER, ten, spend]


def test_an_exclusive_promotion_and_the_member_discount_compete(shop: Shop) -> None:
    big = shop.create(
        {
            "name": "Exclusive 20 off",
            "kind": "fixed_amount",
            "currency": "CNY",
            "params": {"amount": "20"},
            "stacking": {"exclusive": True},
        }
    )
    # 20.00 beats 3 % of 300.00 (9.00): the exclusive promotion applies alone
    priced = member_quote(shop, "gold", ("TEE", 3))
    assert applied(priced) == [(big, "Exclusive 20 off", "order", 2000)]
    assert reasons(priced) == {MEMBER: f"not_combinable_with:{big}", big: "applied"}
    # 3 % of 1,000.00 (30.00) beats 20.00: the member discount wins, the exclusive one loses
    priced = member_quote(shop, "gold", ("TEE", 10))
    assert applied(priced) == [(MEMBER, "Gold member 3% off", "order", 3000)]
    assert reasons(priced) == {MEMBER: "applied", big: f"not_combinable_with:{MEMBER}"}


def test_combinable_with_must_list_the_member_tier_group(shop: Shop) -> None:
    tees = shop.create(
        {
            "name": "Tees 5 %, with items and members",
            "kind": "percentage",
            "params": {"percent": 5},
            "scope": {"products": [shop.ids["product:TEE"]]},
            "stacking": {"combinable_with": ["member_tier", "item"]},
        }
    )
    priced = member_quote(shop, "gold", ("TEE", 1))
    assert applied(priced) == [
        (tees, "Tees 5 %, with items and members", "item", 500),
        (MEMBER, "Gold member 3% off", "order", 285),  # 3 % of 95.00
    ]
    bags = shop.create(
        {
            "name": "Bags 5 %, with the tees only",
            "kind": "percentage",
            "params": {"percent": 5},
            "scope": {"products": [shop.ids["product:BAG"]]},
            "stacking": {"combinable_with": [tees]},  # the member discount is not listed
        }
    )
    priced = member_quote(shop, "gold", ("TEE", 1), ("BAG", 1))
    # both item promotions (5.00 + 10.00) beat the tee one with the member's 3 % (5.00 + 8.85)
    assert applied(priced) == [
        (tees, "Tees 5 %, with items and members", "item", 500),
        (bags, "Bags 5 %, with the tees only", "item", 1000),
    ]
    assert reasons(priced)[MEMBER] == f"not_combinable_with:{bags}"


def test_a_promotion_in_the_member_tier_group_replaces_it_on_its_lines(shop: Shop) -> None:
    bags = shop.create(
        {
            "name": "Members: bags 5 %",
            "kind": "percentage",
            "params": {"percent": 5},
            "scope": {"categories": [shop.ids["bags"]]},
            "stacking": {"group": "member_tier"},
        }
    )
    priced = member_quote(shop, "gold", ("TEE", 1), ("BAG", 1))
    # same group on the bag line: 5 % of the bag (10.00) beats 3 % of both (9.00)
    assert applied(priced) == [(bags, "Members: bags 5 %", "item", 1000)]
    assert reasons(priced)[MEMBER] == f"not_combinable_with:{bags}"


def test_the_member_discount_never_takes_a_line_below_its_floor(shop: Shop) -> None:
    shop.create(
        {
            "name": "Tees 60 %",
            "kind": "percentage",
            "params": {"percent": 60},
            "scope": {"products": [shop.ids["product:TEE"]]},
        }
    )
    priced = member_quote(shop, "gold", ("TEE", 1), ("MUG", 1))
    # the tee is at its cost (40.00) after 60 %: the member's 3 % of 55.00 (1.65) goes to the mug
    assert order_parts(priced) == [[], [(MEMBER, 165)]]
    assert [line.total_minor for line in priced.lines] == [4000, 1335]
    assert all(line.total_minor >= line.floor_minor for line in priced.lines)


def test_a_partial_refund_gives_back_the_lines_share_of_the_member_discount(shop: Shop) -> None:
    priced = member_quote(shop, "gold", ("TEE", 3), ("MUG", 1))  # 300.00 + 15.00
    tee = priced.lines[0]
    assert [(p.promotion_id, p.amount_minor) for p in tee.order_discounts] == [(MEMBER, 900)]
    first = promotions.refund_units(tee, 0, 1)
    rest = promotions.refund_units(tee, 1, 2)
    assert (first.amount_minor, first.discounts_reversed) == (9700, {MEMBER: 300})
    assert (rest.amount_minor, rest.discounts_reversed) == (19400, {MEMBER: 600})
    assert first.amount_minor + rest.amount_minor == tee.total_minor


def test_a_members_cart_leaves_the_shared_promotion_set_alone(shop: Shop) -> None:
    ten = shop.create({"name": "Ten", "kind": "percentage", "params": {"percent": 10}})
    pricing._member_set_cache.clear()
    gold = member_quote(shop, "gold", ("TEE", 1))
    plain = member_quote(shop, "plain", ("TEE", 1))
    again = member_quote(shop, "gold", ("TEE", 1))
    assert [c.promotion_id for c in gold.explanation] == [MEMBER, ten]
    assert [c.promotion_id for c in plain.explanation] == [ten]
    assert again == gold
    for cached in pricing._set_cache.values():
        assert MEMBER not in cached.by_id
    with_member = list(pricing._member_set_cache.values())
    assert len(with_member) == 1  # built once for the tier and this catalogue
    assert with_member[0].by_id[MEMBER] == promotions.member_rule(GOLD)


def test_redeeming_a_members_order_records_only_stored_promotions(shop: Shop) -> None:
    ten = shop.create({"name": "Ten", "kind": "percentage", "params": {"percent": 10}})
    with shop.container.uow(SYSTEM) as uow:
        request = promotions.PricingRequest(
            (promotions.PricingLine("TEE", 1),),
            customer_id=shop.ids["customer:gold"],
            member_discounts=LADDER,
        )
        priced = promotions.price_order(uow, request)
        receipt = promotions.redeem(uow, "SO-1", priced, shop.ids["customer:gold"])
        uow.commit()
    assert [a.promotion_id for a in priced.applied] == [ten, MEMBER]
    assert receipt.promotion_ids == (ten,)
    assert shop.counts()["promotion_redemptions"] == 1
    report = shop.run(promotions.promotion_performance, ten)
    assert report.redemptions == 1
    with shop.container.uow(SYSTEM) as uow:
        released = promotions.release(uow, "SO-1")
        uow.commit()
    assert released.promotion_ids == (ten,)

"""The call sequence order placement will use, on a batch in one transaction:
price_orders -> (reserve, write orders) -> redeem each -> commit; later release."""

from __future__ import annotations

from shopops.contexts import promotions
from shopops.contexts.promotions import CouponTerms, PricingLine, PricingRequest
from shopops.kernel.errors import DomainError
from tests.promotions.conftest import SYSTEM, Shop

# The keys orders already store in ``orders.pricing`` (placement's ``_pricing``).
ORDER_PRICING_KEYS = {
    "currency",
    "lines",
    "order_discounts",
    "subtotal_minor",
    "discount_minor",
    "shipping_minor",
    "total_minor",
}
ORDER_LINE_KEYS = {"sku", "quantity", "unit_price_minor", "discounts", "total_minor"}


def test_a_checkout_batch_redeems_what_it_can_and_a_cancellation_gives_it_back(shop: Shop) -> None:
    voucher = shop.create(
        {
            "name": "Voucher",
            "kind": "fixed_amount",
            "currency": "CNY",
            "params": {"amount": "20"},
            "requires_coupon": True,
        }
    )
    gift = shop.create(
        {
            "name": "Mug",
            "kind": "gift",
            "currency": "CNY",
            "params": {"sku": "MUG"},
            "conditions": {"min_spend": "250"},
        }
    )
    shop.run(
        promotions.create_coupon, promotions.CreateCoupon(voucher, "ONE", CouponTerms(max_uses=1))
    )
    gold = shop.ids["customer:gold"]
    requests = [
        PricingRequest(
            (PricingLine("SHOE", 1),),
            customer_id=gold,
            coupon_codes=("ONE",),
            shipping_fee_minor=1000,
        ),
        PricingRequest((PricingLine("TEE", 1), PricingLine("TEE", 1)), coupon_codes=("ONE",)),
        PricingRequest((PricingLine("BAG", 1),)),
    ]
    with shop.container.uow(SYSTEM) as uow:
        priced = promotions.price_orders(uow, requests)
        outcomes: list[str] = []
        for number, result in zip(("SO-1", "SO-2", "SO-3"), priced, strict=True):
            assert isinstance(result, promotions.PricedCart)
            try:
                promotions.redeem(uow, number, result, requests[int(number[-1]) - 1].customer_id)
                outcomes.append("redeemed")
            except DomainError as error:  # placement fails this order, keeps the others
                outcomes.append(error.code)
        uow.commit()
    assert outcomes == ["redeemed", "coupons.limit_reached", "redeemed"]
    first = priced[0]
    assert isinstance(first, promotions.PricedCart)
    assert [(line.sku, line.total_minor, line.gift_of) for line in first.lines] == [
        ("SHOE", 28000, None),
        ("MUG", 0, gift),
    ]
    assert first.total_minor == 28000 + 1000
    stored = first.as_dict()
    assert set(stored) >= ORDER_PRICING_KEYS
    assert all(set(line) >= ORDER_LINE_KEYS for line in stored["lines"])
    assert [line["sku"] for line in stored["lines"]] == ["SHOE", "MUG"]
    second = priced[1]
    assert isinstance(second, promotions.PricedCart)
    assert [(line.sku, line.quantity) for line in second.lines] == [("TEE", 2)]  # merged
    assert shop.run(promotions.get_coupon, "ONE").used == 1

    released = shop.run(promotions.release, "SO-1")  # the order was cancelled
    assert released.promotion_ids == (voucher, gift)
    assert released.coupon_codes == ("ONE",)
    assert shop.run(promotions.get_coupon, "ONE").used == 0
    assert shop.run(promotions.release, "SO-3").promotion_ids == ()  # nothing was used

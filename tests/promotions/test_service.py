"""Promotion and coupon use cases against the database: lifecycle, bad input that
changes nothing, quotes from the stored promotions, redemption and release."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shopops.contexts import promotions
from shopops.contexts.promotions import CouponTerms, PricingLine, PricingRequest
from shopops.kernel.errors import Conflict, DomainError, NotFound, PermissionDenied
from tests.promotions.conftest import ANALYST, MARKETING, NOW, SYSTEM, Shop

TEN_PERCENT: dict[str, Any] = {"name": "Ten off", "kind": "percentage", "params": {"percent": 10}}


def _error(shop: Shop, use_case: Any, *args: Any, **kwargs: Any) -> DomainError:
    before = shop.counts()
    with pytest.raises(DomainError) as caught:
        shop.run(use_case, *args, **kwargs)
    assert shop.counts() == before  # a refused command changes nothing
    return caught.value


def _coupon_promotion(shop: Shop, **limits: Any) -> int:
    return shop.create(
        {
            "name": "Voucher",
            "kind": "fixed_amount",
            "currency": "CNY",
            "params": {"amount": "20"},
            "requires_coupon": True,
            "stacking": {"group": "voucher"},
            "limits": limits,
        }
    )


# --- lifecycle --------------------------------------------------------------------------


def test_a_promotion_prices_carts_only_while_active(shop: Shop) -> None:
    view = shop.run(promotions.create_promotion, promotions.CreatePromotion(TEN_PERCENT))
    assert (view.status, view.revision) == ("draft", 1)
    assert view.definition["stacking"] == {
        "group": "item",
        "priority": 100,
        "exclusive": False,
        "combinable_with": None,
    }
    assert shop.quote(("TEE", 1)).total_minor == 10000
    shop.run(promotions.activate_promotion, view.id)
    quoted = shop.quote(("TEE", 1))
    assert quoted.total_minor == 9000
    assert [(c.promotion_id, c.reason) for c in quoted.explanation] == [(view.id, "applied")]
    shop.run(promotions.deactivate_promotion, view.id)
    assert shop.quote(("TEE", 1)).explanation == ()
    listed = shop.run(promotions.list_promotions, promotions.ListPromotions(status="inactive"))
    assert [p.id for p in listed] == [view.id]


def test_update_merges_sections_and_bumps_the_revision(shop: Shop) -> None:
    promotion_id = shop.create({**TEN_PERCENT, "limits": {"max_redemptions": 5}})
    change = promotions.UpdatePromotion(promotion_id, {"params": {"percent": 15}, "name": "15"})
    view = shop.run(promotions.update_promotion, change)
    assert (view.revision, view.name) == (2, "15")
    assert view.definition["params"] == {"percent": "15", "applies_to": "items"}
    assert view.definition["limits"]["max_redemptions"] == 5
    assert shop.quote(("TEE", 1)).total_minor == 8500
    same = shop.run(promotions.update_promotion, change)
    assert same.revision == 2  # nothing changed, nothing recorded
    kind_change = promotions.UpdatePromotion(promotion_id, {"kind": "gift"})
    assert _error(shop, promotions.update_promotion, kind_change).code == (
        "promotions.kind_cannot_change"
    )


@pytest.mark.parametrize(
    ("definition", "code"),
    [
        ({**TEN_PERCENT, "params": {"percent": 150}}, "promotions.invalid_percentage"),
        (
            {
                "name": "Tiers",
                "kind": "spend_tiers",
                "currency": "CNY",
                "params": {
                    "tiers": [{"spend": "500", "save": "100"}, {"spend": "300", "save": "50"}]
                },
            },
            "promotions.tiers_out_of_order",
        ),
        (
            {
                **TEN_PERCENT,
                "schedule": {
                    "starts_at": "2026-05-01T00:00:00Z",
                    "ends_at": "2026-04-01T00:00:00Z",
                },
            },
            "promotions.invalid_schedule",
        ),
        ({**TEN_PERCENT, "scope": {"categories": [999]}}, "promotions.invalid_scope"),
        (
            {"name": "Gift", "kind": "gift", "params": {"sku": "NOPE"}},
            "promotions.unknown_gift_sku",
        ),
    ],
)
def test_bad_definitions_are_refused_and_change_nothing(
    shop: Shop, definition: dict[str, Any], code: str
) -> None:
    error = _error(shop, promotions.create_promotion, promotions.CreatePromotion(definition))
    assert error.code == code


def test_overlapping_flash_sales_on_the_same_product_are_refused(shop: Shop) -> None:
    def flash(starts: str, ends: str, scope: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": "Flash",
            "kind": "flash_price",
            "currency": "CNY",
            "params": {"price": "59"},
            "scope": scope,
            "schedule": {"starts_at": starts, "ends_at": ends},
            "limits": {"quota_units": 10},
        }

    tee = {"products": [shop.ids["product:TEE"]]}
    shop.create(flash("2026-03-01T10:00:00Z", "2026-03-01T12:00:00Z", tee))
    overlapping = shop.create(
        flash(
            "2026-03-01T11:00:00Z", "2026-03-01T13:00:00Z", {"categories": [shop.ids["apparel"]]}
        ),
        activate=False,
    )
    error = _error(shop, promotions.activate_promotion, overlapping)
    assert (error.code, error.details) == (
        "promotions.overlapping_schedule",
        {"promotion_id": overlapping - 1},
    )
    later = shop.create(flash("2026-03-01T12:00:00Z", "2026-03-01T14:00:00Z", tee))
    other_product = shop.create(
        flash(
            "2026-03-01T10:00:00Z", "2026-03-01T12:00:00Z", {"products": [shop.ids["product:BAG"]]}
        )
    )
    assert shop.run(promotions.get_promotion, later).status == "active"
    assert shop.run(promotions.get_promotion, other_product).status == "active"


def test_an_ended_promotion_cannot_be_activated(shop: Shop) -> None:
    past = {**TEN_PERCENT, "schedule": {"ends_at": "2020-01-01T00:00:00Z"}}
    promotion_id = shop.create(past, activate=False)
    error = _error(shop, promotions.activate_promotion, promotion_id)
    assert error.code == "promotions.invalid_schedule"


def test_permissions(shop: Shop) -> None:
    command = promotions.CreatePromotion(TEN_PERCENT)
    assert isinstance(
        _error(shop, promotions.create_promotion, command, actor=ANALYST), PermissionDenied
    )
    view = shop.run(promotions.create_promotion, command, actor=MARKETING)
    assert shop.run(promotions.get_promotion, view.id, actor=ANALYST).id == view.id
    assert isinstance(_error(shop, promotions.get_promotion, 999), NotFound)


# --- coupons ------------------------------------------------------------------------------


def test_coupon_batches_are_unique_unambiguous_and_single_use(shop: Shop) -> None:
    promotion_id = _coupon_promotion(shop)
    command = promotions.GenerateCoupons(promotion_id, 500, name="Spring", prefix="spr")
    batch = shop.run(promotions.generate_coupons, command)
    assert len(set(batch.codes)) == 500
    for code in batch.codes:
        prefix, body = code.split("-")
        assert prefix == "SPR"
        assert len(body) == 10
        assert set(body) <= set(promotions.COUPON_ALPHABET)
        assert not set(body) & set("01OIL")
    listed = shop.run(
        promotions.list_coupons, promotions.ListCoupons(batch_id=batch.id, limit=1000)
    )
    assert sorted(c.code for c in listed) == list(batch.codes)
    assert {(c.max_uses, c.used) for c in listed} == {(1, 0)}
    too_short = promotions.GenerateCoupons(promotion_id, 100_000, length=6)
    assert _error(shop, promotions.generate_coupons, too_short).code == "coupons.invalid_batch"


def test_public_codes_are_unique_and_case_insensitive(shop: Shop) -> None:
    promotion_id = _coupon_promotion(shop)
    shop.run(
        promotions.create_coupon,
        promotions.CreateCoupon(promotion_id, "spring10", CouponTerms(max_uses=None)),
    )
    assert shop.run(promotions.get_coupon, " Spring10 ").code == "SPRING10"
    again = promotions.CreateCoupon(promotion_id, "SPRING10")
    assert _error(shop, promotions.create_coupon, again).code == "coupons.code_taken"
    automatic = shop.create(TEN_PERCENT)
    error = _error(shop, promotions.create_coupon, promotions.CreateCoupon(automatic, "AUTO1"))
    assert error.code == "coupons.invalid_batch"


def test_codes_in_a_quote_are_checked_with_clear_errors(shop: Shop) -> None:
    promotion_id = _coupon_promotion(shop)
    now = NOW
    for code, terms in (
        ("OLD", CouponTerms(ends_at=now - timedelta(days=1))),
        ("SOON", CouponTerms(starts_at=now + timedelta(days=1))),
        ("GOLDONLY", CouponTerms(tiers=("gold",))),
        ("ONCE", CouponTerms(max_uses=1, per_customer_limit=1)),
    ):
        shop.run(promotions.create_coupon, promotions.CreateCoupon(promotion_id, code, terms))
    plain = shop.ids["customer:plain"]

    def code_error(code: str, customer_id: int | None = None) -> str:
        with pytest.raises(DomainError) as caught:
            shop.quote(("TEE", 1), coupon_codes=(code,), customer_id=customer_id)
        return caught.value.code

    assert code_error("NOPE") == "coupons.not_found"
    assert code_error("OLD") == "coupons.expired"
    assert code_error("SOON") == "coupons.not_started"
    assert code_error("GOLDONLY") == "coupons.customer_required"
    assert code_error("GOLDONLY", plain) == "coupons.not_eligible"
    assert code_error("ONCE") == "coupons.customer_required"
    gold = shop.quote(("TEE", 1), coupon_codes=("goldonly",), customer_id=shop.ids["customer:gold"])
    assert gold.total_minor == 8000
    assert gold.coupons[0].code == "GOLDONLY"


# --- redemption and release ---------------------------------------------------------------


def _order(shop: Shop, number: str, *lines: tuple[str, int], **options: Any) -> Any:
    """What placement will do: price, then redeem, in one unit of work."""
    request = PricingRequest(tuple(PricingLine(s, q) for s, q in lines), **options)
    with shop.container.uow(promotions_actor()) as uow:
        priced = promotions.price_order(uow, request)
        promotions.redeem(uow, number, priced, options.get("customer_id"))
        uow.commit()
    return priced


def promotions_actor() -> Any:
    return SYSTEM


def test_redeem_counts_everything_and_release_gives_it_back(shop: Shop) -> None:
    promotion_id = _coupon_promotion(shop, max_redemptions=10, max_discount="1000")
    shop.run(
        promotions.create_coupon,
        promotions.CreateCoupon(promotion_id, "TWENTY", CouponTerms(max_uses=5)),
    )
    gold = shop.ids["customer:gold"]
    priced = _order(shop, "SO-1", ("TEE", 2), coupon_codes=("TWENTY",), customer_id=gold)
    assert priced.total_minor == 18000
    view = shop.run(promotions.get_promotion, promotion_id)
    assert (view.redemptions_used, view.discount_used_minor) == (1, 2000)
    assert shop.run(promotions.get_coupon, "TWENTY").used == 1
    performance = shop.run(promotions.promotion_performance, promotion_id)
    assert (performance.redemptions, performance.discount_minor, performance.gmv_minor) == (
        1,
        2000,
        18000,
    )
    assert performance.coupon_redemptions == 1
    with shop.container.uow(promotions_actor()) as uow:
        with pytest.raises(Conflict) as caught:
            promotions.redeem(uow, "SO-1", priced, gold)
        assert caught.value.code == "promotions.already_redeemed"
    receipt = shop.run(promotions.release, "SO-1")
    assert (receipt.promotion_ids, receipt.coupon_codes) == ((promotion_id,), ("TWENTY",))
    assert shop.run(promotions.release, "SO-1").promotion_ids == ()  # safe to repeat
    view = shop.run(promotions.get_promotion, promotion_id)
    assert (view.redemptions_used, view.discount_used_minor) == (0, 0)
    assert shop.run(promotions.get_coupon, "TWENTY").used == 0
    performance = shop.run(promotions.promotion_performance, promotion_id)
    assert (performance.redemptions, performance.released) == (0, 1)


def test_a_limit_reached_after_the_quote_fails_the_redemption_and_changes_nothing(
    shop: Shop,
) -> None:
    promotion_id = _coupon_promotion(shop)
    shop.run(promotions.create_coupon, promotions.CreateCoupon(promotion_id, "LAST1"))
    request = PricingRequest((PricingLine("TEE", 1),), coupon_codes=("LAST1",))
    with shop.container.uow(promotions_actor()) as uow:
        first = promotions.price_order(uow, request)
        second = promotions.price_order(uow, request)  # priced before anyone redeemed
    with shop.container.uow(promotions_actor()) as uow:
        promotions.redeem(uow, "SO-A", first, None)
        uow.commit()
    before = shop.counts()
    with shop.container.uow(promotions_actor()) as uow:
        with pytest.raises(Conflict) as caught:
            promotions.redeem(uow, "SO-B", second, None)
        uow.commit()  # the savepoint undid the partial redemption
    assert caught.value.code == "coupons.limit_reached"
    assert shop.counts() == before
    assert shop.run(promotions.get_promotion, promotion_id).redemptions_used == 1
    with pytest.raises(Conflict) as again:
        shop.quote(("TEE", 1), coupon_codes=("LAST1",))
    assert again.value.code == "coupons.limit_reached"


def test_per_customer_limits_count_per_customer(shop: Shop) -> None:
    shop.create({**TEN_PERCENT, "limits": {"per_customer": 1}})
    gold, plain = shop.ids["customer:gold"], shop.ids["customer:plain"]
    assert _order(shop, "SO-1", ("TEE", 1), customer_id=gold).total_minor == 9000
    again = shop.quote(("TEE", 1), customer_id=gold)
    assert [c.reason for c in again.explanation] == ["customer_limit_reached"]
    assert shop.quote(("TEE", 1), customer_id=plain).total_minor == 9000
    shop.run(promotions.release, "SO-1")
    assert shop.quote(("TEE", 1), customer_id=gold).total_minor == 9000


def test_flash_sale_quota_and_gift_lines(shop: Shop) -> None:
    flash = shop.create(
        {
            "name": "Flash tee",
            "kind": "flash_price",
            "currency": "CNY",
            "params": {"price": "59"},
            "scope": {"products": [shop.ids["product:TEE"]]},
            "limits": {"quota_units": 3, "per_customer_units": 2},
        }
    )
    gift = shop.create(
        {
            "name": "Mug over 300",
            "kind": "gift",
            "params": {"sku": "MUG"},
            "conditions": {"min_spend": "300"},
            "currency": "CNY",
            "limits": {"quota_units": 1},
        }
    )
    gold = shop.ids["customer:gold"]
    priced = _order(shop, "SO-1", ("TEE", 3), ("SHOE", 1), customer_id=gold)
    assert [(p.sku, p.quantity, p.total_minor, p.gift_of) for p in priced.lines] == [
        ("TEE", 3, 2 * 5900 + 10000, None),
        ("SHOE", 1, 30000, None),
        ("MUG", 1, 0, gift),
    ]
    assert {a.promotion_id: a.units for a in priced.applied} == {flash: 2, gift: 1}
    after = shop.quote(("TEE", 3), ("SHOE", 1), customer_id=shop.ids["customer:plain"])
    assert {c.promotion_id: c.reason for c in after.explanation} == {
        flash: "applied",
        gift: "quota_exhausted",
    }
    assert after.applied[0].units == 1  # one unit left of three
    performance = shop.run(promotions.promotion_performance, flash)
    assert (performance.quota_units, performance.units_sold) == (3, 2)


def test_price_orders_prices_a_batch_and_reports_errors_per_request(shop: Shop) -> None:
    shop.create(TEN_PERCENT)
    requests = [
        PricingRequest((PricingLine("TEE", 1),)),
        PricingRequest((PricingLine("NOPE", 1),)),
        PricingRequest((PricingLine("BAG", 2),), coupon_codes=("MISSING",)),
    ]
    with shop.container.uow(promotions_actor()) as uow:
        results = promotions.price_orders(uow, requests)
    assert isinstance(results[0], promotions.PricedCart)
    assert results[0].total_minor == 9000
    assert [getattr(r, "code", None) for r in results[1:]] == [
        "pricing.unknown_sku",
        "coupons.not_found",
    ]


def test_strict_coupons_refuse_a_code_that_does_not_apply(shop: Shop) -> None:
    promotion_id = _coupon_promotion(shop)
    terms = CouponTerms(max_uses=None, min_spend="500")
    shop.run(promotions.create_coupon, promotions.CreateCoupon(promotion_id, "BIG", terms))
    request = PricingRequest((PricingLine("TEE", 1),), coupon_codes=("BIG",))
    with shop.container.uow(promotions_actor()) as uow:
        with pytest.raises(DomainError) as caught:
            promotions.price_order(uow, request)
        assert caught.value.code == "coupons.not_applicable"
        assert caught.value.details == {"code": "BIG", "reason": "min_spend_not_met"}
        lenient = promotions.price_order(uow, request, strict_coupons=False)
        assert lenient.total_minor == 10000


def test_customer_facts_come_from_the_customer(shop: Shop) -> None:
    shop.create({**TEN_PERCENT, "conditions": {"tiers": ["gold"], "segments": ["vip"]}})
    shop.create(
        {
            "name": "First order",
            "kind": "fixed_amount",
            "currency": "CNY",
            "params": {"amount": "5"},
            "conditions": {"first_order_only": True},
        }
    )
    gold, plain = shop.ids["customer:gold"], shop.ids["customer:plain"]
    assert shop.quote(("TEE", 1), customer_id=gold).total_minor == 9000
    assert shop.quote(("TEE", 1), customer_id=gold, first_order=True).total_minor == 8500
    assert shop.quote(("TEE", 1), customer_id=plain).total_minor == 10000
    with pytest.raises(DomainError) as caught:
        shop.quote(("TEE", 1), customer_id=999)
    assert caught.value.code == "pricing.unknown_customer"


def test_cost_floor_by_default_zero_floor_on_request(shop: Shop) -> None:
    shop.create({**TEN_PERCENT, "params": {"percent": 90}})
    assert shop.quote(("TEE", 1)).total_minor == 4000  # the tee costs 40.00
    assert shop.quote(("TEE", 1), floor="zero").total_minor == 1000


def test_a_quote_can_simulate_another_moment(shop: Shop) -> None:
    tomorrow = NOW + timedelta(days=1)
    promotion_id = shop.create(
        {
            **TEN_PERCENT,
            "schedule": {
                "starts_at": tomorrow.isoformat(),
                "ends_at": (tomorrow + timedelta(days=1)).isoformat(),
            },
        }
    )
    assert [c.reason for c in shop.quote(("TEE", 1)).explanation] == ["not_started"]
    later = shop.quote(("TEE", 1), at=tomorrow + timedelta(hours=1))
    assert [(c.promotion_id, c.reason) for c in later.explanation] == [(promotion_id, "applied")]
    assert shop.quote(("TEE", 1), at=tomorrow + timedelta(days=2)).explanation == ()

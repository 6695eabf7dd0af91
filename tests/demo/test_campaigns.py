"""The demo store runs campaigns: 满减 tiers, flash sales, a member day, coupons, loyalty."""

from __future__ import annotations

from datetime import timedelta

from shopops.bootstrap import Container
from shopops.contexts import catalog, loyalty, promotions
from shopops.demo.campaigns import FLASH_PRODUCTS, SEEDER, WELCOME_CODE
from shopops.demo.generator import DemoSize, seed_demo
from shopops.kernel.money import to_minor
from tests.demo.test_history import END  # a Sunday: no member day, flash sales not yet started


def test_the_demo_store_runs_campaigns(container: Container) -> None:
    summary = seed_demo(container, DemoSize(customers=30, days=10, seed=3), now=END)
    currency = container.settings.default_currency
    with container.uow(SEEDER) as uow:
        listed = promotions.list_promotions(uow, promotions.ListPromotions(status="active"))
        kinds = sorted(p.kind for p in listed)
        assert kinds == [
            "fixed_amount",
            "fixed_amount",
            "flash_price",
            "flash_price",
            "percentage",
            "spend_tiers",
        ]
        by_kind = {p.kind: p for p in listed}
        tiers = by_kind["spend_tiers"]
        assert tiers.definition["currency"] == currency
        flash = [p for p in listed if p.kind == "flash_price"]
        for sale in flash:
            limits, schedule = sale.definition["limits"], sale.definition["schedule"]
            assert (limits["quota_units"], limits["per_customer_units"]) == (100, 2)
            assert schedule["starts_at"] > END.isoformat()
        assert by_kind["percentage"].definition["schedule"]["recurring"]["weekdays"] == [2]

        coupons = promotions.list_coupons(uow, promotions.ListCoupons(limit=1000))
        codes = {c.code for c in coupons}
        assert WELCOME_CODE in codes
        generated = [code for code in codes if code.startswith("THX-")]
        assert len(generated) == 50

        program = loyalty.get_program(uow)
        assert (program.currency, program.redemption_cap_percent) == (currency, 20)
        ladder = loyalty.list_tiers(uow)
        assert [t.code for t in ladder] == ["bronze", "silver", "gold", "platinum"]
        assert [t.min_spend_minor for t in ladder] == [
            to_minor(spend, currency) for spend in (0, 1000, 5000, 20000)
        ]

        sku = next(s for s in summary.skus if not s.startswith(FLASH_PRODUCTS))
        price = catalog.get_variant(uow, sku).price_minor
        quantity = -(-to_minor(500, currency) // price)  # just over the top tier
        priced = promotions.quote(
            uow,
            promotions.PricingRequest((promotions.PricingLine(sku, quantity),), at=END),
        )
        applied = {a.promotion_id: a.discount_minor for a in priced.applied}
        assert applied == {tiers.id: to_minor(60, currency)}
        assert priced.total_minor == price * quantity - to_minor(60, currency)

        wednesday = END + timedelta(days=3)
        member_day = promotions.quote(
            uow,
            promotions.PricingRequest((promotions.PricingLine(sku, 1),), at=wednesday),
        )
        assert by_kind["percentage"].id in {a.promotion_id for a in member_day.applied}

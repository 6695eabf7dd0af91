"""The demo store's campaigns: a 满减 event, flash sales, a weekly member day, coupons,
and the loyalty programme with its tier ladder.

Everything goes through the public services of the promotions and loyalty contexts,
like a marketing manager's input. The store-wide 满减 starts at the end of the
history, the flash sales the day after; the weekly member day has run since the
beginning of the history (``since``), so history orders of a Wednesday have it. The
campaigns the store ran before today are in ``past_campaigns``. Amounts are whole
major units of the store currency turned into minor units (so JPY and USD stores
both make sense); definitions take them as decimal strings. Nothing here is random
except the codes of the generated coupon batch, which the coupons service makes
crypto-random on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update

from shopops.bootstrap import Container
from shopops.contexts import catalog, loyalty, promotions
from shopops.kernel.events import Actor
from shopops.kernel.money import to_major, to_minor

SEEDER = Actor.system("demo-seed")

SPEND_TIERS = ((300, 30), (500, 60))  # 满减: spend 300 save 30 / spend 500 save 60
FLASH_PRODUCTS = ("SNE-001", "HEA-001")  # popular lines: the first sneaker and headphones
FLASH_PERCENT_OF_PRICE = 75
FLASH_QUOTA_UNITS = 100
FLASH_PER_CUSTOMER_UNITS = 2
FLASH_DAYS = 3
MEMBER_DAY_WEEKDAY = 2  # Wednesday (0 = Monday)
MEMBER_DAY_PERCENT = 8
WELCOME_CODE = "WELCOME10"
WELCOME_SAVE, WELCOME_MIN_SPEND = 10, 100
THANKS_SAVE, THANKS_MIN_SPEND, THANKS_CODES = 20, 200, 50
TIERS = (  # code, name, 12-month spend, tier discount %, free shipping, points multiplier %
    ("bronze", "Bronze", 0, 0, False, 100),
    ("silver", "Silver", 1000, 0, False, 110),
    ("gold", "Gold", 5000, 3, True, 125),
    ("platinum", "Platinum", 20000, 5, True, 150),
)


def local_midnight(moment: datetime, zone: ZoneInfo, *, up: bool = False) -> datetime:
    """Midnight in the store's time zone at or before ``moment`` (at or after: ``up``), UTC."""
    local = moment.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if up and midnight < local:
        midnight += timedelta(days=1)  # wall-clock arithmetic: midnight again
    return midnight.astimezone(UTC)


@dataclass
class DemoCampaigns:
    promotions: dict[str, int] = field(default_factory=dict)  # name: promotion id
    coupon_codes: list[str] = field(default_factory=list)  # public codes
    batch_codes: list[str] = field(default_factory=list)  # the generated single-use codes


def seed_campaigns(
    container: Container, skus: Sequence[str], now: datetime, since: datetime | None = None
) -> DemoCampaigns:
    """Create and activate the demo campaigns; ``skus`` are the demo catalog's SKUs.

    Schedules start from ``now`` (the end of the demo history), the flash sales from
    the clock when that is later: a promotion that has already ended cannot be
    activated. The member day has run since the day of ``since`` (the beginning of
    the history; None: no history, it has no start).
    """
    currency = container.settings.default_currency
    moment = max(now, container.clock.now()).astimezone(UTC)
    result = DemoCampaigns()

    def money(major: int) -> str:
        return str(to_major(to_minor(major, currency), currency))

    with container.uow(SEEDER) as uow:

        def create(key: str, definition: Mapping[str, Any]) -> int:
            view = promotions.create_promotion(
                uow, promotions.CreatePromotion({**definition, "currency": currency})
            )
            promotions.activate_promotion(uow, view.id)
            result.promotions[key] = view.id
            return int(view.id)

        create(
            "spend_tiers",
            {
                "name": "满减: "
                + " / ".join(f"spend {spend} save {save}" for spend, save in SPEND_TIERS),
                "description": "Store-wide spend thresholds; the highest tier reached applies.",
                "kind": "spend_tiers",
                "params": {
                    "tiers": [
                        {"spend": money(spend), "save": money(save)} for spend, save in SPEND_TIERS
                    ]
                },
                "schedule": {"starts_at": now.astimezone(UTC).isoformat()},
            },
        )

        flash_start = (moment + timedelta(days=1)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        flash_end = flash_start + timedelta(days=FLASH_DAYS)
        for code in FLASH_PRODUCTS:
            sku = next((s for s in skus if s.startswith(f"{code}-")), None)
            if sku is None:
                continue
            variant = catalog.get_variant(uow, sku)
            flash_minor = variant.price_minor * FLASH_PERCENT_OF_PRICE // 100
            create(
                f"flash:{code}",
                {
                    "name": f"Flash sale: {code} at {FLASH_PERCENT_OF_PRICE}% of its price",
                    "kind": "flash_price",
                    "params": {"price": str(to_major(flash_minor, currency))},
                    "scope": {"products": [variant.product_id]},
                    "schedule": {
                        "starts_at": flash_start.isoformat(),
                        "ends_at": flash_end.isoformat(),
                    },
                    "limits": {
                        "quota_units": FLASH_QUOTA_UNITS,
                        "per_customer_units": FLASH_PER_CUSTOMER_UNITS,
                    },
                },
            )

        member_day: dict[str, Any] = {
            "recurring": {
                "weekdays": [MEMBER_DAY_WEEKDAY],
                "timezone": container.settings.store_timezone,
            }
        }
        started = None
        if since is not None:
            started = local_midnight(since, ZoneInfo(container.settings.store_timezone))
            member_day["starts_at"] = started.isoformat()
        member_day_id = create(
            "member_day",
            {
                "name": f"Member day: {MEMBER_DAY_PERCENT}% off every Wednesday",
                "kind": "percentage",
                "params": {"percent": MEMBER_DAY_PERCENT},
                "schedule": member_day,
            },
        )
        if started is not None:  # set up when it started (the service stamps the wall clock)
            uow.session.flush()
            uow.session.execute(
                update(promotions.Promotion)
                .where(promotions.Promotion.id == member_day_id)
                .values(created_at=started, updated_at=started)
            )

        welcome = create(
            "welcome",
            {
                "name": f"Welcome: {WELCOME_SAVE} off a first order over {WELCOME_MIN_SPEND}",
                "kind": "fixed_amount",
                "params": {"amount": money(WELCOME_SAVE)},
                "requires_coupon": True,
                "conditions": {"first_order_only": True},
                "stacking": {"group": "voucher"},
            },
        )
        coupon = promotions.create_coupon(
            uow,
            promotions.CreateCoupon(
                welcome,
                WELCOME_CODE,
                promotions.CouponTerms(
                    max_uses=None, per_customer_limit=1, min_spend=money(WELCOME_MIN_SPEND)
                ),
            ),
        )
        result.coupon_codes.append(coupon.code)

        thanks = create(
            "thank_you",
            {
                "name": f"Thank-you voucher: {THANKS_SAVE} off over {THANKS_MIN_SPEND}",
                "kind": "fixed_amount",
                "params": {"amount": money(THANKS_SAVE)},
                "requires_coupon": True,
                "stacking": {"group": "voucher"},
            },
        )
        batch = promotions.generate_coupons(
            uow,
            promotions.GenerateCoupons(
                thanks,
                THANKS_CODES,
                name="Thank-you vouchers",
                prefix="THX",
                length=10,
                terms=promotions.CouponTerms(
                    max_uses=1,
                    min_spend=money(THANKS_MIN_SPEND),
                    ends_at=moment + timedelta(days=90),
                ),
            ),
        )
        result.batch_codes.extend(batch.codes)

        loyalty.update_program(
            uow,
            loyalty.UpdateProgram(
                currency=currency,
                points_per_unit=1,  # one point per whole currency unit spent
                unit_size=1,
                credit_on="paid",
                redemption_cap_percent=20,  # points pay at most 20% of an order
                point_value_minor=1,
                expiry_months=12,
            ),
        )
        loyalty.replace_tiers(
            uow,
            loyalty.ReplaceTiers(
                tuple(
                    loyalty.TierSpec(
                        code,
                        name,
                        to_minor(spend, currency),
                        discount_percent=discount,
                        free_shipping=free_shipping,
                        points_multiplier_percent=multiplier,
                    )
                    for code, name, spend, discount, free_shipping, multiplier in TIERS
                )
            ),
        )
        uow.commit()
    return result

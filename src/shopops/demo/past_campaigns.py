"""The campaigns the demo store ran during its history, so their performance has figures.

Each seasonal sale of the history (``schedule.campaigns``: 618 and 11.11 where they
fall in the window, else a spring sale and a members' week) had three promotions,
running over the days of the sale's demand spike:

- a 满减 event (spend 300 save 40 / spend 600 save 100) with a discount budget;
- a flash sale on one of the popular lines (``campaigns.FLASH_PRODUCTS``, in turn) at
  70 % of its price over the sale's first two days, with a unit quota and a limit per
  customer — shoppers who come across it often add it to their basket (``pull``);
- a public coupon code (30 off over 299, once per customer, a limited number of
  uses) that many signed-in shoppers enter.

The weekly member day ran through the whole history: it is the same promotion as
today's (``campaigns.seed_campaigns`` starts it at the beginning of the history).

They are created like ``campaigns`` does, through the promotions services, but in a
unit of work whose clock reads the time the marketing manager set them up (a few days
before the sale: a promotion cannot be activated once it has ended); once the history
is written, each is deactivated at its end (``close_past_campaigns``), so the list of
active promotions shows today's campaigns and the past ones keep their performance.
Their rows' timestamps are set to those times too (the services stamp the wall clock).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update

from shopops.bootstrap import Container
from shopops.contexts import catalog, promotions
from shopops.demo.campaigns import FLASH_PRODUCTS, SEEDER, local_midnight
from shopops.demo.schedule import Campaign
from shopops.kernel.money import to_major, to_minor
from shopops.kernel.time import FrozenClock
from shopops.uow import UnitOfWork

# The sales of ``schedule.campaigns`` by name (less the year): title and coupon code stem.
TITLES = {
    "mid-year-sale": ("618", "MID618"),
    "singles-day": ("11.11", "DOUBLE11"),
    "spring-sale": ("Spring sale", "SPRING"),
    "member-days": ("Members' week", "MEMBERS"),
}
SPEND_TIERS = ((300, 40), (600, 100))
BUDGET = 20_000  # the 满减 event's discount budget
FLASH_PERCENT_OF_PRICE = 70
FLASH_QUOTA_UNITS = 40
FLASH_PER_CUSTOMER_UNITS = 2
FLASH_DAYS = 2
FLASH_PULL = 0.25  # share of shoppers during a flash sale who add its product
COUPON_SAVE, COUPON_MIN_SPEND, COUPON_USES = 30, 299, 60
COUPON_TAKE_UP = 0.5  # share of signed-in shoppers over the minimum spend who enter the code
PREPARED_BEFORE = timedelta(days=3)


@dataclass(frozen=True)
class FlashSale:
    promotion_id: int
    skus: tuple[str, ...]  # the variants of the product on sale
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class CouponCode:
    promotion_id: int
    code: str
    min_spend_minor: int
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class PastCampaign:
    name: str  # the sale of ``schedule.campaigns``, e.g. singles-day-2026
    title: str  # e.g. 11.11
    starts_at: datetime
    ends_at: datetime  # exclusive
    created_at: datetime
    promotion_ids: tuple[int, ...]
    flash: FlashSale | None
    coupon: CouponCode


@dataclass
class PastCampaigns:
    campaigns: list[PastCampaign] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        return [campaign.coupon.code for campaign in self.campaigns]

    def flash_sale_at(self, moment: datetime) -> FlashSale | None:
        for campaign in self.campaigns:
            flash = campaign.flash
            if flash is not None and flash.starts_at <= moment < flash.ends_at:
                return flash
        return None

    def coupon_at(self, moment: datetime) -> CouponCode | None:
        for campaign in self.campaigns:
            if campaign.coupon.starts_at <= moment < campaign.coupon.ends_at:
                return campaign.coupon
        return None


def _uow_at(container: Container, moment: datetime) -> UnitOfWork:
    """A unit of work whose clock reads ``moment``: the services act as they did then."""
    return UnitOfWork(
        container.session_factory,
        actor=SEEDER,
        clock=FrozenClock(moment),
        pii=container.pii,
        subscribers=container.handlers.handler_names_for,
        settings=container.settings,
    )


def seed_past_campaigns(
    container: Container,
    skus: Sequence[str],
    sales: Sequence[Campaign],
    start: datetime,
    end: datetime,
) -> PastCampaigns:
    """Create and activate the promotions of every sale in ``sales`` (days counted from
    ``start``, the beginning of the history that ends at ``end``)."""
    currency = container.settings.default_currency
    zone = ZoneInfo(container.settings.store_timezone)
    result = PastCampaigns()

    def money(major: int) -> str:
        return str(to_major(to_minor(major, currency), currency))

    for number, sale in enumerate(sales):
        stem = sale.name.rsplit("-", 1)[0] if sale.name[-4:].isdigit() else sale.name
        title, code_stem = TITLES.get(stem, (sale.name, "SALE"))
        first = start + timedelta(days=sale.first_day)
        last = start + timedelta(days=sale.first_day + len(sale.factors))
        starts_at = max(local_midnight(first, zone), start)
        ends_at = min(local_midnight(last, zone, up=True), end)
        if ends_at <= starts_at:
            continue
        created_at = max(starts_at - PREPARED_BEFORE, start)
        year = starts_at.astimezone(zone).year
        ids: list[int] = []
        with _uow_at(container, created_at) as uow:

            def create(
                definition: dict[str, Any], uow: UnitOfWork = uow, ids: list[int] = ids
            ) -> int:
                view = promotions.create_promotion(
                    uow, promotions.CreatePromotion({**definition, "currency": currency})
                )
                promotions.activate_promotion(uow, view.id)
                ids.append(view.id)
                return int(view.id)

            schedule = {"starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()}
            create(
                {
                    "name": f"{title} 满减: "
                    + " / ".join(f"spend {spend} save {save}" for spend, save in SPEND_TIERS),
                    "description": f"The {title} event: store-wide spend thresholds.",
                    "kind": "spend_tiers",
                    "params": {
                        "tiers": [
                            {"spend": money(spend), "save": money(save)}
                            for spend, save in SPEND_TIERS
                        ]
                    },
                    "schedule": schedule,
                    "limits": {"max_discount": money(BUDGET)},
                }
            )
            flash = _flash_sale(uow, create, skus, number, starts_at, ends_at, title)
            coupon_id = create(
                {
                    "name": f"{title} coupon: {COUPON_SAVE} off over {COUPON_MIN_SPEND}",
                    "kind": "fixed_amount",
                    "params": {"amount": money(COUPON_SAVE)},
                    "requires_coupon": True,
                    "stacking": {"group": "voucher"},
                    "schedule": schedule,
                }
            )
            coupon = promotions.create_coupon(
                uow,
                promotions.CreateCoupon(
                    coupon_id,
                    f"{code_stem}-{year % 100:02d}",
                    promotions.CouponTerms(
                        max_uses=COUPON_USES,
                        per_customer_limit=1,
                        min_spend=money(COUPON_MIN_SPEND),
                        starts_at=starts_at,
                        ends_at=ends_at,
                    ),
                ),
            )
            _stamp(uow, ids, [coupon.id], created_at)
            uow.commit()
        result.campaigns.append(
            PastCampaign(
                sale.name,
                title,
                starts_at,
                ends_at,
                created_at,
                tuple(ids),
                flash,
                CouponCode(
                    coupon_id,
                    coupon.code,
                    to_minor(COUPON_MIN_SPEND, currency),
                    starts_at,
                    ends_at,
                ),
            )
        )
    return result


def _flash_sale(
    uow: UnitOfWork,
    create: Callable[[dict[str, Any]], int],
    skus: Sequence[str],
    number: int,
    starts_at: datetime,
    ends_at: datetime,
    title: str,
) -> FlashSale | None:
    """The sale's flash sale: the popular lines take turns."""
    code = FLASH_PRODUCTS[number % len(FLASH_PRODUCTS)]
    variants = tuple(s for s in skus if s.startswith(f"{code}-"))
    if not variants:
        return None
    variant = catalog.get_variant(uow, variants[0])
    flash_minor = variant.price_minor * FLASH_PERCENT_OF_PRICE // 100
    flash_ends = min(starts_at + timedelta(days=FLASH_DAYS), ends_at)
    promotion_id = create(
        {
            "name": f"{title} flash sale: {code} at {FLASH_PERCENT_OF_PRICE}% of its price",
            "kind": "flash_price",
            "params": {"price": str(to_major(flash_minor, variant.currency))},
            "scope": {"products": [variant.product_id]},
            "schedule": {"starts_at": starts_at.isoformat(), "ends_at": flash_ends.isoformat()},
            "limits": {
                "quota_units": FLASH_QUOTA_UNITS,
                "per_customer_units": FLASH_PER_CUSTOMER_UNITS,
            },
        }
    )
    return FlashSale(promotion_id, variants, starts_at, flash_ends)


def _stamp(uow: UnitOfWork, promotion_ids: list[int], coupon_ids: list[int], at: datetime) -> None:
    """The rows' timestamps at the time they were set up (the services stamp the wall
    clock; the audit rows and events already carry the unit of work's time)."""
    session = uow.session
    session.flush()
    session.execute(
        update(promotions.Promotion)
        .where(promotions.Promotion.id.in_(promotion_ids))
        .values(created_at=at, updated_at=at)
    )
    session.execute(
        update(promotions.Coupon)
        .where(promotions.Coupon.id.in_(coupon_ids))
        .values(created_at=at, updated_at=at)
    )


def close_past_campaigns(container: Container, past: PastCampaigns) -> None:
    """Deactivate each past campaign's promotions at its end, as marketing tidies up."""
    for campaign in past.campaigns:
        with _uow_at(container, campaign.ends_at) as uow:
            for promotion_id in campaign.promotion_ids:
                promotions.deactivate_promotion(uow, promotion_id)
            uow.session.flush()
            uow.session.execute(
                update(promotions.Promotion)
                .where(promotions.Promotion.id.in_(campaign.promotion_ids))
                .values(updated_at=campaign.ends_at)
            )
            uow.commit()

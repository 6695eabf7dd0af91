"""How each promotion performs: live redemptions, discount cost, orders and GMV with it,
budget and quota used — from the redemption ledger, so cancellations drop out."""

from __future__ import annotations

from collections.abc import Sequence

from shopops.auth.permissions import Permission
from shopops.contexts.promotions import repository
from shopops.contexts.promotions.commands import ListPromotions
from shopops.contexts.promotions.errors import PromotionError
from shopops.contexts.promotions.models import (
    REDEEMED,
    RELEASED,
    CouponRedemption,
    Promotion,
    PromotionRedemption,
)
from shopops.contexts.promotions.views import CurrencyPerformance, PromotionPerformance
from shopops.kernel.errors import NotFound
from shopops.uow import UnitOfWork


def _report(uow: UnitOfWork, rows: Sequence[Promotion]) -> list[PromotionPerformance]:
    session = uow.session
    ids = [row.id for row in rows]
    totals: dict[int, list[CurrencyPerformance]] = {}
    for total in repository.redemption_totals(session, ids):
        totals.setdefault(total.promotion_id, []).append(
            CurrencyPerformance(
                total.currency, total.orders, total.discount_minor, total.gmv_minor, total.units
            )
        )
    released = repository.counts_by_promotion(session, PromotionRedemption, RELEASED, ids)
    coupon_uses = repository.counts_by_promotion(session, CouponRedemption, REDEEMED, ids)
    quotas = repository.quotas(session, ids)
    report = []
    for row in rows:
        quota = quotas.get(row.id)
        by_currency = tuple(totals.get(row.id, ()))
        report.append(
            PromotionPerformance(
                promotion_id=row.id,
                name=row.name,
                kind=row.kind,
                status=row.status,
                redemptions=sum(c.orders for c in by_currency),
                released=released.get(row.id, 0),
                coupon_redemptions=coupon_uses.get(row.id, 0),
                by_currency=by_currency,
                budget_minor=row.max_discount_minor,
                budget_used_minor=row.discount_used_minor,
                max_redemptions=row.max_redemptions,
                redemptions_used=row.redemptions_used,
                quota_units=quota.quota_units if quota else None,
                units_sold=quota.sold_units if quota else None,
            )
        )
    return report


def promotion_performance(uow: UnitOfWork, promotion_id: int) -> PromotionPerformance:
    uow.require(Permission.PROMOTIONS_READ)
    row = repository.get(uow.session, promotion_id)
    if row is None:
        raise NotFound(PromotionError.NOT_FOUND, f"promotion {promotion_id} does not exist")
    return _report(uow, [row])[0]


def performance_report(uow: UnitOfWork, query: ListPromotions) -> list[PromotionPerformance]:
    """Performance of a page of promotions (same filters as the list)."""
    uow.require(Permission.PROMOTIONS_READ)
    rows = repository.list_promotions(
        uow.session,
        status=query.status,
        kind=query.kind,
        after_id=query.after_id,
        limit=max(1, min(query.limit, 500)),
    )
    return _report(uow, rows)

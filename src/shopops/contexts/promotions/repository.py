"""Every query of the promotions context, including the conditional counter updates.

Lower contexts' tables (catalog, customers) are read through read-only Core views,
as orders does: promotions link to them by id and never import their models.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    String,
    TableClause,
    column,
    func,
    or_,
    select,
    table,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from shopops.contexts.promotions.models import (
    REDEEMED,
    RELEASED,
    Coupon,
    CouponRedemption,
    CustomerUsage,
    FlashSaleQuota,
    Promotion,
    PromotionRedemption,
)
from shopops.db.types import JsonDocument

_variants = table(
    "variants",
    column("sku", String),
    column("product_id", BigInteger),
    column("price_minor", BigInteger),
    column("cost_minor", BigInteger),
    column("currency", String),
    column("is_active", Boolean),
)
_products = table(
    "products",
    column("id", BigInteger),
    column("category_id", BigInteger),
    column("brand_id", BigInteger),
)
_categories = table("categories", column("id", BigInteger), column("parent_id", BigInteger))
_brands = table("brands", column("id", BigInteger))
_customers = table(
    "customers",
    column("id", BigInteger),
    column("tier", String),
    column("tags", JsonDocument),
    column("erased_at"),
)
PROMOTION, COUPON = "promotion", "coupon"

# --- catalog and customer facts -------------------------------------------------------


@dataclass(frozen=True)
class SkuFacts:
    sku: str
    product_id: int
    category_id: int | None
    brand_id: int | None
    price_minor: int
    cost_minor: int | None
    currency: str


def sku_facts(session: Session, skus: Iterable[str]) -> dict[str, SkuFacts]:
    wanted = sorted(set(skus))
    if not wanted:  # e.g. no gift promotion is active: no round trip
        return {}
    rows = session.execute(
        select(
            _variants.c.sku,
            _variants.c.product_id,
            _products.c.category_id,
            _products.c.brand_id,
            _variants.c.price_minor,
            _variants.c.cost_minor,
            _variants.c.currency,
        )
        .join(_products, _products.c.id == _variants.c.product_id)
        .where(_variants.c.sku.in_(wanted))
    ).all()
    return {
        row.sku: SkuFacts(
            row.sku,
            int(row.product_id),
            None if row.category_id is None else int(row.category_id),
            None if row.brand_id is None else int(row.brand_id),
            int(row.price_minor),
            None if row.cost_minor is None else int(row.cost_minor),
            row.currency,
        )
        for row in rows
    }


def category_parents(session: Session) -> dict[int, int | None]:
    """The whole category tree (categories are few)."""
    return {
        int(row.id): None if row.parent_id is None else int(row.parent_id)
        for row in session.execute(select(_categories.c.id, _categories.c.parent_id))
    }


def customer_facts(session: Session, customer_id: int) -> tuple[str | None, list[str]] | None:
    """(tier, tags) of a customer who exists and is not erased."""
    row = session.execute(
        select(_customers.c.tier, _customers.c.tags, _customers.c.erased_at).where(
            _customers.c.id == customer_id
        )
    ).first()
    if row is None or row.erased_at is not None:
        return None
    return row.tier, list(row.tags or [])


def existing_ids(session: Session, kind: str, ids: Collection[int]) -> set[int]:
    """Which of ``ids`` exist among products, categories or brands."""
    if not ids:
        return set()
    view: TableClause = {"products": _products, "categories": _categories, "brands": _brands}[kind]
    return {int(i) for i in session.scalars(select(view.c.id).where(view.c.id.in_(sorted(ids))))}


def products_in(
    session: Session,
    product_ids: Collection[int],
    category_ids: Collection[int],
    brand_ids: Collection[int],
) -> set[int]:
    """Products named, in the categories (already expanded to subcategories), or of the brands."""
    clauses: list[ColumnElement[bool]] = []
    if product_ids:
        clauses.append(_products.c.id.in_(sorted(product_ids)))
    if category_ids:
        clauses.append(_products.c.category_id.in_(sorted(category_ids)))
    if brand_ids:
        clauses.append(_products.c.brand_id.in_(sorted(brand_ids)))
    stmt = select(_products.c.id)
    if clauses:
        stmt = stmt.where(or_(*clauses))
    return {int(i) for i in session.scalars(stmt)}


# --- promotions -----------------------------------------------------------------------


def get(session: Session, promotion_id: int, *, for_update: bool = False) -> Promotion | None:
    stmt = select(Promotion).where(Promotion.id == promotion_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def list_promotions(
    session: Session, *, status: str | None, kind: str | None, after_id: int | None, limit: int
) -> Sequence[Promotion]:
    stmt = select(Promotion).order_by(Promotion.id).limit(limit)
    if status is not None:
        stmt = stmt.where(Promotion.status == status)
    if kind is not None:
        stmt = stmt.where(Promotion.kind == kind)
    if after_id is not None:
        stmt = stmt.where(Promotion.id > after_id)
    return session.scalars(stmt).all()


@dataclass(frozen=True)
class PromotionState:
    """What pricing needs of a promotion besides its (cached) definition."""

    id: int
    fingerprint: str
    status: str
    starts_at: datetime | None
    ends_at: datetime | None
    redemptions_used: int
    discount_used_minor: int


_STATE_COLUMNS = (
    Promotion.id,
    Promotion.fingerprint,
    Promotion.status,
    Promotion.starts_at,
    Promotion.ends_at,
    Promotion.redemptions_used,
    Promotion.discount_used_minor,
)


def active_promotion_states(session: Session, now: datetime) -> list[PromotionState]:
    """Active promotions that have not ended (those not started yet are explained)."""
    rows = session.execute(
        select(*_STATE_COLUMNS)
        .where(
            Promotion.status == "active",
            or_(Promotion.ends_at.is_(None), Promotion.ends_at > now),
        )
        .order_by(Promotion.id)
    )
    return [PromotionState(*row) for row in rows]


def promotion_state(session: Session, promotion_id: int) -> PromotionState | None:
    row = session.execute(select(*_STATE_COLUMNS).where(Promotion.id == promotion_id)).first()
    return None if row is None else PromotionState(*row)


def get_many(session: Session, promotion_ids: Collection[int]) -> dict[int, Promotion]:
    if not promotion_ids:
        return {}
    rows = session.scalars(select(Promotion).where(Promotion.id.in_(sorted(promotion_ids))))
    return {row.id: row for row in rows}


def active_flash_sales(session: Session, *, other_than: int) -> Sequence[Promotion]:
    return session.scalars(
        select(Promotion)
        .where(
            Promotion.status == "active",
            Promotion.kind == "flash_price",
            Promotion.id != other_than,
        )
        .order_by(Promotion.id)
    ).all()


def quotas(session: Session, promotion_ids: Collection[int]) -> dict[int, FlashSaleQuota]:
    if not promotion_ids:
        return {}
    rows = session.scalars(
        select(FlashSaleQuota).where(FlashSaleQuota.promotion_id.in_(sorted(promotion_ids)))
    )
    return {row.promotion_id: row for row in rows}


def customer_usage(session: Session, customer_id: int, subject: str) -> dict[int, tuple[int, int]]:
    """subject id -> (uses, units) of one customer."""
    rows = session.execute(
        select(CustomerUsage.subject_id, CustomerUsage.uses, CustomerUsage.units).where(
            CustomerUsage.customer_id == customer_id, CustomerUsage.subject == subject
        )
    )
    return {int(row.subject_id): (int(row.uses), int(row.units)) for row in rows}


# --- coupons --------------------------------------------------------------------------


def coupons_by_code(session: Session, codes: Collection[str]) -> dict[str, Coupon]:
    if not codes:
        return {}
    rows = session.scalars(select(Coupon).where(Coupon.code.in_(sorted(codes))))
    return {row.code: row for row in rows}


def taken_codes(session: Session, codes: Collection[str]) -> set[str]:
    taken: set[str] = set()
    ordered = sorted(codes)
    for start in range(0, len(ordered), 1000):
        chunk = ordered[start : start + 1000]
        taken.update(session.scalars(select(Coupon.code).where(Coupon.code.in_(chunk))))
    return taken


def list_coupons(
    session: Session,
    *,
    promotion_id: int | None,
    batch_id: int | None,
    after_id: int | None,
    limit: int,
) -> Sequence[Coupon]:
    stmt = select(Coupon).order_by(Coupon.id).limit(limit)
    if promotion_id is not None:
        stmt = stmt.where(Coupon.promotion_id == promotion_id)
    if batch_id is not None:
        stmt = stmt.where(Coupon.batch_id == batch_id)
    if after_id is not None:
        stmt = stmt.where(Coupon.id > after_id)
    return session.scalars(stmt).all()


# --- counters: conditional updates checked by row count --------------------------------


def _changed(result: Any) -> bool:
    return bool(result.rowcount == 1)


def try_count_promotion(session: Session, promotion_id: int, discount_minor: int) -> bool:
    """One more redemption and ``discount_minor`` more spent, unless a limit would be passed."""
    result = session.execute(
        update(Promotion)
        .where(
            Promotion.id == promotion_id,
            or_(
                Promotion.max_redemptions.is_(None),
                Promotion.redemptions_used < Promotion.max_redemptions,
            ),
            or_(
                Promotion.max_discount_minor.is_(None),
                Promotion.discount_used_minor + discount_minor <= Promotion.max_discount_minor,
            ),
        )
        .values(
            redemptions_used=Promotion.redemptions_used + 1,
            discount_used_minor=Promotion.discount_used_minor + discount_minor,
            updated_at=Promotion.updated_at,  # counters are not definition changes
        )
        .execution_options(synchronize_session=False)
    )
    return _changed(result)


def uncount_promotion(session: Session, promotion_id: int, discount_minor: int) -> None:
    session.execute(
        update(Promotion)
        .where(
            Promotion.id == promotion_id,
            Promotion.redemptions_used >= 1,
            Promotion.discount_used_minor >= discount_minor,
        )
        .values(
            redemptions_used=Promotion.redemptions_used - 1,
            discount_used_minor=Promotion.discount_used_minor - discount_minor,
            updated_at=Promotion.updated_at,
        )
        .execution_options(synchronize_session=False)
    )


def try_take_units(session: Session, promotion_id: int, units: int) -> bool:
    result = session.execute(
        update(FlashSaleQuota)
        .where(
            FlashSaleQuota.promotion_id == promotion_id,
            or_(
                FlashSaleQuota.quota_units.is_(None),
                FlashSaleQuota.sold_units + units <= FlashSaleQuota.quota_units,
            ),
        )
        .values(sold_units=FlashSaleQuota.sold_units + units)
        .execution_options(synchronize_session=False)
    )
    return _changed(result)


def give_back_units(session: Session, promotion_id: int, units: int) -> None:
    session.execute(
        update(FlashSaleQuota)
        .where(FlashSaleQuota.promotion_id == promotion_id, FlashSaleQuota.sold_units >= units)
        .values(sold_units=FlashSaleQuota.sold_units - units)
        .execution_options(synchronize_session=False)
    )


def _ensure_usage_row(session: Session, subject: str, subject_id: int, customer_id: int) -> None:
    values = {"subject": subject, "subject_id": subject_id, "customer_id": customer_id}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(CustomerUsage).values(uses=0, units=0, **values).on_conflict_do_nothing()
    )


def try_use_for_customer(
    session: Session,
    subject: str,
    subject_id: int,
    customer_id: int,
    *,
    uses_limit: int | None,
    units: int = 0,
    units_limit: int | None = None,
) -> bool:
    """One more use (and ``units`` more units) for this customer, within their limits."""
    _ensure_usage_row(session, subject, subject_id, customer_id)
    conditions: list[ColumnElement[bool]] = [
        CustomerUsage.subject == subject,
        CustomerUsage.subject_id == subject_id,
        CustomerUsage.customer_id == customer_id,
    ]
    if uses_limit is not None:
        conditions.append(CustomerUsage.uses < uses_limit)
    if units_limit is not None:
        conditions.append(CustomerUsage.units + units <= units_limit)
    result = session.execute(
        update(CustomerUsage)
        .where(*conditions)
        .values(uses=CustomerUsage.uses + 1, units=CustomerUsage.units + units)
        .execution_options(synchronize_session=False)
    )
    return _changed(result)


def give_back_for_customer(
    session: Session, subject: str, subject_id: int, customer_id: int, units: int = 0
) -> None:
    session.execute(
        update(CustomerUsage)
        .where(
            CustomerUsage.subject == subject,
            CustomerUsage.subject_id == subject_id,
            CustomerUsage.customer_id == customer_id,
            CustomerUsage.uses >= 1,
            CustomerUsage.units >= units,
        )
        .values(uses=CustomerUsage.uses - 1, units=CustomerUsage.units - units)
        .execution_options(synchronize_session=False)
    )


def try_use_coupon(session: Session, coupon_id: int) -> bool:
    result = session.execute(
        update(Coupon)
        .where(
            Coupon.id == coupon_id,
            Coupon.is_active.is_(True),
            or_(Coupon.max_uses.is_(None), Coupon.used < Coupon.max_uses),
        )
        .values(used=Coupon.used + 1, updated_at=Coupon.updated_at)
        .execution_options(synchronize_session=False)
    )
    return _changed(result)


def give_back_coupon(session: Session, coupon_id: int) -> None:
    session.execute(
        update(Coupon)
        .where(Coupon.id == coupon_id, Coupon.used >= 1)
        .values(used=Coupon.used - 1, updated_at=Coupon.updated_at)
        .execution_options(synchronize_session=False)
    )


# --- ledgers --------------------------------------------------------------------------


def has_redemptions(session: Session, order_number: str) -> bool:
    found = session.scalar(
        select(PromotionRedemption.id)
        .where(PromotionRedemption.order_number == order_number)
        .limit(1)
    )
    return found is not None


def redeemed_for(
    session: Session, order_number: str
) -> tuple[Sequence[PromotionRedemption], Sequence[CouponRedemption]]:
    promotions = session.scalars(
        select(PromotionRedemption)
        .where(
            PromotionRedemption.order_number == order_number,
            PromotionRedemption.status == REDEEMED,
        )
        .order_by(PromotionRedemption.promotion_id)
    ).all()
    coupons = session.scalars(
        select(CouponRedemption)
        .where(CouponRedemption.order_number == order_number, CouponRedemption.status == REDEEMED)
        .order_by(CouponRedemption.coupon_id)
    ).all()
    return promotions, coupons


def mark_released(
    session: Session,
    model: type[PromotionRedemption] | type[CouponRedemption],
    row_id: int,
    now: datetime,
) -> bool:
    """Released exactly once, however many times a cancellation is retried."""
    result = session.execute(
        update(model)
        .where(model.id == row_id, model.status == REDEEMED)
        .values(status=RELEASED, released_at=now)
        .execution_options(synchronize_session=False)
    )
    return _changed(result)


def coupon_codes(session: Session, coupon_ids: Collection[int]) -> dict[int, str]:
    if not coupon_ids:
        return {}
    rows = session.execute(select(Coupon.id, Coupon.code).where(Coupon.id.in_(sorted(coupon_ids))))
    return {int(row.id): row.code for row in rows}


# --- performance ----------------------------------------------------------------------


@dataclass(frozen=True)
class RedemptionTotals:
    promotion_id: int
    currency: str
    orders: int
    discount_minor: int
    gmv_minor: int
    units: int


def redemption_totals(session: Session, promotion_ids: Collection[int]) -> list[RedemptionTotals]:
    """Live (not released) redemptions per promotion and currency."""
    if not promotion_ids:
        return []
    rows = session.execute(
        select(
            PromotionRedemption.promotion_id,
            PromotionRedemption.currency,
            func.count(),
            func.coalesce(func.sum(PromotionRedemption.discount_minor), 0),
            func.coalesce(func.sum(PromotionRedemption.order_total_minor), 0),
            func.coalesce(func.sum(PromotionRedemption.units), 0),
        )
        .where(
            PromotionRedemption.promotion_id.in_(sorted(promotion_ids)),
            PromotionRedemption.status == REDEEMED,
        )
        .group_by(PromotionRedemption.promotion_id, PromotionRedemption.currency)
        .order_by(PromotionRedemption.promotion_id, PromotionRedemption.currency)
    )
    return [
        RedemptionTotals(int(p), currency, int(n), int(d), int(g), int(u))
        for p, currency, n, d, g, u in rows
    ]


def counts_by_promotion(
    session: Session,
    model: type[PromotionRedemption] | type[CouponRedemption],
    status: str,
    promotion_ids: Collection[int],
) -> dict[int, int]:
    if not promotion_ids:
        return {}
    rows = session.execute(
        select(model.promotion_id, func.count())
        .where(model.promotion_id.in_(sorted(promotion_ids)), model.status == status)
        .group_by(model.promotion_id)
    )
    return {int(p): int(n) for p, n in rows}

"""What readers get back: plain frozen records built from rows, shared by API and CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shopops.contexts.promotions.models import Coupon, CouponBatch, FlashSaleQuota, Promotion
from shopops.contexts.promotions.rules.base import major


def definition_of(row: Promotion, quota: FlashSaleQuota | None) -> dict[str, Any]:
    """The stored canonical definition (see ``validation.definition_json``)."""
    return {
        "name": row.name,
        "description": row.description,
        "kind": row.kind,
        "currency": row.currency,
        "params": dict(row.params),
        "scope": dict(row.scope),
        "schedule": {
            "starts_at": None if row.starts_at is None else row.starts_at.isoformat(),
            "ends_at": None if row.ends_at is None else row.ends_at.isoformat(),
            "recurring": None if row.recurring is None else dict(row.recurring),
        },
        "conditions": dict(row.conditions),
        "requires_coupon": row.requires_coupon,
        "stacking": {
            "group": row.stacking_group,
            "priority": row.priority,
            "exclusive": row.exclusive,
            "combinable_with": None if row.combinable_with is None else list(row.combinable_with),
        },
        "limits": {
            "max_discount": major(row.max_discount_minor, row.currency),
            "max_redemptions": row.max_redemptions,
            "per_customer": row.per_customer_limit,
            "quota_units": None if quota is None else quota.quota_units,
            "per_customer_units": None if quota is None else quota.per_customer_units,
        },
    }


@dataclass(frozen=True)
class PromotionView:
    id: int
    status: str
    revision: int
    definition: dict[str, Any]
    redemptions_used: int
    discount_used_minor: int
    units_sold: int | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Promotion, quota: FlashSaleQuota | None) -> PromotionView:
        return cls(
            id=row.id,
            status=row.status,
            revision=row.revision,
            definition=definition_of(row, quota),
            redemptions_used=row.redemptions_used,
            discount_used_minor=row.discount_used_minor,
            units_sold=None if quota is None else quota.sold_units,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @property
    def name(self) -> str:
        return str(self.definition["name"])

    @property
    def kind(self) -> str:
        return str(self.definition["kind"])


@dataclass(frozen=True)
class CouponView:
    id: int
    code: str
    promotion_id: int
    batch_id: int | None
    is_active: bool
    starts_at: datetime | None
    ends_at: datetime | None
    max_uses: int | None
    used: int
    per_customer_limit: int | None
    min_spend_minor: int | None
    customer_ids: tuple[int, ...]
    tiers: tuple[str, ...]
    segments: tuple[str, ...]
    created_at: datetime

    @classmethod
    def of(cls, row: Coupon) -> CouponView:
        return cls(
            id=row.id,
            code=row.code,
            promotion_id=row.promotion_id,
            batch_id=row.batch_id,
            is_active=row.is_active,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            max_uses=row.max_uses,
            used=row.used,
            per_customer_limit=row.per_customer_limit,
            min_spend_minor=row.min_spend_minor,
            customer_ids=tuple(int(i) for i in row.customer_ids),
            tiers=tuple(row.tiers),
            segments=tuple(row.segments),
            created_at=row.created_at,
        )


@dataclass(frozen=True)
class BatchView:
    id: int
    promotion_id: int
    name: str
    prefix: str
    size: int
    code_length: int
    created_at: datetime
    codes: tuple[str, ...]

    @classmethod
    def of(cls, row: CouponBatch, codes: tuple[str, ...]) -> BatchView:
        return cls(
            row.id,
            row.promotion_id,
            row.name,
            row.prefix,
            row.size,
            row.code_length,
            row.created_at,
            codes,
        )


@dataclass(frozen=True)
class CurrencyPerformance:
    currency: str
    orders: int
    discount_minor: int
    gmv_minor: int  # order totals (what customers paid) of orders that used the promotion
    units: int


@dataclass(frozen=True)
class PromotionPerformance:
    promotion_id: int
    name: str
    kind: str
    status: str
    redemptions: int  # live: not released
    released: int
    coupon_redemptions: int
    by_currency: tuple[CurrencyPerformance, ...]
    budget_minor: int | None
    budget_used_minor: int
    max_redemptions: int | None
    redemptions_used: int
    quota_units: int | None
    units_sold: int | None

    @property
    def discount_minor(self) -> int:
        return sum(c.discount_minor for c in self.by_currency)

    @property
    def gmv_minor(self) -> int:
        return sum(c.gmv_minor for c in self.by_currency)

"""Promotions, their unit quotas, coupons (single public codes and generated batches),
the redemption ledgers and per-customer usage counters.

Counters change only through conditional UPDATEs in ``repository`` (``... SET
used = used + 1 WHERE used < limit``, checked by row count); the CHECK
constraints below are the last line of defence.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from shopops.db.base import Base, IdMixin, TimestampMixin
from shopops.db.types import BigIntId, JsonDocument

REDEEMED = "redeemed"
RELEASED = "released"


class Promotion(IdMixin, TimestampMixin, Base):
    """One promotion; its definition is stored in the canonical JSON of ``validation``."""

    __tablename__ = "promotions"
    __table_args__ = (
        Index("ix_promotions_status_ends", "status", "ends_at"),
        CheckConstraint("redemptions_used >= 0", name="redemptions_not_negative"),
        CheckConstraint(
            "max_redemptions IS NULL OR redemptions_used <= max_redemptions",
            name="redemptions_within_limit",
        ),
        CheckConstraint("discount_used_minor >= 0", name="discount_used_not_negative"),
        CheckConstraint(
            "max_discount_minor IS NULL OR discount_used_minor <= max_discount_minor",
            name="discount_within_budget",
        ),
    )

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    revision: Mapped[int] = mapped_column(Integer, default=1)  # +1 on every definition change
    # A fresh random token with every definition change: the key of parsed-rule caches
    # (ids and revisions repeat across databases; tokens do not).
    fingerprint: Mapped[str] = mapped_column(String(32))
    currency: Mapped[str | None] = mapped_column(String(3))
    params: Mapped[dict[str, Any]]
    scope: Mapped[dict[str, Any]]
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    recurring: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    conditions: Mapped[dict[str, Any]]
    requires_coupon: Mapped[bool] = mapped_column(Boolean, default=False)
    stacking_group: Mapped[str] = mapped_column(String(40))
    priority: Mapped[int] = mapped_column(Integer, default=100)
    exclusive: Mapped[bool] = mapped_column(Boolean, default=False)
    combinable_with: Mapped[list[Any] | None] = mapped_column(JsonDocument)
    max_discount_minor: Mapped[int | None] = mapped_column(BigInteger)
    discount_used_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    max_redemptions: Mapped[int | None] = mapped_column(BigInteger)
    redemptions_used: Mapped[int] = mapped_column(BigInteger, default=0)
    per_customer_limit: Mapped[int | None] = mapped_column(Integer)


class FlashSaleQuota(Base):
    """Units of a flash sale (or gifts of a gift promotion) sold so far against the quota."""

    __tablename__ = "flash_sale_quotas"
    __table_args__ = (
        CheckConstraint("sold_units >= 0", name="sold_not_negative"),
        CheckConstraint(
            "quota_units IS NULL OR sold_units <= quota_units", name="sold_within_quota"
        ),
    )

    promotion_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("promotions.id"), primary_key=True
    )
    quota_units: Mapped[int | None] = mapped_column(BigInteger)
    sold_units: Mapped[int] = mapped_column(BigInteger, default=0)
    per_customer_units: Mapped[int | None] = mapped_column(Integer)


class CouponBatch(IdMixin, TimestampMixin, Base):
    """Codes generated together for one promotion (each code used once by default)."""

    __tablename__ = "coupon_batches"

    promotion_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("promotions.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(12), default="")
    size: Mapped[int] = mapped_column(Integer)
    code_length: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(120))


class Coupon(IdMixin, TimestampMixin, Base):
    __tablename__ = "coupons"
    __table_args__ = (
        CheckConstraint("used >= 0", name="used_not_negative"),
        CheckConstraint("max_uses IS NULL OR used <= max_uses", name="used_within_limit"),
    )

    code: Mapped[str] = mapped_column(String(40), unique=True)
    promotion_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("promotions.id"), index=True)
    batch_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("coupon_batches.id"), index=True
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    max_uses: Mapped[int | None] = mapped_column(BigInteger)
    used: Mapped[int] = mapped_column(BigInteger, default=0)
    per_customer_limit: Mapped[int | None] = mapped_column(Integer)
    min_spend_minor: Mapped[int | None] = mapped_column(BigInteger)
    customer_ids: Mapped[list[Any]] = mapped_column(JsonDocument, default=list)
    tiers: Mapped[list[str]] = mapped_column(default=list)
    segments: Mapped[list[str]] = mapped_column(default=list)


class PromotionRedemption(IdMixin, Base):
    """The ledger: one row per promotion applied to an order, released on cancellation."""

    __tablename__ = "promotion_redemptions"
    __table_args__ = (
        UniqueConstraint("promotion_id", "order_number"),
        Index("ix_promotion_redemptions_promotion_status", "promotion_id", "status"),
    )

    promotion_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("promotions.id"))
    order_number: Mapped[str] = mapped_column(String(32), index=True)
    customer_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("customers.id"))
    coupon_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("coupons.id"))
    currency: Mapped[str] = mapped_column(String(3))
    discount_minor: Mapped[int] = mapped_column(BigInteger)
    units: Mapped[int] = mapped_column(BigInteger, default=0)
    order_total_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default=REDEEMED)
    redeemed_at: Mapped[datetime]
    released_at: Mapped[datetime | None]


class CouponRedemption(IdMixin, Base):
    """The coupon ledger: which code paid towards which order, and when it was given back."""

    __tablename__ = "coupon_redemptions"
    __table_args__ = (UniqueConstraint("coupon_id", "order_number"),)

    coupon_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("coupons.id"), index=True)
    promotion_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("promotions.id"))
    order_number: Mapped[str] = mapped_column(String(32), index=True)
    customer_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("customers.id"))
    status: Mapped[str] = mapped_column(String(16), default=REDEEMED)
    redeemed_at: Mapped[datetime]
    released_at: Mapped[datetime | None]


class CustomerUsage(Base):
    """Per-customer counters: orders per promotion or coupon, and flash/gift units."""

    __tablename__ = "promotion_customer_usage"
    __table_args__ = (
        CheckConstraint("uses >= 0", name="uses_not_negative"),
        CheckConstraint("units >= 0", name="units_not_negative"),
    )

    subject: Mapped[str] = mapped_column(String(16), primary_key=True)  # promotion | coupon
    subject_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("customers.id"), primary_key=True)
    uses: Mapped[int] = mapped_column(BigInteger, default=0)
    units: Mapped[int] = mapped_column(BigInteger, default=0)

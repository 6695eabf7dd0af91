"""Loyalty program settings, tiers, bonus campaigns, points accounts and the points ledger.

The ledger is append-only: rows are never updated or deleted, with one exception,
``remaining`` on positive rows ("lots"), which counts the points of that lot not yet
redeemed, expired or reversed. Every negative row names the lot it drew from
(``lot_id``), so for each lot ``points - remaining`` equals the sum of the rows that
drew from it, and an account's ``balance`` equals both the sum of its ledger and the
sum of its lots' ``remaining``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from shopops.db.base import Base, IdMixin, TimestampMixin
from shopops.db.types import BigIntId
from shopops.kernel.time import utc_now

PROGRAM_ID = 1  # the program is a single settings row


class CreditOn(StrEnum):
    """When an order's points are credited."""

    PAID = "paid"
    DELIVERED = "delivered"


class EntryKind(StrEnum):
    EARN = "earn"
    REDEEM = "redeem"
    EXPIRE = "expire"
    REVERSE = "reverse"
    ADJUST = "adjust"


class LoyaltyProgram(TimestampMixin, Base):
    """Earning and redemption settings. Missing row: the defaults below apply."""

    __tablename__ = "loyalty_programs"
    __table_args__ = (
        CheckConstraint("points_per_unit >= 0", name="points_per_unit_not_negative"),
        CheckConstraint("unit_size >= 1", name="unit_size_positive"),
        CheckConstraint(
            "redemption_cap_percent BETWEEN 0 AND 100", name="redemption_cap_percent_range"
        ),
        CheckConstraint("point_value_minor >= 1", name="point_value_positive"),
        CheckConstraint("expiry_months >= 0", name="expiry_months_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    # Earn ``points_per_unit`` points for every ``unit_size`` whole currency units spent.
    points_per_unit: Mapped[int] = mapped_column(Integer, default=1)
    unit_size: Mapped[int] = mapped_column(Integer, default=1)
    credit_on: Mapped[str] = mapped_column(String(16), default=CreditOn.PAID)
    redemption_cap_percent: Mapped[int] = mapped_column(Integer, default=50)
    point_value_minor: Mapped[int] = mapped_column(Integer, default=1)
    expiry_months: Mapped[int] = mapped_column(Integer, default=12)  # 0: points never expire


class TierDefinition(IdMixin, TimestampMixin, Base):
    """A membership tier reached with ``min_spend_minor`` over the rolling 12 months."""

    __tablename__ = "loyalty_tiers"
    __table_args__ = (
        CheckConstraint("min_spend_minor >= 0", name="min_spend_not_negative"),
        CheckConstraint("discount_percent BETWEEN 0 AND 100", name="discount_percent_range"),
        CheckConstraint("points_multiplier_percent >= 100", name="multiplier_at_least_one"),
    )

    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    min_spend_minor: Mapped[int] = mapped_column(BigInteger)
    discount_percent: Mapped[int] = mapped_column(Integer, default=0)
    free_shipping: Mapped[bool] = mapped_column(Boolean, default=False)
    points_multiplier_percent: Mapped[int] = mapped_column(Integer, default=100)  # 150 = x1.5


class BonusCampaign(IdMixin, TimestampMixin, Base):
    """Points earned while ``starts_at <= moment < ends_at`` are multiplied."""

    __tablename__ = "loyalty_campaigns"
    __table_args__ = (
        Index("ix_loyalty_campaigns_window", "is_active", "starts_at", "ends_at"),
        CheckConstraint("multiplier_percent > 100", name="multiplier_above_one"),
        CheckConstraint("starts_at < ends_at", name="window_ordered"),
    )

    name: Mapped[str] = mapped_column(String(200))
    multiplier_percent: Mapped[int] = mapped_column(Integer)  # 200 = double points
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class PointsAccount(IdMixin, TimestampMixin, Base):
    """One per customer. ``balance`` changes only through conditional UPDATEs."""

    __tablename__ = "loyalty_accounts"
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_not_negative"),)

    customer_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("customers.id"), unique=True)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    # The tier this context assigned (mirrored to customers.tier), and the spend behind it.
    tier_code: Mapped[str | None] = mapped_column(String(30), index=True)
    tier_since: Mapped[datetime | None]
    spend_12m_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    tier_evaluated_at: Mapped[datetime | None]


class PointsEntry(IdMixin, Base):
    """One ledger row: a lot (positive points) or a draw on one lot (negative points)."""

    __tablename__ = "loyalty_ledger"
    __table_args__ = (
        Index("ix_loyalty_ledger_account", "account_id", "id"),
        Index("ix_loyalty_ledger_open_lots", "account_id", "remaining"),
        Index("ix_loyalty_ledger_expiry", "expires_at", "remaining"),
        Index("ix_loyalty_ledger_order_reference", "order_reference"),
        Index("ix_loyalty_ledger_source", "source"),
        CheckConstraint("points <> 0", name="points_not_zero"),
        CheckConstraint(
            "(points > 0 AND remaining BETWEEN 0 AND points AND lot_id IS NULL)"
            " OR (points < 0 AND remaining IS NULL AND lot_id IS NOT NULL)",
            name="lot_shape",
        ),
    )

    account_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("loyalty_accounts.id"))
    kind: Mapped[str] = mapped_column(String(16))
    points: Mapped[int] = mapped_column(BigInteger)  # signed change of the balance
    lot_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("loyalty_ledger.id"))
    remaining: Mapped[int | None] = mapped_column(BigInteger)
    order_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    order_reference: Mapped[str | None] = mapped_column(String(100))
    # What produced the row (idempotency and provenance): "order:12", "refund:7", ...
    source: Mapped[str | None] = mapped_column(String(60))
    reason: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]]
    actor: Mapped[str] = mapped_column(String(120))
    occurred_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime | None]

    @property
    def is_lot(self) -> bool:
        return self.points > 0


class OrderCredit(IdMixin, TimestampMixin, Base):
    """What one order earned, and how much of it refunds and a cancellation took back.

    ``basis_minor`` is the spend the points were computed on and
    ``refunded_at_credit_minor`` what the order had refunded by then; later refunds
    reverse ``earned_points * refunded_since / basis`` in total. ``reversed_points``
    counts what was taken back, including ``forgiven_points`` the customer had
    already spent (the balance never goes negative).
    """

    __tablename__ = "loyalty_order_credits"
    __table_args__ = (
        CheckConstraint(
            "reversed_points BETWEEN 0 AND earned_points", name="reversed_within_earned"
        ),
        CheckConstraint("forgiven_points BETWEEN 0 AND reversed_points", name="forgiven_range"),
    )

    order_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    account_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("loyalty_accounts.id"), index=True)
    lot_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("loyalty_ledger.id"))
    currency: Mapped[str] = mapped_column(String(3))
    basis_minor: Mapped[int] = mapped_column(BigInteger)
    refunded_at_credit_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    earned_points: Mapped[int] = mapped_column(BigInteger)
    reversed_points: Mapped[int] = mapped_column(BigInteger, default=0)
    forgiven_points: Mapped[int] = mapped_column(BigInteger, default=0)

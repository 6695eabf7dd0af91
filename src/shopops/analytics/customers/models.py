"""Persisted customer analytics: segment definitions, their members, fitted CLV models.

Segments link to customers by id (a foreign key, no ORM relationship across
areas). Promotions and coupons target a segment through
``analytics_segment_members`` by segment id; members change only when the
segment is refreshed (by the scheduled job or on request).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shopops.db.base import Base, IdMixin, TimestampMixin
from shopops.db.types import BigIntId


class SegmentDefinition(IdMixin, TimestampMixin, Base):
    __tablename__ = "analytics_segments"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    rule: Mapped[dict[str, Any]]
    refreshed_at: Mapped[datetime | None]
    member_count: Mapped[int] = mapped_column(BigInteger, default=0)


class SegmentMember(Base):
    __tablename__ = "analytics_segment_members"
    __table_args__ = (Index("ix_analytics_segment_members_customer", "customer_id"),)

    segment_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("analytics_segments.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )


class ClvModel(IdMixin, Base):
    """One fit of a purchase model with the Gamma-Gamma spend model, and how it went."""

    __tablename__ = "analytics_clv_models"
    __table_args__ = (Index("ix_analytics_clv_models_currency_fitted", "currency", "fitted_at"),)

    purchase_model: Mapped[str] = mapped_column(String(20))  # "bgnbd" | "paretonbd"
    currency: Mapped[str] = mapped_column(String(3))
    unit_days: Mapped[float] = mapped_column(Float)
    calibration_end: Mapped[datetime]
    purchase_params: Mapped[dict[str, Any]]
    spend_params: Mapped[dict[str, Any]]
    diagnostics: Mapped[dict[str, Any]]
    customers: Mapped[int] = mapped_column(Integer)
    fitted_at: Mapped[datetime]
    fitted_by: Mapped[str] = mapped_column(String(120))

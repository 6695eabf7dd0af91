"""Warehouses, stock levels, the append-only movement ledger and reservations."""

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
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from shopops.db.base import Base, IdMixin, TimestampMixin
from shopops.db.types import BigIntId
from shopops.kernel.time import utc_now


class MovementKind(StrEnum):
    RECEIPT = "receipt"
    SALE = "sale"
    RETURN = "return"
    ADJUSTMENT = "adjustment"
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"
    COUNT_CORRECTION = "count_correction"
    WRITE_OFF = "write_off"


class ReservationStatus(StrEnum):
    ACTIVE = "active"
    CONSUMED = "consumed"
    RELEASED = "released"


class Warehouse(IdMixin, TimestampMixin, Base):
    __tablename__ = "warehouses"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(32), index=True)
    priority: Mapped[int] = mapped_column(default=100)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class StockLevel(IdMixin, Base):
    """One SKU in one warehouse. available = on_hand - reserved, never negative."""

    __tablename__ = "stock_levels"
    __table_args__ = (
        UniqueConstraint("sku", "warehouse_id"),
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
    )

    sku: Mapped[str] = mapped_column(String(64), ForeignKey("variants.sku"), index=True)
    warehouse_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("warehouses.id"), index=True)
    on_hand: Mapped[int] = mapped_column(BigInteger, default=0)
    reserved: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockThreshold(Base):
    """Per-SKU alert level: StockLow fires when total available falls to it."""

    __tablename__ = "stock_thresholds"

    sku: Mapped[str] = mapped_column(String(64), ForeignKey("variants.sku"), primary_key=True)
    low_stock_threshold: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class StockMovement(IdMixin, Base):
    """Append-only: on_hand of a stock level always equals the sum of its movements."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        Index("ix_stock_movements_sku_warehouse", "sku", "warehouse_id", "id"),
        Index("ix_stock_movements_reference", "reference"),
    )

    sku: Mapped[str] = mapped_column(String(64), ForeignKey("variants.sku"))
    warehouse_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("warehouses.id"))
    kind: Mapped[str] = mapped_column(String(24), index=True)
    quantity: Mapped[int] = mapped_column(BigInteger)  # signed change of on_hand
    reason: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str | None] = mapped_column(String(100))
    actor: Mapped[str] = mapped_column(String(120))
    occurred_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)


class Reservation(IdMixin, Base):
    """Stock held for an unpaid order (or a hold) until consumed, released or expired."""

    __tablename__ = "reservations"
    __table_args__ = (
        Index("ix_reservations_expiry", "status", "expires_at"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    reference: Mapped[str] = mapped_column(String(100), index=True)  # e.g. order number
    sku: Mapped[str] = mapped_column(String(64), ForeignKey("variants.sku"))
    warehouse_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("warehouses.id"))
    quantity: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default=ReservationStatus.ACTIVE)
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    closed_at: Mapped[datetime | None]


class StockTransfer(IdMixin, TimestampMixin, Base):
    __tablename__ = "stock_transfers"

    from_warehouse_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("warehouses.id"))
    to_warehouse_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("warehouses.id"))
    lines: Mapped[list[dict[str, Any]]]
    reason: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(120))


class CycleCount(IdMixin, TimestampMixin, Base):
    __tablename__ = "cycle_counts"

    warehouse_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("warehouses.id"))
    lines: Mapped[list[dict[str, Any]]]  # sku, expected, counted, difference
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(120))

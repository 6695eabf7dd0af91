"""Shipments (one parcel from one warehouse), their lines, and carrier tracking scans."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shopops.db.base import Base, IdMixin, TimestampMixin
from shopops.db.types import BigIntId
from shopops.kernel.time import utc_now


class Shipment(IdMixin, TimestampMixin, Base):
    __tablename__ = "shipments"
    __table_args__ = (
        UniqueConstraint("carrier", "tracking_number"),
        Index("ix_shipments_status_polled", "status", "last_polled_at"),
        Index("ix_shipments_warehouse", "warehouse_id", "id"),
        Index("ix_shipments_updated_at", "updated_at"),  # the analytics refresh's watermark
    )

    order_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("orders.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("warehouses.id"))
    carrier: Mapped[str] = mapped_column(String(32))
    tracking_number: Mapped[str] = mapped_column(String(64))
    label_reference: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(24))
    status_at: Mapped[datetime]  # when the scan that set ``status`` happened
    shipped_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    ship_by: Mapped[datetime | None]  # promised dates, copied from the order
    deliver_by: Mapped[datetime | None]
    last_polled_at: Mapped[datetime | None]

    lines: Mapped[list[ShipmentLine]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ShipmentLine.id"
    )


class ShipmentLine(IdMixin, Base):
    __tablename__ = "shipment_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    shipment_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("shipments.id", ondelete="CASCADE"), index=True
    )
    order_line_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("order_lines.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64), ForeignKey("variants.sku"))
    quantity: Mapped[int] = mapped_column(BigInteger)


class TrackingEvent(IdMixin, Base):
    """One carrier scan (or a staff entry); a repeated scan is stored once."""

    __tablename__ = "tracking_events"
    __table_args__ = (UniqueConstraint("shipment_id", "status", "occurred_at"),)

    shipment_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("shipments.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(24))
    location: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(500), default="")
    source: Mapped[str] = mapped_column(String(16))  # manual | carrier | poll
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utc_now)
    actor: Mapped[str] = mapped_column(String(120))

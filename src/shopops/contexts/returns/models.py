"""Return requests (RMA) and their lines."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shopops.db.base import Base, IdMixin, TimestampMixin
from shopops.db.types import BigIntId
from shopops.kernel.time import utc_now


class ReturnStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    RECEIVED = "received"
    REFUNDED = "refunded"


class ReturnReason(StrEnum):
    DAMAGED = "damaged"
    WRONG_ITEM = "wrong_item"
    NOT_AS_DESCRIBED = "not_as_described"
    SIZE_FIT = "size_fit"
    CHANGED_MIND = "changed_mind"
    OTHER = "other"


class Disposition(StrEnum):
    RESTOCK = "restock"
    WRITE_OFF = "write_off"


class ReturnRequest(IdMixin, TimestampMixin, Base):
    __tablename__ = "return_requests"
    __table_args__ = (
        Index("ix_return_requests_status_requested", "status", "requested_at"),
        Index("ix_return_requests_updated_at", "updated_at"),  # the analytics refresh's watermark
    )

    order_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("orders.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=ReturnStatus.REQUESTED)
    # Refund-only: the customer keeps the goods (or they are not worth shipping back).
    refund_only: Mapped[bool] = mapped_column(Boolean, default=False)
    currency: Mapped[str] = mapped_column(String(3))  # the order's
    note: Mapped[str | None] = mapped_column(Text)
    decision_note: Mapped[str | None] = mapped_column(Text)
    refund_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("refunds.id"))
    refund_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    requested_by: Mapped[str] = mapped_column(String(120))
    requested_at: Mapped[datetime] = mapped_column(default=utc_now)
    decided_at: Mapped[datetime | None]
    received_at: Mapped[datetime | None]
    refunded_at: Mapped[datetime | None]


class ReturnLine(IdMixin, Base):
    __tablename__ = "return_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    return_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("return_requests.id", ondelete="CASCADE"), index=True
    )
    order_line_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("order_lines.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text)
    disposition: Mapped[str | None] = mapped_column(String(16))
    warehouse_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("warehouses.id"))
    refund_minor: Mapped[int] = mapped_column(BigInteger, default=0)

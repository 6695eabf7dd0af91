"""Payments, refunds and the gateway's notifications.

A payment's refund counters (``refund_pending_minor``, ``refunded_minor``)
only change through conditional UPDATEs, and a check constraint keeps their sum
within ``captured_minor`` even if a bug tried otherwise.
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
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from shopops.db.base import Base, IdMixin, TimestampMixin
from shopops.db.types import BigIntId
from shopops.kernel.time import utc_now


class PaymentStatus(StrEnum):
    PENDING = "pending"
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    VOIDED = "voided"
    FAILED = "failed"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


OPEN_PAYMENT = (PaymentStatus.PENDING, PaymentStatus.AUTHORIZED)
REFUNDABLE_PAYMENT = (PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED)
CAPTURED_PAYMENT = (*REFUNDABLE_PAYMENT, PaymentStatus.REFUNDED)


class RefundStatus(StrEnum):
    REQUESTED = "requested"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Payment(IdMixin, TimestampMixin, Base):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint(
            "refunded_minor >= 0 AND refund_pending_minor >= 0", name="refunds_not_negative"
        ),
        CheckConstraint(
            "refunded_minor + refund_pending_minor <= captured_minor",
            name="refunds_within_captured",
        ),
        UniqueConstraint("gateway", "gateway_reference"),
        Index("ix_payments_captured_at", "captured_at"),
        Index("ix_payments_updated_at", "updated_at"),  # the analytics refresh's watermark
    )

    order_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("orders.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(24), default=PaymentStatus.PENDING, index=True)
    method: Mapped[str] = mapped_column(String(32))
    gateway: Mapped[str] = mapped_column(String(32))
    gateway_reference: Mapped[str | None] = mapped_column(String(100))
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    captured_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refund_pending_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(120))
    authorized_at: Mapped[datetime | None]
    captured_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    voided_at: Mapped[datetime | None]

    @property
    def refundable_minor(self) -> int:
        return self.captured_minor - self.refunded_minor - self.refund_pending_minor

    @property
    def merchant_reference(self) -> str:
        return f"payment:{self.id}"


class Refund(IdMixin, TimestampMixin, Base):
    """Money back on a payment, split across order lines (``lines``).

    ``return_id`` points at a return request of the returns context; it has no
    foreign key because payments sits below returns and must not know its tables.
    """

    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        Index("ix_refunds_status_requested", "status", "requested_at"),
        Index("ix_refunds_completed_at", "completed_at"),
        Index("ix_refunds_updated_at", "updated_at"),  # the analytics refresh's watermark
    )

    payment_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("payments.id"), index=True)
    order_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("orders.id"), index=True)
    return_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    lines: Mapped[list[dict[str, Any]]]  # [{"order_line_id": 1, "amount_minor": 500}, ...]
    # The part of ``amount_minor`` that returns the shipping fee (amount = lines + this).
    shipping_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=RefundStatus.REQUESTED)
    gateway_reference: Mapped[str | None] = mapped_column(String(100))
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    actor: Mapped[str] = mapped_column(String(120))
    requested_at: Mapped[datetime] = mapped_column(default=utc_now)
    completed_at: Mapped[datetime | None]

    @property
    def merchant_reference(self) -> str:
        return f"refund:{self.id}"


class PaymentNotification(IdMixin, Base):
    """A verified gateway notification, stored once per (gateway, event id).

    Only notifications whose signature verified are stored (``signature_valid``
    is recorded for the reader of the table): a forged one is refused without a
    write, so nobody can fill the table or claim a real event id in advance.
    """

    __tablename__ = "payment_notifications"
    __table_args__ = (UniqueConstraint("gateway", "event_id"),)

    gateway: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(100))
    event_type: Mapped[str] = mapped_column(String(50))
    payload: Mapped[dict[str, Any]]
    signature_valid: Mapped[bool] = mapped_column(Boolean)
    outcome: Mapped[str | None] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(default=utc_now)
    processed_at: Mapped[datetime | None]

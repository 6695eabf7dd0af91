"""Transactional outbox tables.

An event row is written in the same transaction as the state it describes,
together with one delivery row per subscribed handler. Deliveries are claimed
with a lease, processed, and marked done in the handler's own transaction, so
a (handler, event) pair takes effect at most once.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shopops.db.base import Base, IdMixin
from shopops.db.types import BigIntId
from shopops.kernel.time import utc_now


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"


class OutboxEvent(IdMixin, Base):
    __tablename__ = "outbox_events"

    event_type: Mapped[str] = mapped_column(String(100), index=True)
    aggregate_type: Mapped[str] = mapped_column(String(50))
    aggregate_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    actor: Mapped[str] = mapped_column(String(120))
    request_id: Mapped[str | None] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)


class OutboxDelivery(IdMixin, Base):
    __tablename__ = "outbox_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "handler"),
        Index("ix_outbox_deliveries_ready", "status", "next_attempt_at"),
    )

    event_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("outbox_events.id", ondelete="CASCADE")
    )
    handler: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utc_now)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

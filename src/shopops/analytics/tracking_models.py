"""Behaviour events (Segment e-commerce spec v2) as they arrive: raw rows in the operational DB.

One row per accepted event, unique by ``message_id``; the products an event lists
(``Order Completed``, ``Product List Viewed``, ...) are exploded into
``tracked_event_products`` so that funnels and product performance need no JSON
functions on any engine. Rows are append-only; the analytics store copies them by id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from shopops.db.base import Base, IdMixin
from shopops.db.types import BigIntId
from shopops.kernel.time import utc_now


class TrackedEvent(IdMixin, Base):
    __tablename__ = "tracked_events"
    __table_args__ = (
        Index("ix_tracked_events_visitor", "anonymous_id", "occurred_at"),
        Index("ix_tracked_events_occurred", "occurred_at"),
    )

    message_id: Mapped[str] = mapped_column(String(100), unique=True)
    event: Mapped[str] = mapped_column(String(64))
    anonymous_id: Mapped[str | None] = mapped_column(String(100))
    user_id: Mapped[str | None] = mapped_column(String(100))
    # "web" unless the event says otherwise (context.channel, or "app" for context.app).
    channel: Mapped[str] = mapped_column(String(32))
    product_id: Mapped[str | None] = mapped_column(String(100))
    sku: Mapped[str | None] = mapped_column(String(64))
    order_id: Mapped[str | None] = mapped_column(String(100))
    revenue_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    properties: Mapped[dict[str, Any]]
    context: Mapped[dict[str, Any]]
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utc_now)


class TrackedEventProduct(IdMixin, Base):
    """One product of an event: the event's own product, or one entry of its ``products``."""

    __tablename__ = "tracked_event_products"

    event_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("tracked_events.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    product_id: Mapped[str | None] = mapped_column(String(100))
    sku: Mapped[str | None] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(BigInteger, default=1)
    price_minor: Mapped[int | None] = mapped_column(BigInteger)

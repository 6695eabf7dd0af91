"""Orders, their lines and their timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from shopops.db.base import Base, IdMixin, TimestampMixin
from shopops.db.types import BigIntId
from shopops.kernel.time import utc_now


class Order(IdMixin, TimestampMixin, Base):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_status_placed", "status", "placed_at"),
        Index("ix_orders_customer_placed", "customer_id", "placed_at"),
        Index("ix_orders_placed_at", "placed_at"),
        Index("ix_orders_total", "total_minor"),
        Index("ix_orders_payment_due", "status", "payment_due_at"),
        Index("ix_orders_updated_at", "updated_at"),  # the analytics refresh's watermark
        # Partial: placement inserts NULLs and never touches them (the settlement reads them).
        *(
            Index(
                f"ix_orders_{column}",
                column,
                postgresql_where=text(f"{column} IS NOT NULL"),
                sqlite_where=text(f"{column} IS NOT NULL"),
            )
            for column in ("paid_at", "cancelled_at", "closed_at")
        ),
    )

    number: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(24))
    payment_status: Mapped[str] = mapped_column(String(24), default="unpaid")
    channel: Mapped[str] = mapped_column(String(32), index=True)
    customer_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("customers.id"))
    # Guest contact and address lines are personal data: encrypted like customers'.
    guest_email_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    guest_email_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    guest_phone_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    guest_name_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    ship_recipient_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    ship_line1_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    ship_line2_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    ship_phone_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    ship_city: Mapped[str] = mapped_column(String(100))
    ship_region: Mapped[str | None] = mapped_column(String(100))
    ship_postal_code: Mapped[str | None] = mapped_column(String(20))
    ship_country: Mapped[str] = mapped_column(String(2))

    currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int] = mapped_column(BigInteger)
    discount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    shipping_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    captured_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    # Of ``refunded_minor``, what gave the shipping fee back (the rest is on the lines).
    shipping_refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    pricing: Mapped[dict[str, Any]]  # the full price breakdown at placement

    # Orders placed through an offer of a context above orders (group buy, presale): the
    # offer's reference, a deposit due first and a balance due in a window, what a
    # missed balance forfeited, and a hold that keeps the order from shipping.
    offer_reference: Mapped[str | None] = mapped_column(String(40), index=True)
    deposit_minor: Mapped[int | None] = mapped_column(BigInteger)
    balance_from: Mapped[datetime | None]
    balance_due_at: Mapped[datetime | None]
    forfeited_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    fulfilment_hold: Mapped[str | None] = mapped_column(String(40))

    allow_split: Mapped[bool] = mapped_column(Boolean, default=True)
    risk_flags: Mapped[list[str]]
    value_band: Mapped[str] = mapped_column(String(16))

    placed_at: Mapped[datetime] = mapped_column(default=utc_now)
    payment_due_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    ship_by: Mapped[datetime | None]
    deliver_by: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class OrderLine(IdMixin, Base):
    __tablename__ = "order_lines"
    __table_args__ = (Index("ix_order_lines_sku_order", "sku", "order_id"),)

    order_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    line_number: Mapped[int]
    sku: Mapped[str] = mapped_column(String(64), ForeignKey("variants.sku"))
    product_name: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(BigInteger)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    unit_cost_minor: Mapped[int | None] = mapped_column(BigInteger)
    discount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    shipped_quantity: Mapped[int] = mapped_column(BigInteger, default=0)
    returned_quantity: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)


class OrderEvent(IdMixin, Base):
    """The order's timeline: every transition, note, tag, payment and shipment step."""

    __tablename__ = "order_events"

    order_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]]
    occurred_at: Mapped[datetime] = mapped_column(default=utc_now)


class OrderTag(Base):
    """Free-form labels staff put on orders; a table so tag filters use an index."""

    __tablename__ = "order_tags"
    __table_args__ = (Index("ix_order_tags_tag", "tag", "order_id"),)

    order_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(50), primary_key=True)

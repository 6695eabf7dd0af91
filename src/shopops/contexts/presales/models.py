"""Presale offers: a SKU sold for a deposit now and the balance later."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from shopops.db.base import Base, IdMixin, TimestampMixin


class PresaleOffer(IdMixin, TimestampMixin, Base):
    """Per unit: pay ``deposit_minor`` in the deposit window; it counts as
    ``deposit_worth_minor`` against ``price_minor``, so the balance is price - worth,
    paid in the balance window."""

    __tablename__ = "presale_offers"
    __table_args__ = (
        CheckConstraint("deposit_minor > 0", name="deposit_positive"),
        CheckConstraint("deposit_worth_minor >= deposit_minor", name="worth_covers_deposit"),
        CheckConstraint("deposit_worth_minor < price_minor", name="balance_positive"),
        CheckConstraint("deposit_ends_at <= balance_starts_at", name="windows_in_order"),
    )

    name: Mapped[str] = mapped_column(String(200))
    sku: Mapped[str] = mapped_column(String(64), ForeignKey("variants.sku"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    price_minor: Mapped[int] = mapped_column(BigInteger)
    deposit_minor: Mapped[int] = mapped_column(BigInteger)
    deposit_worth_minor: Mapped[int] = mapped_column(BigInteger)
    deposit_starts_at: Mapped[datetime]
    deposit_ends_at: Mapped[datetime]
    balance_starts_at: Mapped[datetime]
    balance_ends_at: Mapped[datetime]
    max_quantity: Mapped[int] = mapped_column(default=1)  # units per order
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | ended

"""Shipping methods and their rate table: a fee per destination, in the store currency."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shopops.db.base import Base, IdMixin, TimestampMixin
from shopops.db.types import BigIntId


class ShippingMethod(IdMixin, TimestampMixin, Base):
    """A way to ship an order (``standard``, ``express``) that checkouts may choose."""

    __tablename__ = "shipping_methods"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(default=0)  # the first active one is the default


class ShippingRate(IdMixin, TimestampMixin, Base):
    """The fee of one method to one destination: a country (``*``: anywhere) and, when
    ``region`` is not empty, one region of it. ``free_over_minor``: no fee once the
    items come to at least this much (see ``rules.fee_for``)."""

    __tablename__ = "shipping_rates"
    __table_args__ = (
        UniqueConstraint("method_id", "country", "region", "currency"),
        CheckConstraint("fee_minor >= 0", name="fee_not_negative"),
        CheckConstraint(
            "free_over_minor IS NULL OR free_over_minor > 0", name="free_over_positive"
        ),
        CheckConstraint("country <> '*' OR region = ''", name="region_needs_country"),
    )

    method_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("shipping_methods.id", ondelete="CASCADE"), index=True
    )
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2, or "*"
    region: Mapped[str] = mapped_column(String(100), default="", server_default="")  # "": all
    currency: Mapped[str] = mapped_column(String(3))
    fee_minor: Mapped[int] = mapped_column(BigInteger)
    free_over_minor: Mapped[int | None] = mapped_column(BigInteger)

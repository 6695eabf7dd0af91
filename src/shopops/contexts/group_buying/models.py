"""Group-buy offers, the groups buyers open under them, and each group's members.

A member is one customer's order in one group; the group counts its active members
in ``joined``, moved only by conditional UPDATEs so that it never passes ``size``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from shopops.db.base import Base, IdMixin, TimestampMixin
from shopops.db.types import BigIntId


class GroupBuyOffer(IdMixin, TimestampMixin, Base):
    __tablename__ = "group_buy_offers"
    __table_args__ = (
        CheckConstraint("group_size >= 2", name="size_at_least_two"),
        CheckConstraint(
            "max_groups IS NULL OR groups_opened <= max_groups", name="groups_within_max"
        ),
    )

    name: Mapped[str] = mapped_column(String(200))
    sku: Mapped[str] = mapped_column(String(64), ForeignKey("variants.sku"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    list_price_minor: Mapped[int] = mapped_column(BigInteger)  # the variant's price at creation
    group_price_minor: Mapped[int] = mapped_column(BigInteger)
    group_size: Mapped[int]
    duration_minutes: Mapped[int]  # how long a group stays open after it is opened
    starts_at: Mapped[datetime]  # groups may be opened in [starts_at, ends_at)
    ends_at: Mapped[datetime]
    max_groups: Mapped[int | None]
    groups_opened: Mapped[int] = mapped_column(default=0)
    max_quantity: Mapped[int] = mapped_column(default=1)  # units per member
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | ended


class BuyingGroup(IdMixin, Base):
    __tablename__ = "buying_groups"
    __table_args__ = (
        CheckConstraint("joined >= 0 AND joined <= size", name="joined_within_size"),
        Index("ix_buying_groups_status_expires", "status", "expires_at"),
    )

    offer_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("group_buy_offers.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # open | succeeded | failed
    size: Mapped[int]
    joined: Mapped[int]  # active members (joined or paid)
    opened_by: Mapped[int] = mapped_column(BigIntId, ForeignKey("customers.id"))
    opened_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class GroupMember(IdMixin, Base):
    __tablename__ = "buying_group_members"
    __table_args__ = (Index("ix_buying_group_members_group_customer", "group_id", "customer_id"),)

    group_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("buying_groups.id"), index=True)
    customer_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("customers.id"))
    order_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("orders.id"), unique=True)
    order_number: Mapped[str] = mapped_column(String(32))
    quantity: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))  # joined | paid | left | cancelled
    joined_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    left_at: Mapped[datetime | None]

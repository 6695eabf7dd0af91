"""Every query of the group-buying context, including its conditional updates.

``groups_opened`` and ``joined`` move only through ``UPDATE ... WHERE`` checked by
row count, which also locks the row until commit: concurrent buyers queue on the
group and never pass its size or the offer's number of groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    String,
    and_,
    column,
    func,
    select,
    table,
    update,
)
from sqlalchemy.orm import Session

from shopops.contexts import orders
from shopops.contexts.group_buying.models import BuyingGroup, GroupBuyOffer, GroupMember
from shopops.contexts.group_buying.rules import (
    ACTIVE_MEMBERS,
    GroupBuyFigures,
    GroupStatus,
    MemberStatus,
    discount_cost,
)

# Read-only views of the catalogue (never written here).
_variants = table(
    "variants",
    column("sku", String),
    column("product_id", Integer),
    column("price_minor", Integer),
    column("currency", String),
    column("is_active", Boolean),
)
_products = table("products", column("id", Integer), column("status", String))


@dataclass(frozen=True)
class VariantFacts:
    sku: str
    price_minor: int
    currency: str
    sellable: bool


def variant(session: Session, sku: str) -> VariantFacts | None:
    row = session.execute(
        select(
            _variants.c.sku,
            _variants.c.price_minor,
            _variants.c.currency,
            _variants.c.is_active,
            _products.c.status,
        )
        .join(_products, _products.c.id == _variants.c.product_id)
        .where(_variants.c.sku == sku)
    ).first()
    if row is None:
        return None
    return VariantFacts(row[0], int(row[1]), row[2], bool(row[3]) and row[4] == "active")


# ---- offers ----


def get_offer(session: Session, offer_id: int) -> GroupBuyOffer | None:
    return session.get(GroupBuyOffer, offer_id)


def list_offers(
    session: Session, *, status: str | None, after_id: int | None, limit: int
) -> Sequence[GroupBuyOffer]:
    stmt = select(GroupBuyOffer).order_by(GroupBuyOffer.id).limit(limit)
    if status is not None:
        stmt = stmt.where(GroupBuyOffer.status == status)
    if after_id is not None:
        stmt = stmt.where(GroupBuyOffer.id > after_id)
    return session.scalars(stmt).all()


def try_open_group(session: Session, offer_id: int, now: datetime) -> bool:
    """Count one more group on a running offer, within ``max_groups``."""
    result = session.execute(
        update(GroupBuyOffer)
        .where(
            GroupBuyOffer.id == offer_id,
            GroupBuyOffer.status == "active",
            GroupBuyOffer.starts_at <= now,
            GroupBuyOffer.ends_at > now,
            GroupBuyOffer.max_groups.is_(None)
            | (GroupBuyOffer.groups_opened < GroupBuyOffer.max_groups),
        )
        .values(groups_opened=GroupBuyOffer.groups_opened + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


# ---- groups ----


def get_group(session: Session, group_id: int, *, for_update: bool = False) -> BuyingGroup | None:
    stmt = select(BuyingGroup).where(BuyingGroup.id == group_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).one_or_none()


def try_take_place(session: Session, group_id: int, now: datetime) -> bool:
    """``joined + 1`` on an open, unexpired group that has a free place."""
    result = session.execute(
        update(BuyingGroup)
        .where(
            BuyingGroup.id == group_id,
            BuyingGroup.status == GroupStatus.OPEN,
            BuyingGroup.expires_at > now,
            BuyingGroup.joined < BuyingGroup.size,
        )
        .values(joined=BuyingGroup.joined + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def give_back_place(session: Session, group_id: int) -> bool:
    result = session.execute(
        update(BuyingGroup)
        .where(
            BuyingGroup.id == group_id,
            BuyingGroup.status == GroupStatus.OPEN,
            BuyingGroup.joined > 0,
        )
        .values(joined=BuyingGroup.joined - 1)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def groups_of_offer(
    session: Session, offer_id: int, *, status: str | None, after_id: int | None, limit: int
) -> Sequence[BuyingGroup]:
    stmt = (
        select(BuyingGroup)
        .where(BuyingGroup.offer_id == offer_id)
        .order_by(BuyingGroup.id)
        .limit(limit)
    )
    if status is not None:
        stmt = stmt.where(BuyingGroup.status == status)
    if after_id is not None:
        stmt = stmt.where(BuyingGroup.id > after_id)
    return session.scalars(stmt).all()


def expired_open_groups(session: Session, now: datetime, limit: int) -> list[int]:
    return list(
        session.scalars(
            select(BuyingGroup.id)
            .where(BuyingGroup.status == GroupStatus.OPEN, BuyingGroup.expires_at <= now)
            .order_by(BuyingGroup.id)
            .limit(limit)
        )
    )


# ---- members ----


def members_of(session: Session, group_ids: Sequence[int]) -> dict[int, list[GroupMember]]:
    """Members per group, oldest first, in one query."""
    found: dict[int, list[GroupMember]] = {group_id: [] for group_id in group_ids}
    if not group_ids:
        return found
    for member in session.scalars(
        select(GroupMember)
        .where(GroupMember.group_id.in_(sorted(set(group_ids))))
        .order_by(GroupMember.id)
        .execution_options(populate_existing=True)
    ):
        found[member.group_id].append(member)
    return found


def active_membership(session: Session, group_id: int, customer_id: int) -> GroupMember | None:
    return session.scalars(
        select(GroupMember).where(
            GroupMember.group_id == group_id,
            GroupMember.customer_id == customer_id,
            GroupMember.status.in_(ACTIVE_MEMBERS),
        )
    ).first()


def member_by_order(session: Session, order_id: int) -> GroupMember | None:
    return session.scalars(
        select(GroupMember).where(GroupMember.order_id == order_id)
    ).one_or_none()


# ---- performance ----


def offer_figures(session: Session, offer: GroupBuyOffer) -> GroupBuyFigures:
    """The offer's groups by status, then its members with their orders, in one aggregate
    query each."""
    groups = dict(
        session.execute(
            select(BuyingGroup.status, func.count())
            .where(BuyingGroup.offer_id == offer.id)
            .group_by(BuyingGroup.status)
        ).all()
    )
    order = orders.Order
    cancelled = GroupMember.status == MemberStatus.CANCELLED
    refunded = and_(cancelled, order.captured_minor > 0)
    sold = and_(
        BuyingGroup.status == GroupStatus.SUCCEEDED, GroupMember.status == MemberStatus.PAID
    )
    count, total = func.count, func.sum
    columns: dict[str, ColumnElement[Any]] = {
        "members_joined": count(),
        "members_left": count().filter(GroupMember.status == MemberStatus.LEFT),
        "orders_paid": count().filter(order.paid_at.is_not(None)),
        "orders_cancelled": count().filter(cancelled),
        "orders_refunded": count().filter(refunded),
        "orders_refunded_minor": total(order.captured_minor).filter(refunded),
        "orders_succeeded": count().filter(sold),
        "units_succeeded": total(GroupMember.quantity).filter(sold),
        "gmv_minor": total(order.total_minor).filter(sold),
    }
    row = session.execute(
        select(*(value.label(name) for name, value in columns.items()))
        .select_from(GroupMember)
        .join(BuyingGroup, BuyingGroup.id == GroupMember.group_id)
        .join(order, order.id == GroupMember.order_id)
        .where(BuyingGroup.offer_id == offer.id)
    ).one()
    members = {name: int(value or 0) for name, value in row._mapping.items()}  # NULL: no rows
    return GroupBuyFigures(
        groups_opened=sum(int(n) for n in groups.values()),
        groups_succeeded=int(groups.get(GroupStatus.SUCCEEDED, 0)),
        groups_failed=int(groups.get(GroupStatus.FAILED, 0)),
        groups_open=int(groups.get(GroupStatus.OPEN, 0)),
        discount_minor=discount_cost(
            list_price_minor=offer.list_price_minor,
            group_price_minor=offer.group_price_minor,
            units=members["units_succeeded"],
        ),
        **members,
    )

"""Pure group-buy rules: the group's states, who may join, when it succeeds or fails,
and what makes an offer valid.

A group is ``open`` until either ``size`` members have paid before ``expires_at``
(``succeeded``) or ``expires_at`` passes without that (``failed``); both are final.
Members who leave an open group (their order was closed unpaid or cancelled) free
their place for someone else.

An offer's performance (``GroupBuyFigures``) counts its groups by outcome and its
members' orders: paid, cancelled with a failed group (and refunded when they had paid),
and paid in succeeded groups, whose units were sold at the group price.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from shopops.contexts.group_buying.errors import (
    MAX_DURATION_MINUTES,
    MAX_GROUP_SIZE,
    MAX_MEMBER_QUANTITY,
    MIN_GROUP_SIZE,
    GroupBuyError,
)
from shopops.kernel.errors import FieldError


class GroupStatus(StrEnum):
    OPEN = "open"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class MemberStatus(StrEnum):
    JOINED = "joined"  # order placed, not paid yet
    PAID = "paid"  # paid before the group expired
    LEFT = "left"  # order closed or cancelled while the group was open
    CANCELLED = "cancelled"  # order cancelled because the group failed


ACTIVE_MEMBERS = (MemberStatus.JOINED, MemberStatus.PAID)


@dataclass(frozen=True)
class GroupState:
    status: GroupStatus
    size: int
    joined: int  # active members
    paid: int  # active members who paid in time
    expires_at: datetime


def join_refusal(state: GroupState, now: datetime) -> GroupBuyError | None:
    """Why a buyer cannot join now, or None."""
    if state.status != GroupStatus.OPEN or now >= state.expires_at:
        return GroupBuyError.GROUP_CLOSED
    if state.joined >= state.size:
        return GroupBuyError.GROUP_FULL
    return None


def joined(state: GroupState, now: datetime) -> GroupState:
    refusal = join_refusal(state, now)
    if refusal is not None:
        raise ValueError(refusal)
    return replace(state, joined=state.joined + 1)


def paid(state: GroupState, paid_at: datetime) -> GroupState:
    """An active member paid; it counts only before the group expires."""
    if state.status != GroupStatus.OPEN or paid_at >= state.expires_at:
        return state
    return replace(state, paid=min(state.paid + 1, state.joined))


def left(state: GroupState, was_paid: bool) -> GroupState:
    """An active member's order was closed or cancelled: an open group frees the place."""
    if state.status != GroupStatus.OPEN or state.joined == 0:
        return state
    return replace(state, joined=state.joined - 1, paid=state.paid - 1 if was_paid else state.paid)


def settle(state: GroupState, now: datetime) -> GroupStatus:
    """The group's status now: success as soon as every place is paid for in time,
    failure once it expired without that; final states never change."""
    if state.status != GroupStatus.OPEN:
        return state.status
    if state.paid >= state.size:
        return GroupStatus.SUCCEEDED
    if now >= state.expires_at:
        return GroupStatus.FAILED
    return GroupStatus.OPEN


def success_rate(succeeded: int, failed: int) -> float | None:
    """Succeeded / settled groups, rounded to 6 places; None before any group settles
    (open groups have no outcome yet)."""
    if succeeded < 0 or failed < 0:
        raise ValueError("group counts are never negative")
    settled = succeeded + failed
    return round(succeeded / settled, 6) if settled else None


def discount_cost(*, list_price_minor: int, group_price_minor: int, units: int) -> int:
    """What selling ``units`` at the group price instead of the list price gave away
    (negative when the group price is above the list price)."""
    if units < 0:
        raise ValueError("units are never negative")
    return (list_price_minor - group_price_minor) * units


@dataclass(frozen=True)
class GroupBuyFigures:
    """What an offer's groups and their members' orders add up to; amounts in minor
    units of the offer's currency."""

    groups_opened: int
    groups_succeeded: int
    groups_failed: int
    groups_open: int  # not settled yet (an expired one until the expiry job settles it)
    members_joined: int  # every join, including members who left or were cancelled
    members_left: int  # order closed unpaid or cancelled while the group was open
    orders_paid: int  # members' orders that were paid, whatever became of the group
    orders_cancelled: int  # cancelled because their group failed
    orders_refunded: int  # ... of which had been paid: everything paid is refunded
    orders_refunded_minor: int
    orders_succeeded: int  # paid orders of succeeded groups
    units_succeeded: int
    discount_minor: int  # (list price - group price) x units of succeeded groups
    gmv_minor: int  # totals of the paid orders of succeeded groups

    @property
    def success_rate(self) -> float | None:
        return success_rate(self.groups_succeeded, self.groups_failed)


def validate_offer(
    *,
    name: str,
    group_price_minor: int | None,
    group_size: int,
    duration_minutes: int,
    starts_at: datetime,
    ends_at: datetime,
    max_groups: int | None,
    max_quantity: int,
) -> list[FieldError]:
    """Every problem with an offer's terms (the price was parsed by the caller)."""
    errors: list[FieldError] = []
    if not name.strip() or len(name) > 200:
        errors.append(FieldError("name", GroupBuyError.INVALID_NAME, "1-200 characters"))
    if group_price_minor is not None and group_price_minor <= 0:
        errors.append(FieldError("group_price", GroupBuyError.INVALID_PRICE, "must be positive"))
    if not MIN_GROUP_SIZE <= group_size <= MAX_GROUP_SIZE:
        errors.append(
            FieldError(
                "group_size",
                GroupBuyError.INVALID_SIZE,
                f"{MIN_GROUP_SIZE}-{MAX_GROUP_SIZE} members",
            )
        )
    if not 1 <= duration_minutes <= MAX_DURATION_MINUTES:
        errors.append(
            FieldError(
                "duration_minutes",
                GroupBuyError.INVALID_DURATION,
                f"1-{MAX_DURATION_MINUTES} minutes (30 days)",
            )
        )
    aware = True
    for field, moment in (("starts_at", starts_at), ("ends_at", ends_at)):
        if moment.tzinfo is None:
            aware = False
            errors.append(FieldError(field, GroupBuyError.INVALID_WINDOW, "needs a time zone"))
    if aware and starts_at >= ends_at:
        errors.append(FieldError("ends_at", GroupBuyError.INVALID_WINDOW, "after starts_at"))
    if max_groups is not None and max_groups < 1:
        errors.append(FieldError("max_groups", GroupBuyError.INVALID_LIMIT, "at least 1, or none"))
    if not 1 <= max_quantity <= MAX_MEMBER_QUANTITY:
        errors.append(
            FieldError("max_quantity", GroupBuyError.INVALID_LIMIT, f"1-{MAX_MEMBER_QUANTITY}")
        )
    return errors

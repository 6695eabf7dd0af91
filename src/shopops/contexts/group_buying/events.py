"""Events of the group-buying context."""

from __future__ import annotations

from dataclasses import dataclass

from shopops.kernel.events import Event


@dataclass(frozen=True)
class GroupBuyJoined(Event):
    """A buyer opened a group (``opened``) or joined one by placing an order."""

    event_type = "group_buy.joined"
    aggregate = "buying_group"
    id_field = "group_id"

    group_id: int
    offer_id: int
    customer_id: int
    order_id: int
    order_number: str
    joined: int
    size: int
    opened: bool


@dataclass(frozen=True)
class GroupBuySucceeded(Event):
    """Every place was paid for in time: the members' orders may ship."""

    event_type = "group_buy.succeeded"
    aggregate = "buying_group"
    id_field = "group_id"

    group_id: int
    offer_id: int
    size: int
    order_numbers: list[str]


@dataclass(frozen=True)
class GroupBuyFailed(Event):
    """The group expired short of members: every member's order was cancelled and what
    was paid is being refunded."""

    event_type = "group_buy.failed"
    aggregate = "buying_group"
    id_field = "group_id"

    group_id: int
    offer_id: int
    size: int
    paid: int
    order_numbers: list[str]
    refund_ids: list[int]

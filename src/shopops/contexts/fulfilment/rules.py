"""Pure fulfilment policies: what may ship, and how tracking scans move a shipment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ShipmentStatus(StrEnum):
    LABEL_CREATED = "label_created"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"


# Among scans at the same instant, the later stage wins; an exception outranks them.
_RANK = {
    ShipmentStatus.LABEL_CREATED: 0,
    ShipmentStatus.IN_TRANSIT: 1,
    ShipmentStatus.OUT_FOR_DELIVERY: 2,
    ShipmentStatus.EXCEPTION: 3,
    ShipmentStatus.DELIVERED: 4,
}

SHIPPABLE_ORDER_STATUSES = frozenset({"paid", "processing", "partially_shipped"})
OPEN_SHIPMENT_STATUSES = frozenset(set(ShipmentStatus) - {ShipmentStatus.DELIVERED})


@dataclass(frozen=True)
class Position:
    """A shipment's status and the moment of the scan that set it."""

    status: ShipmentStatus
    at: datetime


def supersedes(incoming: Position, current: Position) -> bool:
    """Does a newly reported scan replace the shipment's current status?

    Carriers resend and reorder scans, so the answer must not depend on arrival
    order. Delivered is final: a delivered scan beats everything (the earliest
    delivered scan is the delivery time); otherwise the newest scan wins, and at
    the same instant the later stage wins.
    """
    if current.status == ShipmentStatus.DELIVERED:
        return incoming.status == ShipmentStatus.DELIVERED and incoming.at < current.at
    if incoming.status == ShipmentStatus.DELIVERED:
        return True
    return (incoming.at, _RANK[incoming.status]) > (current.at, _RANK[current.status])


def can_ship(order_status: str) -> bool:
    return order_status in SHIPPABLE_ORDER_STATUSES


def order_status_after_shipping(units_outstanding: int) -> str:
    return "shipped" if units_outstanding <= 0 else "partially_shipped"


def order_delivered(order_status: str, shipment_statuses: Sequence[str]) -> bool:
    """An order is delivered when all of it has shipped and every parcel has arrived."""
    return (
        order_status == "shipped"
        and bool(shipment_statuses)
        and all(s == ShipmentStatus.DELIVERED for s in shipment_statuses)
    )


@dataclass(frozen=True)
class OpenLine:
    """An order line with units left to ship."""

    order_line_id: int
    sku: str
    remaining: int


@dataclass(frozen=True)
class PlannedLine:
    order_line_id: int
    sku: str
    quantity: int


@dataclass(frozen=True)
class LinePlan:
    lines: tuple[PlannedLine, ...]
    unknown: tuple[str, ...] = ()  # requested SKUs that are not on the order
    shortfall: Mapping[str, tuple[int, int]] | None = None  # sku -> (requested, shippable)

    @property
    def ok(self) -> bool:
        return not self.unknown and not self.shortfall and bool(self.lines)


def plan_lines(
    requested: Mapping[str, int] | None,
    reserved: Mapping[str, int],
    open_lines: Sequence[OpenLine],
) -> LinePlan:
    """Choose what one parcel from one warehouse carries.

    A SKU can ship as many units as are both held for the order in that
    warehouse (``reserved``) and still unshipped on its lines. Without a
    request, everything shippable goes. Units are put on the order's lines in
    the given order. Requested quantities must already be positive.
    """
    remaining: dict[str, int] = {}
    for line in open_lines:
        remaining[line.sku] = remaining.get(line.sku, 0) + max(line.remaining, 0)
    shippable = {sku: min(reserved.get(sku, 0), left) for sku, left in remaining.items()}
    if requested is None:
        wanted = {sku: q for sku, q in shippable.items() if q > 0}
    else:
        wanted = dict(requested)
    unknown = tuple(sorted(sku for sku in wanted if sku not in remaining))
    shortfall = {
        sku: (quantity, shippable[sku])
        for sku, quantity in sorted(wanted.items())
        if sku in shippable and quantity > shippable[sku]
    }
    if unknown or shortfall:
        return LinePlan((), unknown, shortfall)
    planned: list[PlannedLine] = []
    for line in open_lines:
        left = wanted.get(line.sku, 0)
        take = min(left, max(line.remaining, 0))
        if take > 0:
            planned.append(PlannedLine(line.order_line_id, line.sku, take))
            wanted[line.sku] = left - take
    return LinePlan(tuple(planned))


def is_late(deadline: datetime | None, done_at: datetime | None, now: datetime) -> bool:
    """Past a promised date without having done it (shipped, delivered) by then."""
    if deadline is None:
        return False
    if done_at is not None:
        return done_at > deadline
    return now > deadline

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shopops.kernel.events import Event


@dataclass(frozen=True)
class OrderPlaced(Event):
    event_type = "order.placed"
    aggregate = "order"
    id_field = "order_id"

    order_id: int
    number: str
    customer_id: int | None
    channel: str
    currency: str
    total_minor: int
    lines: list[dict[str, object]]


@dataclass(frozen=True)
class OrderStatusChanged(Event):
    """A transition without an event of its own (processing, partially shipped)."""

    event_type = "order.status_changed"
    aggregate = "order"
    id_field = "order_id"

    order_id: int
    number: str
    from_status: str
    to_status: str
    reason: str | None


@dataclass(frozen=True)
class OrderPaid(Event):
    event_type = "order.paid"
    aggregate = "order"
    id_field = "order_id"

    order_id: int
    number: str
    customer_id: int | None
    total_minor: int
    currency: str


@dataclass(frozen=True)
class OrderShipped(Event):
    event_type = "order.shipped"
    aggregate = "order"
    id_field = "order_id"

    order_id: int
    number: str


@dataclass(frozen=True)
class OrderDelivered(Event):
    event_type = "order.delivered"
    aggregate = "order"
    id_field = "order_id"

    order_id: int
    number: str
    customer_id: int | None


@dataclass(frozen=True)
class OrderCancelled(Event):
    event_type = "order.cancelled"
    aggregate = "order"
    id_field = "order_id"

    order_id: int
    number: str
    reason: str | None


@dataclass(frozen=True)
class OrderClosed(Event):
    event_type = "order.closed"
    aggregate = "order"
    id_field = "order_id"

    order_id: int
    number: str


@dataclass(frozen=True)
class OrderCompleted(Event):
    event_type = "order.completed"
    aggregate = "order"
    id_field = "order_id"

    order_id: int
    number: str


@dataclass(frozen=True)
class OrderDepositPaid(Event):
    """The deposit of a two-step order was captured; the balance is due later."""

    event_type = "order.deposit_paid"
    aggregate = "order"
    id_field = "order_id"

    order_id: int
    number: str
    deposit_minor: int
    balance_minor: int
    balance_from: datetime | None
    balance_due_at: datetime | None


@dataclass(frozen=True)
class OrderDepositForfeited(Event):
    """The balance was not paid in time: the order closed and kept the deposit."""

    event_type = "order.deposit_forfeited"
    aggregate = "order"
    id_field = "order_id"

    order_id: int
    number: str
    forfeited_minor: int
    currency: str


@dataclass(frozen=True)
class OrderHoldReleased(Event):
    event_type = "order.hold_released"
    aggregate = "order"
    id_field = "order_id"

    order_id: int
    number: str
    hold: str

"""Order lifecycle: transitions with a timeline, cancel, close, notes, tags, reads."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete

from shopops.auth.permissions import Permission
from shopops.contexts import inventory, promotions
from shopops.contexts.orders import after_sales, repository
from shopops.contexts.orders.commands import ChangeOrderStatus
from shopops.contexts.orders.errors import OrderError
from shopops.contexts.orders.events import (
    OrderCancelled,
    OrderClosed,
    OrderCompleted,
    OrderDelivered,
    OrderDepositForfeited,
    OrderDepositPaid,
    OrderHoldReleased,
    OrderPaid,
    OrderShipped,
    OrderStatusChanged,
)
from shopops.contexts.orders.models import Order, OrderEvent, OrderLine, OrderTag
from shopops.contexts.orders.rules import DEPOSIT_PAID, FORFEITED, OrderStatus, can_transition
from shopops.kernel.errors import (
    Conflict,
    FieldError,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)
from shopops.kernel.events import Event
from shopops.kernel.pii import mask_email, mask_name, mask_phone, mask_text
from shopops.uow import UnitOfWork

_TIMESTAMP_FIELD = {
    OrderStatus.PAID: "paid_at",
    OrderStatus.SHIPPED: "shipped_at",
    OrderStatus.DELIVERED: "delivered_at",
    OrderStatus.COMPLETED: "completed_at",
    OrderStatus.CANCELLED: "cancelled_at",
    OrderStatus.CLOSED: "closed_at",
}


def get_order(uow: UnitOfWork, order_id: int, *, for_update: bool = False) -> Order:
    order = repository.get(uow.session, order_id, for_update=for_update)
    if order is None:
        raise NotFound(OrderError.NOT_FOUND, f"order {order_id} does not exist")
    return order


def _event_for(order: Order, previous: str, reason: str | None) -> Event:
    target = OrderStatus(order.status)
    if target == OrderStatus.PAID:
        return OrderPaid(
            order.id, order.number, order.customer_id, order.total_minor, order.currency
        )
    if target == OrderStatus.SHIPPED:
        return OrderShipped(order.id, order.number)
    if target == OrderStatus.DELIVERED:
        return OrderDelivered(order.id, order.number, order.customer_id)
    if target == OrderStatus.CANCELLED:
        return OrderCancelled(order.id, order.number, reason)
    if target == OrderStatus.CLOSED:
        return OrderClosed(order.id, order.number)
    if target == OrderStatus.COMPLETED:
        return OrderCompleted(order.id, order.number)
    return OrderStatusChanged(order.id, order.number, previous, order.status, reason)


def transition(
    uow: UnitOfWork,
    order: Order,
    target: OrderStatus,
    *,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> Order:
    """Move ``order`` to ``target`` or refuse with ``orders.invalid_transition`` (409)."""
    previous = order.status
    if not can_transition(previous, target):
        raise InvalidTransition(
            OrderError.INVALID_TRANSITION,
            f"order {order.number} cannot go from {previous} to {target}",
            details={"from": previous, "to": str(target)},
        )
    now = uow.now()
    order.status = target
    field = _TIMESTAMP_FIELD.get(target)
    if field:
        setattr(order, field, now)
    if target == OrderStatus.PAID and uow.settings is not None:
        order.ship_by = now + timedelta(hours=uow.settings.ship_within_hours)
        order.deliver_by = now + timedelta(days=uow.settings.deliver_within_days)
    uow.session.add(
        OrderEvent(
            order_id=order.id,
            kind="status_changed",
            from_status=previous,
            to_status=target,
            actor=uow.actor.label,
            reason=reason,
            data=data or {},
            occurred_at=now,
        )
    )
    uow.emit(_event_for(order, previous, reason))
    uow.audit(
        f"order.{target}", "order", order.id, before={"status": previous}, after={"status": target}
    )
    return order


def record_timeline(
    uow: UnitOfWork,
    order: Order,
    kind: str,
    *,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """A timeline entry without a status change (payments, shipments, returns, notes)."""
    uow.session.add(
        OrderEvent(
            order_id=order.id,
            kind=kind,
            from_status=None,
            to_status=None,
            actor=uow.actor.label,
            reason=reason,
            data=data or {},
            occurred_at=uow.now(),
        )
    )


def cancel_order(uow: UnitOfWork, order_id: int, *, reason: str) -> Order:
    """Cancel before anything shipped; held stock goes back at once."""
    uow.require(Permission.ORDERS_WRITE)
    if not reason.strip():
        raise ValidationFailed("validation.required", "a cancellation needs a reason")
    order = get_order(uow, order_id, for_update=True)
    if order.status in (
        OrderStatus.PARTIALLY_SHIPPED,
        OrderStatus.SHIPPED,
        OrderStatus.DELIVERED,
        OrderStatus.COMPLETED,
    ):
        raise InvalidTransition(
            OrderError.ALREADY_SHIPPED,
            f"order {order.number} has shipped; start a return instead",
            details={"from": order.status, "to": "cancelled"},
        )
    transition(uow, order, OrderStatus.CANCELLED, reason=reason.strip())
    released = inventory.release(uow, order.number)
    promotions.release(uow, order.number)  # coupons and promotion uses go back
    record_timeline(
        uow,
        order,
        "stock_released",
        data={
            "lines": [
                {"sku": r.sku, "warehouse_id": r.warehouse_id, "quantity": r.quantity}
                for r in released
            ]
        },
    )
    # Captured money goes back: reserved here, sent by orders.cancel_and_refund or the retry job.
    after_sales.refund_everything(uow, order, reason=f"order cancelled: {reason.strip()}")
    return order


def close_unpaid(uow: UnitOfWork, *, limit: int = 200) -> int:
    """Scheduled job: orders not paid within the payment window are closed.

    A two-step order whose deposit was paid but whose balance was not by the end of
    its balance window is closed the same way and keeps the deposit: nothing is
    refunded, ``forfeited_minor`` records it, and ``order.deposit_forfeited`` says so.
    """
    closed = 0
    for order in repository.unpaid_past_due(uow.session, uow.now(), limit):
        locked = get_order(uow, order.id, for_update=True)
        if locked.status != OrderStatus.PENDING_PAYMENT:
            continue
        if locked.payment_status == DEPOSIT_PAID:
            _forfeit_deposit(uow, locked)
        else:
            transition(uow, locked, OrderStatus.CLOSED, reason="payment window expired")
        inventory.release(uow, locked.number)
        promotions.release(uow, locked.number)
        closed += 1
    return closed


def _forfeit_deposit(uow: UnitOfWork, order: Order) -> None:
    forfeited = order.captured_minor - order.refunded_minor
    transition(
        uow, order, OrderStatus.CLOSED, reason="balance not paid in time: the deposit is forfeited"
    )
    order.forfeited_minor = forfeited
    order.payment_status = FORFEITED
    record_timeline(
        uow,
        order,
        "deposit_forfeited",
        reason="balance not paid by the end of its window",
        data={"forfeited_minor": forfeited, "balance_due_at": _iso(order.balance_due_at)},
    )
    uow.emit(OrderDepositForfeited(order.id, order.number, forfeited, order.currency))
    uow.audit(
        "order.deposit_forfeited",
        "order",
        order.id,
        after={"forfeited_minor": forfeited, "currency": order.currency},
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def record_deposit(uow: UnitOfWork, order: Order, *, captured_minor: int) -> Order:
    """The deposit of a two-step order was captured: the balance is due in its window,
    and the stock stays held until then (no reservation expiry)."""
    order.captured_minor = captured_minor
    order.payment_status = DEPOSIT_PAID
    order.payment_due_at = order.balance_due_at
    balance = order.total_minor - captured_minor
    record_timeline(
        uow,
        order,
        "deposit_paid",
        data={
            "deposit_minor": captured_minor,
            "balance_minor": balance,
            "balance_from": _iso(order.balance_from),
            "balance_due_at": _iso(order.balance_due_at),
        },
    )
    inventory.keep(uow, order.number)
    uow.emit(
        OrderDepositPaid(
            order.id,
            order.number,
            captured_minor,
            balance,
            order.balance_from,
            order.balance_due_at,
        )
    )
    uow.audit(
        "order.deposit_paid",
        "order",
        order.id,
        after={"captured_minor": captured_minor, "payment_status": DEPOSIT_PAID},
    )
    return order


def release_hold(uow: UnitOfWork, order_id: int, *, reason: str) -> Order:
    """Let a held order ship (the group buy it belongs to succeeded). Safe to repeat."""
    order = get_order(uow, order_id, for_update=True)
    hold = order.fulfilment_hold
    if hold is None:
        return order
    order.fulfilment_hold = None
    record_timeline(uow, order, "hold_released", reason=reason, data={"hold": hold})
    uow.emit(OrderHoldReleased(order.id, order.number, hold))
    uow.audit("order.hold_released", "order", order.id, before={"hold": hold}, after={})
    return order


def mark_paid(
    uow: UnitOfWork, order: Order, *, captured_minor: int, payment_reference: str
) -> Order:
    """Payment captured in full: record it; idempotent for a repeated notification."""
    if order.status != OrderStatus.PENDING_PAYMENT:
        if order.payment_status == "paid":
            return order
        raise InvalidTransition(
            OrderError.INVALID_TRANSITION,
            f"order {order.number} is {order.status}; cannot be paid",
            details={"from": order.status, "to": "paid"},
        )
    order.captured_minor = captured_minor
    order.payment_status = "paid"
    transition(uow, order, OrderStatus.PAID, data={"payment": payment_reference})
    inventory.keep(uow, order.number)  # paid stock is held until it ships, not until expiry
    return order


def record_shipped(uow: UnitOfWork, order: Order, quantities: Mapping[int, int]) -> int:
    """Count units (order line id -> units) as shipped; returns the units still to ship."""
    for line_id in sorted(quantities):
        if not repository.add_shipped_quantity(uow.session, line_id, quantities[line_id]):
            raise Conflict(
                OrderError.OVERSHIPPED,
                f"order {order.number}: line {line_id} would ship more than was ordered",
                details={"order_line_id": line_id},
            )
    return repository.units_outstanding(uow.session, order.id)


def add_note(uow: UnitOfWork, order_id: int, note: str) -> Order:
    uow.require(Permission.ORDERS_WRITE)
    if not note.strip() or len(note) > 2000:
        raise ValidationFailed("validation.invalid_note", "a note is 1-2000 characters")
    order = get_order(uow, order_id)
    record_timeline(uow, order, "note", reason=note.strip())
    uow.audit("order.note_added", "order", order.id, after={"note": note.strip()})
    return order


def set_tags(
    uow: UnitOfWork, order_id: int, *, add: Sequence[str] = (), remove: Sequence[str] = ()
) -> list[str]:
    uow.require(Permission.ORDERS_WRITE)
    for tag in add:
        if not tag.strip() or len(tag) > 50:
            raise ValidationFailed("validation.invalid_tag", "tags are 1-50 characters")
    order = get_order(uow, order_id)
    before = repository.tags_of(uow.session, [order.id]).get(order.id, [])
    wanted = (set(before) | {t.strip() for t in add}) - set(remove)
    uow.session.execute(delete(OrderTag).where(OrderTag.order_id == order.id))
    uow.session.add_all(OrderTag(order_id=order.id, tag=t) for t in sorted(wanted))
    after = sorted(wanted)
    if after != sorted(before):
        record_timeline(uow, order, "tags_changed", data={"before": before, "after": after})
        uow.audit(
            "order.tags_changed", "order", order.id, before={"tags": before}, after={"tags": after}
        )
    return after


@dataclass(frozen=True)
class OrderDetail:
    order: Order
    lines: Sequence[OrderLine]
    timeline: Sequence[OrderEvent]
    tags: list[str]
    reservations: Sequence[inventory.Reservation]


def order_detail(uow: UnitOfWork, order_id: int) -> OrderDetail:
    uow.require(Permission.ORDERS_READ)
    order = get_order(uow, order_id)
    return OrderDetail(
        order=order,
        lines=repository.lines_of(uow.session, order.id),
        timeline=repository.timeline_of(uow.session, order.id),
        tags=repository.tags_of(uow.session, [order.id]).get(order.id, []),
        reservations=inventory.reservations_for(uow.session, order.number),
    )


def get_order_by_number(uow: UnitOfWork, number: str) -> Order:
    order = repository.get_by_number(uow.session, number.strip().upper())
    if order is None:
        raise NotFound(OrderError.NOT_FOUND, f"order {number} does not exist")
    return order


# Staff move these by hand. Payment (paid), fulfilment (partially_shipped, shipped), the
# cancel use case (cancelled, which releases stock) and the close job own the others.
MANUAL_TARGETS = frozenset({OrderStatus.PROCESSING, OrderStatus.DELIVERED, OrderStatus.COMPLETED})


def change_status(uow: UnitOfWork, command: ChangeOrderStatus) -> Order:
    """A staff-driven move such as paid -> processing or delivered -> completed."""
    uow.require(Permission.ORDERS_WRITE)
    if command.target not in set(OrderStatus):
        raise ValidationFailed(
            errors=[FieldError("to", "orders.unknown_status", f"unknown status {command.target}")]
        )
    target = OrderStatus(command.target)
    order = get_order(uow, command.order_id, for_update=True)
    if target not in MANUAL_TARGETS:
        raise InvalidTransition(
            OrderError.INVALID_TRANSITION,
            f"order {order.number} cannot be moved to {target} by hand; "
            f"allowed by hand: {', '.join(sorted(MANUAL_TARGETS))} (cancel has its own action)",
            details={"from": order.status, "to": str(target)},
        )
    reason = command.reason.strip() if command.reason else None
    return transition(uow, order, target, reason=reason or None, data=dict(command.data))


@dataclass(frozen=True)
class OrderSearchResult:
    orders: Sequence[Order]
    tags: dict[int, list[str]]  # order id -> tags, fetched in one query


def search_orders(uow: UnitOfWork, query: repository.OrderFilter) -> OrderSearchResult:
    """Orders newest first, with their tags (two queries whatever the page size)."""
    uow.require(Permission.ORDERS_READ)
    found = repository.search(uow.session, query)
    return OrderSearchResult(found, repository.tags_of(uow.session, [o.id for o in found]))


@dataclass(frozen=True)
class OrderContact:
    """Guest contact and shipping address as the reader may see them."""

    guest_email: str | None
    guest_name: str | None
    guest_phone: str | None
    recipient: str | None
    line1: str | None
    line2: str | None
    phone: str | None
    city: str
    region: str | None
    postal_code: str | None
    country: str
    pii_masked: bool


def order_contact(uow: UnitOfWork, order: Order) -> OrderContact:
    """Decrypted personal fields, masked unless the reader holds `customers.pii.read`."""
    reveal = uow.actor.can(Permission.CUSTOMERS_PII_READ)
    decrypt = uow.pii.decrypt

    def shown(token: bytes | None, mask: Callable[[str | None], str | None]) -> str | None:
        value = decrypt(token)
        return value if reveal else mask(value)

    return OrderContact(
        guest_email=shown(order.guest_email_encrypted, mask_email),
        guest_name=shown(order.guest_name_encrypted, mask_name),
        guest_phone=shown(order.guest_phone_encrypted, mask_phone),
        recipient=shown(order.ship_recipient_encrypted, mask_name),
        line1=shown(order.ship_line1_encrypted, mask_text),
        line2=shown(order.ship_line2_encrypted, mask_text),
        phone=shown(order.ship_phone_encrypted, mask_phone),
        city=order.ship_city,
        region=order.ship_region,
        postal_code=order.ship_postal_code,
        country=order.ship_country,
        pii_masked=not reveal,
    )

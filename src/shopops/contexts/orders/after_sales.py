"""After-sales effects on an order, inside one unit of work: refunds and returned goods.

``request_refund`` chooses the order lines a refund comes from (split exactly
with the largest-remainder rule, or explicit per-line amounts) and reserves the
amount on the captured payment; ``apply_settled_refund`` writes a settled
refund's effect on the order and its lines. Amounts on orders and lines change
through SQL increments, never read-modify-write. Callers check permissions and
hold the order row lock where stated. This module does not import
``orders.service`` (whose ``cancel_order`` uses it).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import case, update

from shopops.contexts import payments
from shopops.contexts.orders import repository
from shopops.contexts.orders.errors import OrderError
from shopops.contexts.orders.models import Order, OrderEvent, OrderLine
from shopops.kernel.errors import Conflict, FieldErrorCollector, ValidationFailed
from shopops.uow import UnitOfWork

PAID = "paid"
PARTIALLY_REFUNDED = "partially_refunded"
REFUNDED = "refunded"


def timeline(uow: UnitOfWork, order_id: int, kind: str, data: dict[str, Any]) -> None:
    uow.session.add(
        OrderEvent(
            order_id=order_id,
            kind=kind,
            from_status=None,
            to_status=None,
            actor=uow.actor.label,
            reason=None,
            data=data,
            occurred_at=uow.now(),
        )
    )


def refundable_by_line(uow: UnitOfWork, order_id: int) -> dict[int, int]:
    """Per line: paid amount minus refunded minus held by refunds in flight."""
    held = payments.pending_by_line(uow.session, order_id)
    return {
        line.id: line.total_minor - line.refunded_minor - held.get(line.id, 0)
        for line in repository.lines_of(uow.session, order_id)
    }


def refundable_shipping(uow: UnitOfWork, order: Order) -> int:
    """The shipping fee paid (the total beyond the lines) minus what was given back or is
    held by refunds in flight."""
    lines = sum(line.total_minor for line in repository.lines_of(uow.session, order.id))
    paid = max(order.total_minor - lines, 0)
    held = payments.pending_shipping(uow.session, order.id)
    return max(paid - order.shipping_refunded_minor - held, 0)


def _plan(
    uow: UnitOfWork,
    order: Order,
    payment: payments.Payment,
    amount_minor: int | None,
    line_amounts: Mapping[int, int] | None,
) -> tuple[list[dict[str, int]], int]:
    """The refund's line parts and its shipping part."""
    available = refundable_by_line(uow, order.id)
    if (amount_minor is None) == (line_amounts is None):
        raise ValidationFailed(
            payments.PaymentError.INVALID_REFUND_LINES, "give either an amount or line amounts"
        )
    if line_amounts is not None:
        errors = FieldErrorCollector()
        if not line_amounts:
            errors.add("lines", "validation.required", "at least one line is needed")
        for line_id, amount in line_amounts.items():
            if line_id not in available:
                errors.add(
                    f"lines.{line_id}",
                    payments.PaymentError.INVALID_REFUND_LINES,
                    f"line {line_id} is not on order {order.number}",
                )
            elif amount <= 0:
                errors.add(
                    f"lines.{line_id}", payments.PaymentError.INVALID_AMOUNT, "must be positive"
                )
        errors.raise_if_any(payments.PaymentError.INVALID_REFUND_LINES)
        total = sum(line_amounts.values())
    else:
        assert amount_minor is not None
        if amount_minor <= 0:
            raise ValidationFailed(payments.PaymentError.INVALID_AMOUNT, "must be positive")
        total = amount_minor
    if total > payment.refundable_minor:
        raise Conflict(
            payments.PaymentError.REFUND_EXCEEDS_CAPTURED,
            f"refund of {total} exceeds the {payment.refundable_minor} still refundable "
            f"on order {order.number}",
            details={"requested_minor": total, "refundable_minor": payment.refundable_minor},
        )
    shipping = 0
    if line_amounts is None:
        # The goods first; the shipping fee takes only what the lines cannot.
        ids = sorted(available)
        on_lines = min(total, sum(max(available[i], 0) for i in ids))
        shipping = total - on_lines
        if shipping > refundable_shipping(uow, order):
            raise Conflict(
                payments.PaymentError.REFUND_EXCEEDS_LINE,
                f"the lines and shipping of order {order.number} cannot absorb a refund of {total}",
                details={"requested_minor": total},
            )
        line_amounts = {}
        if on_lines:
            parts = payments.allocate_refund(on_lines, [max(available[i], 0) for i in ids])
            line_amounts = dict(zip(ids, parts, strict=True))
    over = {i: a for i, a in line_amounts.items() if a > available[i]}
    if over:
        raise Conflict(
            payments.PaymentError.REFUND_EXCEEDS_LINE,
            "a line cannot refund more than was paid for it",
            details={"lines": {str(i): available[i] for i in sorted(over)}},
        )
    refund_lines = [
        {"order_line_id": i, "amount_minor": a} for i, a in sorted(line_amounts.items()) if a > 0
    ]
    return refund_lines, shipping


def request_refund(
    uow: UnitOfWork,
    order: Order,
    *,
    reason: str,
    amount_minor: int | None = None,
    line_amounts: Mapping[int, int] | None = None,
    return_id: int | None = None,
) -> payments.Refund:
    """Reserve a refund on ``order`` (locked by the caller); the gateway is called later."""
    if not reason.strip():
        raise ValidationFailed("validation.required", "a refund needs a reason")
    captured = [
        p
        for p in payments.captured_payments_of_order(uow.session, order.id)
        if p.status in payments.REFUNDABLE_PAYMENT
    ]
    if not captured:
        raise Conflict(
            payments.PaymentError.NOTHING_CAPTURED,
            f"order {order.number} has no captured payment to refund",
        )
    payment = max(captured, key=lambda p: (p.refundable_minor, -p.id))
    lines, shipping = _plan(uow, order, payment, amount_minor, line_amounts)
    refund = payments.reserve_refund(
        uow,
        payments.RequestRefund(
            payment_id=payment.id,
            order_id=order.id,
            amount_minor=sum(part["amount_minor"] for part in lines) + shipping,
            shipping_minor=shipping,
            reason=reason.strip(),
            idempotency_key=f"refund:{uuid.uuid4().hex}",
            lines=lines,
            return_id=return_id,
        ),
    )
    timeline(
        uow,
        order.id,
        "refund_requested",
        {
            "refund_id": refund.id,
            "amount_minor": refund.amount_minor,
            "lines": lines,
            "shipping_minor": shipping,
            "reason": refund.reason,
            "return_id": return_id,
        },
    )
    return refund


def refund_everything(uow: UnitOfWork, order: Order, *, reason: str) -> payments.Refund | None:
    """On cancellation: reserve a refund of all that is still refundable, if anything."""
    refundable = sum(
        p.refundable_minor
        for p in payments.captured_payments_of_order(uow.session, order.id)
        if p.status in payments.REFUNDABLE_PAYMENT
    )
    if refundable <= 0:
        return None
    return request_refund(uow, order, reason=reason, amount_minor=refundable)


def apply_settled_refund(uow: UnitOfWork, refund: payments.Refund) -> None:
    """Once per refund, when it leaves ``requested``: amounts, payment status, timeline."""
    if refund.status == payments.RefundStatus.SUCCEEDED:
        amount = refund.amount_minor
        uow.session.execute(
            update(Order)
            .where(Order.id == refund.order_id)
            .values(
                refunded_minor=Order.refunded_minor + amount,
                shipping_refunded_minor=Order.shipping_refunded_minor + refund.shipping_minor,
                payment_status=case(
                    (Order.refunded_minor + amount >= Order.captured_minor, REFUNDED),
                    else_=PARTIALLY_REFUNDED,
                ),
            )
            .execution_options(synchronize_session=False)
        )
        for part in refund.lines:
            uow.session.execute(
                update(OrderLine)
                .where(
                    OrderLine.id == int(part["order_line_id"]),
                    OrderLine.order_id == refund.order_id,
                )
                .values(refunded_minor=OrderLine.refunded_minor + int(part["amount_minor"]))
                .execution_options(synchronize_session=False)
            )
        kind = "refund_issued"
    else:
        kind = "refund_failed"
    order = repository.get(uow.session, refund.order_id)
    if order is not None:
        uow.session.refresh(order)
    timeline(
        uow,
        refund.order_id,
        kind,
        {
            "refund_id": refund.id,
            "amount_minor": refund.amount_minor,
            "gateway_reference": refund.gateway_reference,
            "error_code": refund.error_code,
            "return_id": refund.return_id,
        },
    )


def record_returned(uow: UnitOfWork, order_line_id: int, quantity: int) -> None:
    """Goods came back: ``returned_quantity`` grows, never beyond what shipped."""
    moved = uow.session.execute(
        update(OrderLine)
        .where(
            OrderLine.id == order_line_id,
            OrderLine.returned_quantity + quantity <= OrderLine.shipped_quantity,
        )
        .values(returned_quantity=OrderLine.returned_quantity + quantity)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(
            OrderError.INVALID_QUANTITY,
            f"line {order_line_id}: more returned than shipped",
            details={"order_line_id": order_line_id, "quantity": quantity},
        )

"""Paying and refunding orders: gateway calls between two short transactions.

No gateway call happens inside an open database transaction. Every
transaction here locks the order row before payment and refund rows (one lock
order, so concurrent refunds, settlements and notifications cannot deadlock).
Each flow:

1. (tx1) validates and records its intent — a pending payment, or a refund
   reserved on the payment — and commits;
2. calls the gateway with the intent's idempotency key, holding no connection;
3. (tx2) records the outcome and its effect on the order, and commits.

A crash between the steps leaves an open intent that is finished with the same
idempotency key, so the gateway moves money once: paying again resumes an open
payment, ``retry_stuck_refunds`` (a scheduled job) completes requested refunds,
and the gateway's notifications settle either one.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta

from shopops.adapters.payments import GatewayResult, GatewayUnavailable, PaymentGateway
from shopops.auth.permissions import Permission
from shopops.contexts import payments
from shopops.contexts.orders import after_sales
from shopops.contexts.orders.errors import OrderError
from shopops.contexts.orders.models import Order
from shopops.contexts.orders.rules import OrderStatus
from shopops.contexts.orders.service import (
    cancel_order,
    get_order,
    mark_paid,
    record_deposit,
    record_timeline,
)
from shopops.kernel.errors import Conflict
from shopops.uow import UnitOfWork

log = logging.getLogger("shopops.payments")

Transactions = Callable[[], AbstractContextManager[UnitOfWork]]
REFUND_RETRY_AFTER = timedelta(minutes=2)
_PAID_STATES = (after_sales.PAID, after_sales.PARTIALLY_REFUNDED, after_sales.REFUNDED)


@dataclass(frozen=True)
class _Charge:
    order_id: int
    payment_id: int
    amount_minor: int
    currency: str
    method: str
    key: str
    merchant_reference: str


@dataclass(frozen=True)
class _ChargeOutcome:
    authorization: GatewayResult | None = None
    capture: GatewayResult | None = None
    void: GatewayResult | None = None
    unavailable: str | None = None


# --- paying ---


def pay_order(
    uow_factory: Transactions,
    gateway: PaymentGateway,
    *,
    order_id: int,
    method: str = "card",
    source: str = "tok_visa",
) -> payments.Payment:
    """Authorize and capture what is due on an order; on capture the order is paid.

    ``source`` is the gateway's token for the card or wallet (sandbox: ``tok_visa``).

    A decline returns the payment with status ``failed`` (the order stays
    unpaid). If the gateway does not answer, ``payments.gateway_unavailable``
    is raised and the payment stays open; paying again resumes it.
    """
    with uow_factory() as uow:
        uow.require(Permission.ORDERS_WRITE)
        charge = _open_payment(uow, gateway.name, order_id, method)
        uow.commit()
    outcome = _call_gateway(gateway, charge, source)
    with uow_factory() as uow:
        get_order(uow, charge.order_id, for_update=True)  # lock order: orders, then payments
        payment = payments.get_payment(uow, charge.payment_id, for_update=True)
        refund = _record_outcome(uow, payment, outcome)
        uow.commit()
    if refund is not None:  # captured for an order that was closed meanwhile
        complete_refund(uow_factory, gateway, refund.id)
    if outcome.unavailable is not None:
        raise payments.GatewayUnavailableError(
            payments.PaymentError.GATEWAY_UNAVAILABLE,
            f"the payment gateway did not answer ({outcome.unavailable}); pay again to resume",
            details={"payment_id": charge.payment_id},
        )
    return payment


def _open_payment(uow: UnitOfWork, gateway: str, order_id: int, method: str) -> _Charge:
    order = get_order(uow, order_id, for_update=True)
    if order.payment_status in _PAID_STATES:
        raise Conflict(payments.PaymentError.ALREADY_PAID, f"order {order.number} is paid")
    if order.status != OrderStatus.PENDING_PAYMENT:
        raise Conflict(
            payments.PaymentError.ORDER_NOT_PAYABLE,
            f"order {order.number} is {order.status}; only pending_payment orders can be paid",
            details={"status": order.status},
        )
    due = _due_now(uow, order)
    payment = payments.open_payment_of_order(uow.session, order.id)
    if payment is None:  # otherwise resume the open one with its own key
        payment = payments.start_payment(
            uow,
            payments.StartPayment(
                order_id=order.id,
                amount_minor=due,
                currency=order.currency,
                method=method,
                gateway=gateway,
                idempotency_key=f"pay:{uuid.uuid4().hex}",
            ),
        )
        record_timeline(
            uow,
            order,
            "payment_started",
            data={"payment_id": payment.id, "amount_minor": payment.amount_minor},
        )
    return _Charge(
        order.id,
        payment.id,
        payment.amount_minor,
        payment.currency,
        payment.method,
        payment.idempotency_key,
        payment.merchant_reference,
    )


def _due_now(uow: UnitOfWork, order: Order) -> int:
    """What paying charges now: everything, or for a two-step order its deposit first and
    then the balance, but only inside the balance window."""
    outstanding = order.total_minor - order.captured_minor
    if order.deposit_minor is None:
        return outstanding
    if order.captured_minor == 0:
        return order.deposit_minor
    now = uow.now()
    window = {
        "balance_from": order.balance_from.isoformat() if order.balance_from else None,
        "balance_due_at": order.balance_due_at.isoformat() if order.balance_due_at else None,
    }
    if order.balance_from is not None and now < order.balance_from:
        raise Conflict(
            OrderError.BALANCE_NOT_DUE,
            f"the balance of order {order.number} can be paid from {order.balance_from}",
            details=window,
        )
    if order.balance_due_at is not None and now >= order.balance_due_at:
        raise Conflict(
            OrderError.BALANCE_OVERDUE,
            f"the balance of order {order.number} was due by {order.balance_due_at}",
            details=window,
        )
    return outstanding


def _call_gateway(gateway: PaymentGateway, charge: _Charge, source: str) -> _ChargeOutcome:
    authorization = capture = None
    try:
        authorization = gateway.authorize(
            amount_minor=charge.amount_minor,
            currency=charge.currency,
            method=charge.method,
            token=source,
            merchant_reference=charge.merchant_reference,
            idempotency_key=f"{charge.key}:authorize",
        )
        if not authorization.ok:
            return _ChargeOutcome(authorization)
        capture = gateway.capture(
            reference=authorization.reference,
            amount_minor=charge.amount_minor,
            currency=charge.currency,
            idempotency_key=f"{charge.key}:capture",
        )
        if capture.ok:
            return _ChargeOutcome(authorization, capture)
        void = gateway.void(
            reference=authorization.reference,
            currency=charge.currency,
            idempotency_key=f"{charge.key}:void",
        )
        return _ChargeOutcome(authorization, capture, void)
    except GatewayUnavailable as exc:
        log.warning("gateway unavailable for payment %s: %s", charge.payment_id, exc)
        return _ChargeOutcome(authorization, capture, unavailable=str(exc))


def _record_outcome(
    uow: UnitOfWork, payment: payments.Payment, outcome: _ChargeOutcome
) -> payments.Refund | None:
    if outcome.authorization is not None and outcome.authorization.ok:
        payments.record_authorization(uow, payment, outcome.authorization)
    capture = outcome.capture
    if capture is not None and capture.ok:
        if payments.record_capture(
            uow,
            payment,
            reference=capture.reference,
            amount_minor=capture.amount_minor,
            fee_minor=capture.fee_minor,
        ):
            return apply_capture(uow, payment)
        return None
    if outcome.unavailable is not None:
        payments.note_payment_unavailable(uow, payment, outcome.unavailable)
        return None
    failed = capture if capture is not None else outcome.authorization
    assert failed is not None
    if payments.record_failure(
        uow,
        payment,
        error_code=failed.error_code,
        error_message=failed.error_message,
        voided=outcome.void is not None and outcome.void.ok,
    ):
        record_timeline(
            uow,
            get_order(uow, payment.order_id),
            "payment_failed",
            reason=failed.error_message,
            data={"payment_id": payment.id, "error_code": failed.error_code},
        )
    return None


def apply_capture(uow: UnitOfWork, payment: payments.Payment) -> payments.Refund | None:
    """A payment was just captured: the order is paid (idempotent).

    If the order was closed or cancelled while the payment was in flight, the
    captured money is recorded and a refund of it is reserved; it is returned
    for the caller to complete (or left to ``retry_stuck_refunds``).
    """
    order = get_order(uow, payment.order_id, for_update=True)
    record_timeline(
        uow,
        order,
        "payment_captured",
        data={
            "payment_id": payment.id,
            "amount_minor": payment.captured_minor,
            "fee_minor": payment.fee_minor,
            "gateway_reference": payment.gateway_reference,
        },
    )
    if order.status == OrderStatus.PENDING_PAYMENT:
        captured = order.captured_minor + payment.captured_minor
        if order.deposit_minor is not None and captured < order.total_minor:
            record_deposit(uow, order, captured_minor=captured)
            return None
        mark_paid(
            uow,
            order,
            captured_minor=captured,
            payment_reference=payment.gateway_reference or payment.merchant_reference,
        )
        return None
    order.captured_minor += payment.captured_minor
    if order.status in (OrderStatus.CANCELLED, OrderStatus.CLOSED):
        order.payment_status = after_sales.PAID
        return after_sales.request_refund(
            uow,
            order,
            reason=f"payment captured after the order was {order.status}",
            amount_minor=payment.captured_minor,
        )
    record_timeline(uow, order, "payment_captured_twice", data={"payment_id": payment.id})
    return None


# --- refunding ---


def refund_order(
    uow_factory: Transactions,
    gateway: PaymentGateway,
    *,
    order_id: int,
    reason: str,
    amount_minor: int | None = None,
    line_amounts: Mapping[int, int] | None = None,
) -> payments.Refund:
    """Refund part or all of what was captured; never more (``payments.refund_exceeds_captured``).

    Give ``amount_minor`` (split across lines in proportion to what each can
    still refund) or explicit ``line_amounts`` (order line id -> minor units).
    Returns the refund: ``succeeded``, ``failed``, or ``requested`` when the
    gateway did not answer (the retry job finishes it).
    """
    with uow_factory() as uow:
        uow.require(Permission.PAYMENTS_REFUND)
        order = get_order(uow, order_id, for_update=True)
        refund = after_sales.request_refund(
            uow, order, reason=reason, amount_minor=amount_minor, line_amounts=line_amounts
        )
        uow.commit()
    return complete_refund(uow_factory, gateway, refund.id)


def cancel_and_refund(
    uow_factory: Transactions, gateway: PaymentGateway, *, order_id: int, reason: str
) -> tuple[Order, payments.Refund | None]:
    """Cancel an order; what was captured is refunded (``cancel_order`` reserves it)."""
    with uow_factory() as uow:
        order = cancel_order(uow, order_id, reason=reason)
        requested = requested_refunds(uow, order.id)
        uow.commit()
    refund = None
    for refund_id in requested:
        refund = complete_refund(uow_factory, gateway, refund_id)
    return order, refund


def requested_refunds(uow: UnitOfWork, order_id: int) -> list[int]:
    """Ids of the order's refunds waiting for the gateway (send them with
    ``complete_refund`` after the commit, or leave them to ``retry_stuck_refunds``)."""
    return [
        r.id
        for r in payments.refunds_of_order(uow.session, order_id)
        if r.status == payments.RefundStatus.REQUESTED
    ]


@dataclass(frozen=True)
class _RefundCall:
    refund_id: int
    charge_reference: str
    amount_minor: int
    currency: str
    key: str
    merchant_reference: str


def complete_refund(
    uow_factory: Transactions, gateway: PaymentGateway, refund_id: int
) -> payments.Refund:
    """Send a requested refund to the gateway and record the answer (idempotent)."""
    with uow_factory() as uow:
        refund = payments.get_refund(uow, refund_id)
        payment = payments.get_payment(uow, refund.payment_id)
        call = _RefundCall(
            refund.id,
            payment.gateway_reference or "",
            refund.amount_minor,
            refund.currency,
            refund.idempotency_key,
            refund.merchant_reference,
        )
        done = refund.status != payments.RefundStatus.REQUESTED
        if done:
            uow.session.expunge(refund)  # keep it readable after the read is rolled back
    if done:
        return refund
    try:
        result: GatewayResult | None = gateway.refund(
            reference=call.charge_reference,
            amount_minor=call.amount_minor,
            currency=call.currency,
            merchant_reference=call.merchant_reference,
            idempotency_key=call.key,
        )
        error = ""
    except GatewayUnavailable as exc:
        result, error = None, str(exc)
    with uow_factory() as uow:
        if result is None:
            payments.note_refund_attempt(uow, call.refund_id, error)
        else:
            settle_refund(uow, call.refund_id, result)
        refund = payments.get_refund(uow, call.refund_id)
        uow.session.refresh(refund)
        uow.commit()
    return refund


def settle_refund(uow: UnitOfWork, refund_id: int, result: GatewayResult) -> None:
    get_order(uow, payments.get_refund(uow, refund_id).order_id, for_update=True)
    settled = payments.settle_refund(uow, refund_id, result)
    if settled is not None:
        after_sales.apply_settled_refund(uow, settled)


def retry_stuck_refunds(
    uow_factory: Transactions,
    gateway: PaymentGateway,
    *,
    older_than: timedelta = REFUND_RETRY_AFTER,
    limit: int = 50,
) -> int:
    """Scheduled job: finish refunds left in ``requested`` (crash, gateway down).

    Each refund is retried with its original idempotency key, so the gateway
    refunds once however often this runs. Returns how many refunds settled.
    """
    with uow_factory() as uow:
        stuck = [r.id for r in payments.stuck_refunds(uow, older_than=older_than, limit=limit)]
    settled = 0
    for refund_id in stuck:
        refund = complete_refund(uow_factory, gateway, refund_id)
        if refund.status != payments.RefundStatus.REQUESTED:
            settled += 1
    return settled


# --- notifications ---


def receive_notification(
    uow: UnitOfWork, gateway: PaymentGateway, *, headers: Mapping[str, str], body: bytes
) -> payments.NotificationOutcome:
    """The orders-level handler of a gateway notification, in the caller's unit of work.

    Payments verifies and stores it once per event id; a newly captured
    payment marks the order paid, a newly settled refund updates the order.
    A refund reserved here (capture for a closed order) is left to the retry job.
    """

    def lock_order(order_id: int) -> None:
        get_order(uow, order_id, for_update=True)

    outcome = payments.handle_notification(
        uow, gateway, headers=headers, body=body, lock_order=lock_order
    )
    if outcome.captured is not None:
        apply_capture(uow, outcome.captured)
    if outcome.failed is not None:
        record_timeline(
            uow,
            get_order(uow, outcome.failed.order_id),
            "payment_failed",
            data={"payment_id": outcome.failed.id, "error_code": outcome.failed.error_code},
        )
    if outcome.refund is not None:
        after_sales.apply_settled_refund(uow, outcome.refund)
    return outcome

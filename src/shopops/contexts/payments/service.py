"""Payment and refund records, and the gateway's notifications.

This context never calls the gateway: the orders payment flow does, between
two short transactions, and hands the outcome to these functions. They are
building blocks run inside the flow's units of work; the flow checks
permissions. Refund counters move only through conditional UPDATEs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import case, update
from sqlalchemy.exc import IntegrityError

from shopops.adapters.payments import (
    GatewayResult,
    Operation,
    PaymentGateway,
    ResultStatus,
    SignatureError,
)
from shopops.auth.permissions import Permission
from shopops.contexts.payments import repository
from shopops.contexts.payments.commands import RequestRefund, StartPayment
from shopops.contexts.payments.errors import InvalidSignature, PaymentError
from shopops.contexts.payments.events import (
    PaymentCaptured,
    PaymentFailed,
    RefundFailed,
    RefundIssued,
)
from shopops.contexts.payments.models import (
    OPEN_PAYMENT,
    REFUNDABLE_PAYMENT,
    Payment,
    PaymentNotification,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from shopops.contexts.payments.repository import PaymentFilter, RefundFilter
from shopops.contexts.payments.rules import METHODS, parse_merchant_reference
from shopops.kernel.errors import Conflict, FieldError, NotFound, ValidationFailed
from shopops.uow import UnitOfWork


def _view(payment: Payment) -> dict[str, Any]:
    return {
        "status": payment.status,
        "captured_minor": payment.captured_minor,
        "refunded_minor": payment.refunded_minor,
        "refund_pending_minor": payment.refund_pending_minor,
    }


def get_payment(uow: UnitOfWork, payment_id: int, *, for_update: bool = False) -> Payment:
    payment = repository.get_payment(uow.session, payment_id, for_update=for_update)
    if payment is None:
        raise NotFound(PaymentError.NOT_FOUND, f"payment {payment_id} does not exist")
    return payment


def get_refund(uow: UnitOfWork, refund_id: int, *, for_update: bool = False) -> Refund:
    refund = repository.get_refund(uow.session, refund_id, for_update=for_update)
    if refund is None:
        raise NotFound(PaymentError.REFUND_NOT_FOUND, f"refund {refund_id} does not exist")
    return refund


def payment_detail(uow: UnitOfWork, payment_id: int) -> Payment:
    uow.require(Permission.PAYMENTS_READ)
    return get_payment(uow, payment_id)


def list_payments(uow: UnitOfWork, query: PaymentFilter) -> Sequence[Payment]:
    uow.require(Permission.PAYMENTS_READ)
    return repository.list_payments(uow.session, query)


def list_refunds(uow: UnitOfWork, query: RefundFilter) -> Sequence[Refund]:
    uow.require(Permission.PAYMENTS_READ)
    return repository.list_refunds(uow.session, query)


# --- payments ---


def start_payment(uow: UnitOfWork, command: StartPayment) -> Payment:
    if command.method not in METHODS:
        raise ValidationFailed(
            PaymentError.INVALID_METHOD,
            "unknown payment method",
            errors=[
                FieldError("method", PaymentError.INVALID_METHOD, f"one of: {', '.join(METHODS)}")
            ],
        )
    if command.amount_minor <= 0:
        raise ValidationFailed(PaymentError.INVALID_AMOUNT, "nothing is due on this order")
    payment = Payment(
        order_id=command.order_id,
        amount_minor=command.amount_minor,
        currency=command.currency,
        status=PaymentStatus.PENDING,
        method=command.method,
        gateway=command.gateway,
        idempotency_key=command.idempotency_key,
        captured_minor=0,
        refunded_minor=0,
        refund_pending_minor=0,
        fee_minor=0,
        actor=uow.actor.label,
    )
    uow.session.add(payment)
    uow.session.flush()
    uow.audit("payment.started", "payment", payment.id, after=_view(payment))
    return payment


def record_authorization(uow: UnitOfWork, payment: Payment, result: GatewayResult) -> bool:
    if payment.status != PaymentStatus.PENDING:
        return False
    payment.status = PaymentStatus.AUTHORIZED
    payment.gateway_reference = result.reference
    payment.authorized_at = uow.now()
    return True


def record_capture(
    uow: UnitOfWork, payment: Payment, *, reference: str, amount_minor: int, fee_minor: int
) -> bool:
    """Pending/authorized -> captured; False if it was already settled (idempotent)."""
    if payment.status not in OPEN_PAYMENT:
        return False
    before = _view(payment)
    now = uow.now()
    payment.status = PaymentStatus.CAPTURED
    payment.gateway_reference = reference
    payment.captured_minor = amount_minor
    payment.fee_minor = fee_minor
    payment.captured_at = now
    payment.authorized_at = payment.authorized_at or now
    payment.error_code = payment.error_message = None
    uow.emit(
        PaymentCaptured(
            payment.id,
            payment.order_id,
            amount_minor,
            payment.currency,
            fee_minor,
            payment.gateway,
            reference,
            payment.method,
        )
    )
    uow.audit("payment.captured", "payment", payment.id, before=before, after=_view(payment))
    return True


def record_failure(
    uow: UnitOfWork,
    payment: Payment,
    *,
    error_code: str | None,
    error_message: str | None,
    voided: bool = False,
) -> bool:
    if payment.status not in OPEN_PAYMENT:
        return False
    before = _view(payment)
    payment.status = PaymentStatus.VOIDED if voided else PaymentStatus.FAILED
    payment.error_code = error_code
    payment.error_message = error_message
    if voided:
        payment.voided_at = uow.now()
    else:
        payment.failed_at = uow.now()
    uow.emit(
        PaymentFailed(
            payment.id, payment.order_id, payment.amount_minor, payment.currency, error_code
        )
    )
    uow.audit("payment.failed", "payment", payment.id, before=before, after=_view(payment))
    return True


def note_payment_unavailable(uow: UnitOfWork, payment: Payment, message: str) -> None:
    """The gateway did not answer: the payment stays open; paying again resumes it."""
    payment.error_code = "gateway_unavailable"
    payment.error_message = message[:2000]


# --- refunds ---


def reserve_refund(uow: UnitOfWork, command: RequestRefund) -> Refund:
    """Hold ``amount`` of the payment for a refund, or refuse if it is not captured.

    ``refund_pending + refunded + amount <= captured`` is checked by the UPDATE
    itself, so concurrent refunds can never exceed what was captured.
    """
    if command.amount_minor <= 0:
        raise ValidationFailed(PaymentError.INVALID_AMOUNT, "a refund must be positive")
    amount = command.amount_minor
    held = uow.session.execute(
        update(Payment)
        .where(
            Payment.id == command.payment_id,
            Payment.status.in_(REFUNDABLE_PAYMENT),
            Payment.refund_pending_minor + Payment.refunded_minor + amount
            <= Payment.captured_minor,
        )
        .values(refund_pending_minor=Payment.refund_pending_minor + amount)
        .execution_options(synchronize_session=False)
    )
    payment = get_payment(uow, command.payment_id)
    uow.session.refresh(payment)
    if held.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(
            PaymentError.REFUND_EXCEEDS_CAPTURED,
            f"refund of {amount} exceeds the {payment.refundable_minor} still refundable "
            f"on payment {payment.id}",
            details={"requested_minor": amount, "refundable_minor": payment.refundable_minor},
        )
    refund = Refund(
        payment_id=payment.id,
        order_id=command.order_id,
        return_id=command.return_id,
        amount_minor=amount,
        currency=payment.currency,
        lines=list(command.lines),
        shipping_minor=command.shipping_minor,
        reason=command.reason,
        status=RefundStatus.REQUESTED,
        idempotency_key=command.idempotency_key,
        attempts=0,
        actor=uow.actor.label,
        requested_at=uow.now(),
    )
    uow.session.add(refund)
    uow.session.flush()
    uow.audit(
        "refund.requested",
        "refund",
        refund.id,
        after={
            "payment_id": payment.id,
            "amount_minor": amount,
            "lines": refund.lines,
            "shipping_minor": refund.shipping_minor,
        },
    )
    return refund


def settle_refund(uow: UnitOfWork, refund_id: int, result: GatewayResult) -> Refund | None:
    """Apply the gateway's answer to a requested refund; None if already settled."""
    succeeded = result.ok
    moved = uow.session.execute(
        update(Refund)
        .where(Refund.id == refund_id, Refund.status == RefundStatus.REQUESTED)
        .values(
            status=RefundStatus.SUCCEEDED if succeeded else RefundStatus.FAILED,
            gateway_reference=result.reference,
            error_code=result.error_code,
            error_message=result.error_message,
            completed_at=uow.now(),
            attempts=Refund.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return None
    refund = get_refund(uow, refund_id)
    uow.session.refresh(refund)
    amount = refund.amount_minor
    values: dict[str, Any] = {"refund_pending_minor": Payment.refund_pending_minor - amount}
    if succeeded:
        values["refunded_minor"] = Payment.refunded_minor + amount
        values["status"] = case(
            (
                Payment.refunded_minor + amount >= Payment.captured_minor,
                PaymentStatus.REFUNDED.value,
            ),
            else_=PaymentStatus.PARTIALLY_REFUNDED.value,
        )
    uow.session.execute(
        update(Payment)
        .where(Payment.id == refund.payment_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    uow.session.refresh(get_payment(uow, refund.payment_id))
    event: RefundIssued | RefundFailed
    if succeeded:
        event = RefundIssued(
            refund.id,
            refund.payment_id,
            refund.order_id,
            refund.return_id,
            amount,
            refund.currency,
            refund.reason,
            refund.lines,
            refund.shipping_minor,
        )
    else:
        event = RefundFailed(
            refund.id,
            refund.payment_id,
            refund.order_id,
            refund.return_id,
            amount,
            refund.currency,
            result.error_code,
        )
    uow.emit(event)
    uow.audit(
        "refund.succeeded" if succeeded else "refund.failed",
        "refund",
        refund.id,
        before={"status": RefundStatus.REQUESTED},
        after={"status": refund.status, "gateway_reference": refund.gateway_reference},
    )
    return refund


def note_refund_attempt(uow: UnitOfWork, refund_id: int, message: str) -> None:
    """The gateway did not answer: the refund stays requested for the retry job."""
    uow.session.execute(
        update(Refund)
        .where(Refund.id == refund_id, Refund.status == RefundStatus.REQUESTED)
        .values(
            attempts=Refund.attempts + 1,
            error_code="gateway_unavailable",
            error_message=message[:2000],
        )
        .execution_options(synchronize_session=False)
    )


def stuck_refunds(uow: UnitOfWork, *, older_than: timedelta, limit: int) -> Sequence[Refund]:
    return repository.stuck_refunds(uow.session, uow.now() - older_than, limit)


# --- notifications ---


@dataclass(frozen=True)
class NotificationOutcome:
    """What a notification changed; ``captured``/``refund`` are set only when it did."""

    notification: PaymentNotification
    duplicate: bool = False
    captured: Payment | None = None
    failed: Payment | None = None
    refund: Refund | None = None


LockOrder = Callable[[int], None]


def _no_lock(order_id: int) -> None:
    return None


def handle_notification(
    uow: UnitOfWork,
    gateway: PaymentGateway,
    *,
    headers: Mapping[str, str],
    body: bytes,
    lock_order: LockOrder = _no_lock,
) -> NotificationOutcome:
    """Verify, store once per gateway event id, and apply a gateway notification.

    A bad signature raises ``payments.invalid_signature`` before anything is
    written. A repeated event id returns the stored notification unchanged.
    ``lock_order(order_id)`` runs before any payment or refund row is locked,
    so the caller (the orders context) can keep its lock order.
    """
    try:
        note = gateway.verify_notification(headers, body)
    except SignatureError as exc:
        raise InvalidSignature(
            PaymentError.INVALID_SIGNATURE, f"notification refused: {exc}"
        ) from None
    existing = repository.get_notification(uow.session, gateway.name, note.event_id)
    if existing is not None:
        return NotificationOutcome(existing, duplicate=True)
    row = PaymentNotification(
        gateway=gateway.name,
        event_id=note.event_id,
        event_type=note.event_type,
        payload={"occurred_at": note.occurred_at.isoformat(), "data": note.data},
        signature_valid=True,
        received_at=uow.now(),
    )
    try:
        with uow.session.begin_nested():
            uow.session.add(row)
    except IntegrityError:  # the same event delivered concurrently: the other one wins
        stored = repository.get_notification(uow.session, gateway.name, note.event_id)
        assert stored is not None
        return NotificationOutcome(stored, duplicate=True)
    outcome = _apply(uow, row, gateway.name, note.event_type, note.data, lock_order)
    row.processed_at = uow.now()
    return outcome


def _payment_for(
    uow: UnitOfWork, gateway: str, data: Mapping[str, Any], lock_order: LockOrder
) -> Payment | None:
    ours = parse_merchant_reference(data.get("merchant_reference"))
    payment = None
    if ours is not None and ours[0] == "payment":
        payment = repository.get_payment(uow.session, ours[1])
    elif isinstance(data.get("charge_reference"), str):
        payment = repository.get_payment_by_reference(
            uow.session, gateway, data["charge_reference"]
        )
    if payment is None or payment.gateway != gateway:
        return None
    lock_order(payment.order_id)
    return repository.get_payment(uow.session, payment.id, for_update=True)


def _refund_for(uow: UnitOfWork, data: Mapping[str, Any]) -> Refund | None:
    ours = parse_merchant_reference(data.get("merchant_reference"))
    if ours is not None and ours[0] == "refund":
        return repository.get_refund(uow.session, ours[1])
    if isinstance(data.get("reference"), str):
        return repository.get_refund_by_reference(uow.session, data["reference"])
    return None


def _apply(
    uow: UnitOfWork,
    row: PaymentNotification,
    gateway: str,
    event_type: str,
    data: Mapping[str, Any],
    lock_order: LockOrder,
) -> NotificationOutcome:
    kind, _, what = event_type.partition(".")
    amount = int(data.get("amount_minor") or 0)
    if kind == "payment":
        payment = _payment_for(uow, gateway, data, lock_order)
        if payment is None:
            row.outcome = "unknown_payment"
            return NotificationOutcome(row)
        if what == "captured" and record_capture(
            uow,
            payment,
            reference=str(data.get("charge_reference") or data.get("reference")),
            amount_minor=amount,
            fee_minor=int(data.get("fee_minor") or 0),
        ):
            row.outcome = "captured"
            return NotificationOutcome(row, captured=payment)
        if what in ("failed", "voided") and record_failure(
            uow,
            payment,
            error_code=data.get("error_code"),
            error_message=f"gateway notification {event_type}",
            voided=what == "voided",
        ):
            row.outcome = what
            return NotificationOutcome(row, failed=payment)
        row.outcome = "no_change"
        return NotificationOutcome(row)
    if kind == "refund" and what in ("succeeded", "failed"):
        refund = _refund_for(uow, data)
        if refund is None:
            row.outcome = "unknown_refund"
            return NotificationOutcome(row)
        if amount != refund.amount_minor:
            row.outcome = "amount_mismatch"
            return NotificationOutcome(row)
        lock_order(refund.order_id)
        result = GatewayResult(
            Operation.REFUND,
            ResultStatus.REFUNDED if what == "succeeded" else ResultStatus.FAILED,
            str(data.get("reference")),
            amount,
            refund.currency,
            error_code=data.get("error_code"),
        )
        settled = settle_refund(uow, refund.id, result)
        row.outcome = f"refund_{what}" if settled else "no_change"
        return NotificationOutcome(row, refund=settled)
    row.outcome = "ignored"
    return NotificationOutcome(row)

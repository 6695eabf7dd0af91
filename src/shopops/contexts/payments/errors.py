"""Stable error codes of the payments context."""

from __future__ import annotations

from enum import StrEnum

from shopops.kernel.errors import DomainError, Unavailable


class PaymentError(StrEnum):
    NOT_FOUND = "payments.not_found"
    REFUND_NOT_FOUND = "payments.refund_not_found"
    INVALID_SIGNATURE = "payments.invalid_signature"
    REFUND_EXCEEDS_CAPTURED = "payments.refund_exceeds_captured"
    REFUND_EXCEEDS_LINE = "payments.refund_exceeds_line"
    NOTHING_CAPTURED = "payments.nothing_captured"
    ORDER_NOT_PAYABLE = "payments.order_not_payable"
    ALREADY_PAID = "payments.already_paid"
    INVALID_AMOUNT = "payments.invalid_amount"
    INVALID_METHOD = "payments.invalid_method"
    INVALID_REFUND_LINES = "payments.invalid_refund_lines"
    GATEWAY_UNAVAILABLE = "payments.gateway_unavailable"
    INVALID_DATE = "payments.invalid_date"


class InvalidSignature(DomainError):
    """A gateway notification whose signature does not verify (400)."""

    default_code = PaymentError.INVALID_SIGNATURE


class GatewayUnavailableError(Unavailable):
    """The gateway did not answer (503: retry later); retrying reuses the same idempotency key."""

    default_code = PaymentError.GATEWAY_UNAVAILABLE

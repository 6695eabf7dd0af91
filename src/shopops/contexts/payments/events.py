from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shopops.kernel.events import Event


@dataclass(frozen=True)
class PaymentCaptured(Event):
    event_type = "payment.captured"
    aggregate = "payment"
    id_field = "payment_id"

    payment_id: int
    order_id: int
    amount_minor: int
    currency: str
    fee_minor: int
    gateway: str
    gateway_reference: str | None
    method: str


@dataclass(frozen=True)
class PaymentFailed(Event):
    event_type = "payment.failed"
    aggregate = "payment"
    id_field = "payment_id"

    payment_id: int
    order_id: int
    amount_minor: int
    currency: str
    error_code: str | None


@dataclass(frozen=True)
class RefundIssued(Event):
    event_type = "refund.issued"
    aggregate = "refund"
    id_field = "refund_id"

    refund_id: int
    payment_id: int
    order_id: int
    return_id: int | None
    amount_minor: int
    currency: str
    reason: str
    lines: list[dict[str, Any]]
    shipping_minor: int = 0  # of amount_minor: the shipping fee given back


@dataclass(frozen=True)
class RefundFailed(Event):
    event_type = "refund.failed"
    aggregate = "refund"
    id_field = "refund_id"

    refund_id: int
    payment_id: int
    order_id: int
    return_id: int | None
    amount_minor: int
    currency: str
    error_code: str | None

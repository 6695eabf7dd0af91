"""Payment, refund and settlement bodies. Money is a decimal string plus its currency."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from shopops.contexts import orders, payments
from shopops.kernel.money import to_major, to_minor


def amount(minor: int, currency: str) -> str:
    return str(to_major(minor, currency))


class PaymentCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"method": "card", "source": "tok_visa"}]}
    )

    method: str = Field(
        default="card", description=f"One of {', '.join(f'`{m}`' for m in payments.METHODS)}."
    )
    source: str = Field(
        default="tok_visa",
        max_length=100,
        description="The gateway's card or wallet token. Sandbox: `tok_declined` is declined.",
    )


class PaymentRead(BaseModel):
    id: int
    order_id: int
    status: str = Field(
        description="pending, authorized, captured, voided, failed, partially_refunded, refunded"
    )
    method: str
    gateway: str
    gateway_reference: str | None
    currency: str
    amount: str
    captured: str
    refunded: str
    refund_pending: str
    fee: str
    error_code: str | None
    error_message: str | None
    created_at: datetime
    captured_at: datetime | None
    failed_at: datetime | None

    @classmethod
    def of(cls, p: payments.Payment) -> PaymentRead:
        c = p.currency
        return cls(
            id=p.id,
            order_id=p.order_id,
            status=p.status,
            method=p.method,
            gateway=p.gateway,
            gateway_reference=p.gateway_reference,
            currency=c,
            amount=amount(p.amount_minor, c),
            captured=amount(p.captured_minor, c),
            refunded=amount(p.refunded_minor, c),
            refund_pending=amount(p.refund_pending_minor, c),
            fee=amount(p.fee_minor, c),
            error_code=p.error_code,
            error_message=p.error_message,
            created_at=p.created_at,
            captured_at=p.captured_at,
            failed_at=p.failed_at,
        )


class RefundLineCreate(BaseModel):
    order_line_id: int
    amount: str = Field(examples=["12.50"], description="In the order's currency.")


class RefundCreate(BaseModel):
    """Send `amount` (split across the lines in proportion) or `lines`, not both."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"amount": "10.00", "reason": "late delivery"},
                {"lines": [{"order_line_id": 12, "amount": "19.99"}], "reason": "damaged"},
            ]
        }
    )

    amount: str | None = Field(default=None, examples=["10.00"])
    lines: list[RefundLineCreate] | None = Field(default=None, max_length=500)
    reason: str = Field(min_length=1, max_length=2000)


class RefundLineRead(BaseModel):
    order_line_id: int
    amount: str


class RefundRead(BaseModel):
    id: int
    payment_id: int
    order_id: int
    return_id: int | None
    status: str = Field(description="requested, succeeded or failed")
    currency: str
    amount: str
    lines: list[RefundLineRead]
    shipping: str = Field(description="the part of the amount that gives the shipping fee back")
    reason: str
    gateway_reference: str | None
    error_code: str | None
    attempts: int
    requested_at: datetime
    completed_at: datetime | None

    @classmethod
    def of(cls, r: payments.Refund) -> RefundRead:
        c = r.currency
        return cls(
            id=r.id,
            payment_id=r.payment_id,
            order_id=r.order_id,
            return_id=r.return_id,
            status=r.status,
            currency=c,
            amount=amount(r.amount_minor, c),
            lines=[
                RefundLineRead(
                    order_line_id=int(part["order_line_id"]),
                    amount=amount(int(part["amount_minor"]), c),
                )
                for part in r.lines
            ],
            shipping=amount(r.shipping_minor, c),
            reason=r.reason,
            gateway_reference=r.gateway_reference,
            error_code=r.error_code,
            attempts=r.attempts,
            requested_at=r.requested_at,
            completed_at=r.completed_at,
        )


class SettlementTotalsRead(BaseModel):
    currency: str
    captured: str
    refunded: str
    fees: str
    net: str = Field(description="captured - refunded - fees")
    payments: int
    refunds: int


class MismatchRead(BaseModel):
    code: str = Field(examples=["refunded_differs_from_order"])
    message: str
    order_id: int | None
    order_number: str | None
    payment_id: int | None
    refund_id: int | None
    currency: str
    expected: str | None
    actual: str | None


class SettlementRead(BaseModel):
    date: date
    timezone: str = Field(description="The store time zone that defines the business day.")
    start: datetime
    end: datetime
    totals: list[SettlementTotalsRead]
    mismatches: list[MismatchRead]

    @classmethod
    def of(cls, report: orders.SettlementReport) -> SettlementRead:
        return cls(
            date=report.day,
            timezone=report.timezone,
            start=report.start,
            end=report.end,
            totals=[
                SettlementTotalsRead(
                    currency=t.currency,
                    captured=amount(t.captured_minor, t.currency),
                    refunded=amount(t.refunded_minor, t.currency),
                    fees=amount(t.fees_minor, t.currency),
                    net=amount(t.net_minor, t.currency),
                    payments=t.payments,
                    refunds=t.refunds,
                )
                for t in report.totals
            ],
            mismatches=[
                MismatchRead(
                    code=m.code,
                    message=m.message,
                    order_id=m.order_id,
                    order_number=m.order_number,
                    payment_id=m.payment_id,
                    refund_id=m.refund_id,
                    currency=m.currency,
                    expected=_maybe(m.expected_minor, m.currency),
                    actual=_maybe(m.actual_minor, m.currency),
                )
                for m in report.mismatches
            ],
        )


def _maybe(minor: int | None, currency: str) -> str | None:
    return None if minor is None else amount(minor, currency)


class NotificationAck(BaseModel):
    status: str = Field(description="`processed` or `duplicate` (already received)")
    event_id: str
    outcome: str | None

    @classmethod
    def of(cls, outcome: payments.NotificationOutcome) -> NotificationAck:
        return cls(
            status="duplicate" if outcome.duplicate else "processed",
            event_id=outcome.notification.event_id,
            outcome=outcome.notification.outcome,
        )


def minor_lines(lines: list[RefundLineCreate] | None, currency: str) -> dict[int, int] | None:
    """Per-line decimal amounts to minor units (summed if a line repeats)."""
    if lines is None:
        return None
    result: dict[int, int] = {}
    for line in lines:
        minor = to_minor(line.amount, currency)
        result[line.order_line_id] = result.get(line.order_line_id, 0) + minor
    return result

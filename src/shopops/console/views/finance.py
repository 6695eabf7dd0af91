"""What the finance page shows: the daily settlement over a date range, payments, refunds.

The settlement comes from the orders context's report (every business day of the range,
in the store time zone); the payment and refund lists read the payments tables
newest first, with the order number beside each row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from shopops.console.i18n import N_
from shopops.contexts import orders, payments
from shopops.kernel.time import Clock
from shopops.uow import UnitOfWork

DEFAULT_DAYS = 7
MAX_DAYS = 62
PAGE_SIZE = 20

PAYMENT_STATUSES: dict[str, str] = {
    payments.PaymentStatus.PENDING: N_("Pending"),
    payments.PaymentStatus.AUTHORIZED: N_("Authorized"),
    payments.PaymentStatus.CAPTURED: N_("Captured"),
    payments.PaymentStatus.VOIDED: N_("Voided"),
    payments.PaymentStatus.FAILED: N_("Failed"),
    payments.PaymentStatus.PARTIALLY_REFUNDED: N_("Partially refunded"),
    payments.PaymentStatus.REFUNDED: N_("Refunded"),
}
REFUND_STATUSES: dict[str, str] = {
    payments.RefundStatus.REQUESTED: N_("Waiting for the gateway"),
    payments.RefundStatus.SUCCEEDED: N_("Succeeded"),
    payments.RefundStatus.FAILED: N_("Failed"),
}
STATUS_TONE: dict[str, str] = {
    "captured": "good",
    "succeeded": "good",
    "partially_refunded": "warn",
    "refunded": "warn",
    "requested": "warn",
    "pending": "",
    "authorized": "",
    "failed": "bad",
    "voided": "bad",
}
MISMATCHES: dict[str, str] = {
    "payment_for_missing_order": N_("Payment for an order that does not exist"),
    "paid_without_capture": N_("Order paid but no payment captured"),
    "captured_differs_from_order": N_("Captured payments differ from the order's captured amount"),
    "captured_differs_from_total": N_("Captured payments differ from the order total"),
    "captured_on_ended_order": N_("Money kept on a cancelled or closed order"),
    "refunded_differs_from_order": N_("Refunds differ from the order's refunded amount"),
    "line_refunds_differ_from_order": N_("Line refunds do not add up to the order's"),
    "payment_refunds_differ": N_("A payment's refunds do not add up"),
    "refund_not_settled": N_("Refund still waiting for the gateway"),
}


def store_today(clock: Clock, timezone: str) -> date:
    return clock.now().astimezone(ZoneInfo(timezone)).date()


def default_range(today: date) -> tuple[date, date]:
    return today - timedelta(days=DEFAULT_DAYS - 1), today


@dataclass(frozen=True)
class DayRow:
    """One business day in one currency (days without money moved have no row)."""

    day: date
    totals: orders.CurrencyTotals


@dataclass
class Totals:
    currency: str
    captured_minor: int = 0
    refunded_minor: int = 0
    fees_minor: int = 0
    net_minor: int = 0
    payments: int = 0
    refunds: int = 0

    def add(self, day: orders.CurrencyTotals) -> None:
        self.captured_minor += day.captured_minor
        self.refunded_minor += day.refunded_minor
        self.fees_minor += day.fees_minor
        self.net_minor += day.net_minor
        self.payments += day.payments
        self.refunds += day.refunds


@dataclass(frozen=True)
class DayMismatch:
    day: date
    mismatch: orders.Mismatch

    @property
    def label(self) -> str:
        return MISMATCHES.get(self.mismatch.code, self.mismatch.code)


@dataclass
class SettlementView:
    first: date
    last: date
    timezone: str
    days: list[DayRow] = field(default_factory=list)
    totals: list[Totals] = field(default_factory=list)
    mismatches: list[DayMismatch] = field(default_factory=list)
    chart_labels: list[str] = field(default_factory=list)
    chart_net: list[int] = field(default_factory=list)
    chart_payments: list[int] = field(default_factory=list)
    chart_currency: str | None = None


def read_settlement(uow: UnitOfWork, first: date, last: date) -> SettlementView:
    """The settlement report of every day from ``first`` to ``last`` (both included)."""
    timezone = str(getattr(uow.settings, "store_timezone", "UTC") or "UTC")
    view = SettlementView(first, last, timezone)
    by_currency: dict[str, Totals] = {}
    per_day: list[tuple[date, list[orders.CurrencyTotals]]] = []
    for report in orders.settlement_reports(uow, first, last):
        day = report.day
        per_day.append((day, report.totals))
        for totals in report.totals:
            view.days.append(DayRow(day, totals))
            by_currency.setdefault(totals.currency, Totals(totals.currency)).add(totals)
        view.mismatches.extend(DayMismatch(day, m) for m in report.mismatches)
    view.totals = [by_currency[c] for c in sorted(by_currency)]
    if len(view.totals) == 1:  # a chart only when the figures share one currency
        currency = view.totals[0].currency
        view.chart_currency = currency
        for when, figures in per_day:
            mine = next((t for t in figures if t.currency == currency), None)
            view.chart_labels.append(when.isoformat())
            view.chart_net.append(mine.net_minor if mine else 0)
            view.chart_payments.append(mine.payments if mine else 0)
    return view


@dataclass(frozen=True)
class PaymentRow:
    id: int
    order_id: int
    order_number: str | None
    status: str
    method: str
    currency: str
    amount_minor: int
    captured_minor: int
    refunded_minor: int
    fee_minor: int
    error_code: str | None
    moment: datetime  # when it was captured, failed or voided (or started)


@dataclass(frozen=True)
class RefundRow:
    id: int
    order_id: int
    order_number: str | None
    payment_id: int
    status: str
    currency: str
    amount_minor: int
    reason: str
    error_code: str | None
    requested_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True)
class ListPage:
    rows: list[PaymentRow] | list[RefundRow]
    status: str
    older: int | None  # pass as ``before`` for the next page


def recent_payments(
    uow: UnitOfWork, *, status: str | None, before: int | None, limit: int | None = None
) -> ListPage:
    uow.require("payments.read")
    limit = limit or PAGE_SIZE
    Payment, Order = payments.Payment, orders.Order
    stmt = (
        select(Payment, Order.number)
        .join(Order, Order.id == Payment.order_id, isouter=True)
        .order_by(Payment.id.desc())
        .limit(limit + 1)
    )
    if status:
        stmt = stmt.where(Payment.status == status)
    if before is not None:
        stmt = stmt.where(Payment.id < before)
    found = uow.session.execute(stmt).all()
    rows = [
        PaymentRow(
            p.id,
            p.order_id,
            number,
            p.status,
            p.method,
            p.currency,
            p.amount_minor,
            p.captured_minor,
            p.refunded_minor,
            p.fee_minor,
            p.error_code,
            p.captured_at or p.failed_at or p.voided_at or p.authorized_at or p.created_at,
        )
        for p, number in found[:limit]
    ]
    older = rows[-1].id if len(found) > limit else None
    return ListPage(rows, status or "", older)


def recent_refunds(
    uow: UnitOfWork, *, status: str | None, before: int | None, limit: int | None = None
) -> ListPage:
    uow.require("payments.read")
    limit = limit or PAGE_SIZE
    Refund, Order = payments.Refund, orders.Order
    stmt = (
        select(Refund, Order.number)
        .join(Order, Order.id == Refund.order_id, isouter=True)
        .order_by(Refund.id.desc())
        .limit(limit + 1)
    )
    if status:
        stmt = stmt.where(Refund.status == status)
    if before is not None:
        stmt = stmt.where(Refund.id < before)
    found = uow.session.execute(stmt).all()
    rows = [
        RefundRow(
            r.id,
            r.order_id,
            number,
            r.payment_id,
            r.status,
            r.currency,
            r.amount_minor,
            r.reason,
            r.error_code,
            r.requested_at,
            r.completed_at,
        )
        for r, number in found[:limit]
    ]
    older = rows[-1].id if len(found) > limit else None
    return ListPage(rows, status or "", older)

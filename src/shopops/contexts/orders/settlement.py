"""The daily settlement report: money moved by the gateway, reconciled with orders.

It lives in the orders context because reconciliation compares both sides and
orders sits above payments: it may read payments through the payments public
surface, while payments must never know the orders tables. (The alternative —
payments reading ``orders`` through a read-only table reference — would make a
lower context depend on a higher one's schema.)

A business day is a calendar day in the store time zone (``store_timezone``),
turned into a half-open UTC range. Totals per currency: captured (payments
captured that day), refunded (refunds that succeeded that day), gateway fees
(on that day's captures), net = captured - refunded - fees. Reconciliation
checks every order touched that day (captured, refunded, refund requested,
paid, cancelled or closed) and lists each mismatch.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shopops.auth.permissions import Permission
from shopops.contexts import payments
from shopops.contexts.orders import repository
from shopops.contexts.orders.models import Order
from shopops.contexts.orders.rules import DEPOSIT_PAID, OrderStatus
from shopops.kernel.errors import ValidationFailed
from shopops.uow import UnitOfWork

_ENDED = (OrderStatus.CANCELLED, OrderStatus.CLOSED)
_PAID_STATES = ("paid", "partially_refunded", "refunded")
_CHUNK = 1000  # orders reconciled per round of queries (bounded IN lists and memory)
_CHECKED_COLUMNS = (  # what _check_order reads of an order
    Order.number,
    Order.currency,
    Order.status,
    Order.payment_status,
    Order.paid_at,
    Order.total_minor,
    Order.deposit_minor,
    Order.captured_minor,
    Order.refunded_minor,
    Order.shipping_refunded_minor,
    Order.forfeited_minor,
)


@dataclass(frozen=True)
class CurrencyTotals:
    currency: str
    captured_minor: int
    refunded_minor: int
    fees_minor: int
    net_minor: int
    payments: int
    refunds: int


@dataclass(frozen=True)
class Mismatch:
    code: str
    message: str
    order_id: int | None
    currency: str
    order_number: str | None = None
    payment_id: int | None = None
    refund_id: int | None = None
    expected_minor: int | None = None
    actual_minor: int | None = None


@dataclass(frozen=True)
class SettlementReport:
    day: date
    timezone: str
    start: datetime
    end: datetime
    totals: list[CurrencyTotals]
    mismatches: list[Mismatch]


def day_range(day: date, timezone: str) -> tuple[datetime, datetime]:
    """The UTC instants where ``day`` starts and ends in ``timezone`` (DST-safe)."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            payments.PaymentError.INVALID_DATE, f"unknown time zone '{timezone}'"
        ) from None
    start = datetime.combine(day, time.min, zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time.min, zone).astimezone(UTC)
    return start, end


def settlement_report(uow: UnitOfWork, day: date) -> SettlementReport:
    return settlement_reports(uow, day, day)[0]


def settlement_reports(uow: UnitOfWork, first: date, last: date) -> list[SettlementReport]:
    """The report of every day from ``first`` to ``last`` (both included).

    One round of queries covers the whole range (a week is one query per table, not
    seven), then rows are sorted into their business days; an order touched on two
    days is reconciled once and its mismatches are listed on both days, as the
    single-day report of each day would list them.
    """
    uow.require(Permission.PAYMENTS_READ)
    timezone = str(getattr(uow.settings, "store_timezone", "UTC") or "UTC")
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    bounds = [day_range(day, timezone) for day in days]
    starts = [start for start, _ in bounds]
    session = uow.session
    start, end = bounds[0][0], bounds[-1][1]

    def day_of(moment: datetime) -> int:
        return bisect_right(starts, moment.astimezone(UTC)) - 1

    captured: list[list[payments.Payment]] = [[] for _ in days]
    refunded: list[list[payments.Refund]] = [[] for _ in days]
    touched: list[set[int]] = [set() for _ in days]
    for payment in payments.captured_between(session, start, end):
        assert payment.captured_at is not None
        captured[day_of(payment.captured_at)].append(payment)
        touched[day_of(payment.captured_at)].add(payment.order_id)
    for refund in payments.refunds_completed_between(session, start, end):
        assert refund.completed_at is not None
        refunded[day_of(refund.completed_at)].append(refund)
        touched[day_of(refund.completed_at)].add(refund.order_id)
    for refund in payments.refunds_requested_between(session, start, end):
        touched[day_of(refund.requested_at)].add(refund.order_id)
    for order_id, moment in repository.paid_or_ended_between(session, start, end):
        touched[day_of(moment)].add(order_id)
    by_order: dict[int | None, list[Mismatch]] = defaultdict(list)
    for mismatch in reconcile(uow, set().union(*touched)):
        by_order[mismatch.order_id].append(mismatch)
    return [
        SettlementReport(
            day=day,
            timezone=timezone,
            start=day_start,
            end=day_end,
            totals=_totals(captured[n], refunded[n]),
            mismatches=[m for order_id in sorted(touched[n]) for m in by_order[order_id]],
        )
        for n, (day, (day_start, day_end)) in enumerate(zip(days, bounds, strict=True))
    ]


def _totals(
    captured: Sequence[payments.Payment], refunded: Sequence[payments.Refund]
) -> list[CurrencyTotals]:
    currencies = sorted({p.currency for p in captured} | {r.currency for r in refunded})
    totals = []
    for currency in currencies:
        mine = [p for p in captured if p.currency == currency]
        back = [r for r in refunded if r.currency == currency]
        gross = sum(p.captured_minor for p in mine)
        refunds = sum(r.amount_minor for r in back)
        fees = sum(p.fee_minor for p in mine)
        totals.append(
            CurrencyTotals(
                currency, gross, refunds, fees, gross - refunds - fees, len(mine), len(back)
            )
        )
    return totals


def reconcile(uow: UnitOfWork, order_ids: set[int]) -> list[Mismatch]:
    """Every disagreement between orders, their lines, payments and refunds."""
    found: list[Mismatch] = []
    ordered = sorted(order_ids)
    for start in range(0, len(ordered), _CHUNK):
        found.extend(_reconcile_chunk(uow, ordered[start : start + _CHUNK]))
    return found


def _reconcile_chunk(uow: UnitOfWork, order_ids: list[int]) -> list[Mismatch]:
    session = uow.session
    orders = repository.get_many(session, order_ids, only=_CHECKED_COLUMNS)
    line_refunds = repository.line_refunds_of_orders(session, order_ids)
    by_order: dict[int, list[payments.Payment]] = defaultdict(list)
    for payment in payments.payments_of_orders(session, order_ids):
        by_order[payment.order_id].append(payment)
    refunds_by_order: dict[int, list[payments.Refund]] = defaultdict(list)
    for refund in payments.refunds_of_orders(session, order_ids):
        refunds_by_order[refund.order_id].append(refund)
    found: list[Mismatch] = []
    for order_id in order_ids:
        order = orders.get(order_id)
        mine = by_order[order_id]
        refunds = refunds_by_order[order_id]
        if order is None:
            found.extend(
                Mismatch(
                    "payment_for_missing_order",
                    f"payment {p.id} belongs to order {order_id}, which does not exist",
                    order_id,
                    p.currency,
                    payment_id=p.id,
                )
                for p in mine
            )
            continue
        found.extend(_check_order(order, line_refunds.get(order_id, 0), mine, refunds))
    return found


def _check_order(
    order: Order,
    line_refunds: int,
    mine: Sequence[payments.Payment],
    refunds: Sequence[payments.Refund],
) -> list[Mismatch]:
    found: list[Mismatch] = []

    def add(
        code: str,
        message: str,
        *,
        payment_id: int | None = None,
        refund_id: int | None = None,
        expected_minor: int | None = None,
        actual_minor: int | None = None,
    ) -> None:
        found.append(
            Mismatch(
                code,
                message,
                order.id,
                order.currency,
                order.number,
                payment_id,
                refund_id,
                expected_minor,
                actual_minor,
            )
        )

    captured = sum(p.captured_minor for p in mine if p.status in payments.CAPTURED_PAYMENT)
    succeeded = [r for r in refunds if r.status == payments.RefundStatus.SUCCEEDED]
    refunded = sum(r.amount_minor for r in succeeded)
    if (order.payment_status in _PAID_STATES or order.paid_at is not None) and captured == 0:
        add("paid_without_capture", "the order is paid but no payment was captured")
    if captured != order.captured_minor:
        add(
            "captured_differs_from_order",
            "captured payments do not match the order's captured amount",
            expected_minor=order.captured_minor,
            actual_minor=captured,
        )
    # A two-step order holds only its deposit until the balance is paid.
    due = order.deposit_minor if order.payment_status == DEPOSIT_PAID else order.total_minor
    if order.status not in _ENDED and captured and captured != due:
        add(
            "captured_differs_from_total",
            "captured payments do not match the order total",
            expected_minor=due,
            actual_minor=captured,
        )
    # A forfeited deposit is kept on purpose; anything else kept on an ended order is not.
    if order.status in _ENDED and captured - refunded > order.forfeited_minor:
        add(
            "captured_on_ended_order",
            f"the order is {order.status} but {captured - refunded} captured is not refunded",
            expected_minor=order.forfeited_minor,
            actual_minor=captured - refunded,
        )
    if refunded != order.refunded_minor:
        add(
            "refunded_differs_from_order",
            "succeeded refunds do not match the order's refunded amount",
            expected_minor=order.refunded_minor,
            actual_minor=refunded,
        )
    if line_refunds + order.shipping_refunded_minor != order.refunded_minor:
        add(
            "line_refunds_differ_from_order",
            "the lines' refunded amounts and the shipping given back do not add up to the order's",
            expected_minor=order.refunded_minor - order.shipping_refunded_minor,
            actual_minor=line_refunds,
        )
    for payment in mine:
        of_payment = sum(r.amount_minor for r in succeeded if r.payment_id == payment.id)
        if of_payment != payment.refunded_minor:
            add(
                "payment_refunds_differ",
                f"payment {payment.id} records {payment.refunded_minor} refunded, "
                f"its refunds add up to {of_payment}",
                payment_id=payment.id,
                expected_minor=payment.refunded_minor,
                actual_minor=of_payment,
            )
    for refund in refunds:
        if refund.status == payments.RefundStatus.REQUESTED:
            add(
                "refund_not_settled",
                f"refund {refund.id} is still waiting for the gateway",
                refund_id=refund.id,
                actual_minor=refund.amount_minor,
            )
    return found

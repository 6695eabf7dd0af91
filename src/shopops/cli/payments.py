"""payments: list, pay (sandbox), refund, refunds, settlement, retry-refunds.

Gateway calls happen outside database transactions, exactly as in the API.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import date, timedelta
from typing import Any

import typer

from shopops.cli.context import OutputFormat, console, emit_rows, state
from shopops.contexts import orders, payments
from shopops.kernel.events import jsonable
from shopops.kernel.money import to_major, to_minor

payments_app = typer.Typer(
    help="Payments: charges, refunds and the daily settlement.", no_args_is_help=True
)

FORMAT = typer.Option(OutputFormat.TABLE, "--format", help="table, csv or json.")
PAYMENT_HEADERS = ["id", "order_id", "status", "method", "currency", "amount", "captured"]
PAYMENT_HEADERS += ["refunded", "fee", "gateway_reference", "error_code", "captured_at"]
REFUND_HEADERS = ["id", "order_id", "payment_id", "status", "currency", "amount", "reason"]
REFUND_HEADERS += ["return_id", "gateway_reference", "error_code", "requested_at", "completed_at"]


def _money(minor: int, currency: str) -> str:
    return str(to_major(minor, currency))


def _payment_row(p: payments.Payment) -> list[Any]:
    c = p.currency
    return [
        p.id,
        p.order_id,
        p.status,
        p.method,
        c,
        _money(p.amount_minor, c),
        _money(p.captured_minor, c),
        _money(p.refunded_minor, c),
        _money(p.fee_minor, c),
        p.gateway_reference,
        p.error_code,
        p.captured_at,
    ]


def _refund_row(r: payments.Refund) -> list[Any]:
    return [
        r.id,
        r.order_id,
        r.payment_id,
        r.status,
        r.currency,
        _money(r.amount_minor, r.currency),
        r.reason,
        r.return_id,
        r.gateway_reference,
        r.error_code,
        r.requested_at,
        r.completed_at,
    ]


@payments_app.command("list")
def list_payments(
    order: int | None = typer.Option(None, "--order", help="Only this order's payments."),
    status: str | None = typer.Option(None, help="e.g. captured, failed, refunded."),
    limit: int = typer.Option(100, min=1, max=500),
    fmt: OutputFormat = FORMAT,
) -> None:
    """Payments, oldest first."""
    with state.uow() as uow:
        rows = payments.list_payments(uow, payments.PaymentFilter(order, status, limit=limit))
        emit_rows([_payment_row(p) for p in rows], PAYMENT_HEADERS, fmt, "Payments")


@payments_app.command("pay")
def pay(
    order_id: int,
    method: str = typer.Option("card", help=", ".join(payments.METHODS)),
    source: str = typer.Option("tok_visa", help="Gateway token (sandbox: tok_declined declines)."),
) -> None:
    """Charge what is due on a pending order through the configured gateway."""
    payment = orders.pay_order(
        state.uow, state.container.payment_gateway, order_id=order_id, method=method, source=source
    )
    amount = _money(payment.amount_minor, payment.currency)
    if payment.status == payments.PaymentStatus.CAPTURED:
        console.print(f"payment {payment.id}: captured {amount} {payment.currency}")
        return
    console.print(f"payment {payment.id}: {payment.status} ({payment.error_code})")
    raise typer.Exit(1)


def _line_amounts(lines: list[str], currency: str) -> dict[int, int] | None:
    if not lines:
        return None
    result: dict[int, int] = {}
    for item in lines:
        line_id, sep, value = item.partition("=")
        if not sep or not line_id.strip().isdigit():
            raise typer.BadParameter(f"'{item}': use LINE_ID=AMOUNT, e.g. 12=19.99")
        result[int(line_id)] = result.get(int(line_id), 0) + to_minor(value, currency)
    return result


@payments_app.command("refund")
def refund(
    order_id: int,
    reason: str = typer.Option(..., help="Why the money goes back (on the timeline)."),
    amount: str | None = typer.Option(None, help="Amount, split across the lines (e.g. 10.00)."),
    line: list[str] = typer.Option([], "--line", help="LINE_ID=AMOUNT; repeat for several."),
) -> None:
    """Refund part or all of what an order's payment captured (never more)."""
    with state.uow() as uow:
        currency = orders.get_order(uow, order_id).currency
    result = orders.refund_order(
        state.uow,
        state.container.payment_gateway,
        order_id=order_id,
        reason=reason,
        amount_minor=None if amount is None else to_minor(amount, currency),
        line_amounts=_line_amounts(line, currency),
    )
    console.print(
        f"refund {result.id}: {result.status} {_money(result.amount_minor, currency)} {currency}"
        + (f" ({result.error_code})" if result.error_code else "")
    )
    if result.status == payments.RefundStatus.FAILED:
        raise typer.Exit(1)


@payments_app.command("refunds")
def list_refunds(
    order: int | None = typer.Option(None, "--order", help="Only this order's refunds."),
    status: str | None = typer.Option(None, help="requested, succeeded or failed."),
    limit: int = typer.Option(100, min=1, max=500),
    fmt: OutputFormat = FORMAT,
) -> None:
    """Refunds, oldest first."""
    with state.uow() as uow:
        rows = payments.list_refunds(uow, payments.RefundFilter(order, status, limit=limit))
        emit_rows([_refund_row(r) for r in rows], REFUND_HEADERS, fmt, "Refunds")


@payments_app.command("settlement")
def settlement(
    day: str = typer.Argument(..., metavar="DATE", help="Business day, YYYY-MM-DD."),
    fmt: OutputFormat = FORMAT,
    strict: bool = typer.Option(False, "--strict", help="Exit 2 when there are mismatches."),
) -> None:
    """Captured, refunded, fees and net per currency for one day, and every mismatch."""
    try:
        business_day = date.fromisoformat(day)
    except ValueError:
        raise typer.BadParameter(f"'{day}' is not a date like 2026-03-10") from None
    with state.uow() as uow:
        report = orders.settlement_report(uow, business_day)
    if fmt == OutputFormat.JSON:
        sys.stdout.write(json.dumps(jsonable(dataclasses.asdict(report)), indent=2) + "\n")
    else:
        totals = [
            [
                t.currency,
                *(
                    _money(v, t.currency)
                    for v in (t.captured_minor, t.refunded_minor, t.fees_minor, t.net_minor)
                ),
                t.payments,
                t.refunds,
            ]
            for t in report.totals
        ]
        headers = ["currency", "captured", "refunded", "fees", "net", "payments", "refunds"]
        emit_rows(totals, headers, fmt, f"Settlement {report.day} ({report.timezone})")
        if fmt == OutputFormat.CSV:
            sys.stdout.write("\n")
        mismatches = [
            [
                m.code,
                m.order_id,
                m.order_number,
                m.payment_id,
                m.refund_id,
                m.currency,
                None if m.expected_minor is None else _money(m.expected_minor, m.currency),
                None if m.actual_minor is None else _money(m.actual_minor, m.currency),
                m.message,
            ]
            for m in report.mismatches
        ]
        headers = ["code", "order_id", "order_number", "payment_id", "refund_id", "currency"]
        headers += ["expected", "actual", "message"]
        emit_rows(mismatches, headers, fmt, "Mismatches")
    if strict and report.mismatches:
        raise typer.Exit(2)


@payments_app.command("retry-refunds")
def retry_refunds(
    older_than: int = typer.Option(120, help="Only refunds requested this many seconds ago."),
) -> None:
    """Finish refunds stuck in `requested` now (the worker does this every minute)."""
    settled = orders.retry_stuck_refunds(
        state.uow, state.container.payment_gateway, older_than=timedelta(seconds=older_than)
    )
    console.print(f"{settled} refund(s) settled")

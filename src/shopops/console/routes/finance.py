"""Finance: the daily settlement over a date range, recent payments and refunds.

Everything here needs ``payments.read``, as the payments API does.
"""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from shopops.auth.permissions import Permission
from shopops.console.forms import FormErrors, parse_date, parse_int
from shopops.console.guards import Staff, staff
from shopops.console.templating import is_htmx, render
from shopops.console.views.finance import (
    MAX_DAYS,
    PAYMENT_STATUSES,
    REFUND_STATUSES,
    STATUS_TONE,
    ListPage,
    default_range,
    read_settlement,
    recent_payments,
    recent_refunds,
    store_today,
)

router = APIRouter(include_in_schema=False)

READ = Depends(staff(Permission.PAYMENTS_READ))


def _range(
    errors: FormErrors, start: str | None, end: str | None, today: date
) -> tuple[date, date]:
    """The chosen days (both included); the default week when anything is wrong."""
    first = parse_date(errors, "from", start)
    last = parse_date(errors, "to", end)
    if errors:
        return default_range(today)
    if first is None and last is None:
        return default_range(today)
    if last is None:
        last = max(today, first) if first else today
    if first is None:
        first = last - timedelta(days=6)
    if last < first:
        errors.add("to", "validation.reversed_range")
    elif (last - first).days + 1 > MAX_DAYS:
        errors.add("from", "finance.range_too_long")
    if errors:
        return default_range(today)
    return first, last


def _list_status(errors: FormErrors, raw: str | None, known: dict[str, str]) -> str | None:
    if not raw:
        return None
    if raw not in known:
        errors.add("status", "validation.invalid")
        return None
    return raw


@router.get("/finance")
def finance(
    request: Request,
    start: str | None = Query(None, alias="from"),
    end: str | None = Query(None, alias="to"),
    current: Staff = READ,
) -> Response:
    settings = current.container.settings
    today = store_today(current.container.clock, settings.store_timezone)
    errors = FormErrors()
    first, last = _range(errors, start, end, today)
    with current.uow() as uow:
        report = read_settlement(uow, first, last)
        paid = None if is_htmx(request) else recent_payments(uow, status=None, before=None)
        refunded = None if is_htmx(request) else recent_refunds(uow, status=None, before=None)
    return render(
        request,
        "finance/report.html" if is_htmx(request) else "finance/index.html",
        status_code=422 if errors else 200,
        report=report,
        errors=errors,
        # what was typed when it is wrong (to correct it), else the days shown
        form={
            "from": (start or "") if errors else first.isoformat(),
            "to": (end or "") if errors else last.isoformat(),
        },
        payments=paid,
        refunds=refunded,
        list_errors=FormErrors(),
        payment_statuses=PAYMENT_STATUSES,
        refund_statuses=REFUND_STATUSES,
        tone=STATUS_TONE,
        max_days=MAX_DAYS,
    )


def _list(
    request: Request,
    current: Staff,
    kind: str,
    status: str | None,
    before: str | None,
) -> Response:
    known = PAYMENT_STATUSES if kind == "payments" else REFUND_STATUSES
    errors = FormErrors()
    chosen = _list_status(errors, status, known)
    older = parse_int(errors, "before", before, minimum=1, required=False)
    with current.uow() as uow:
        read = recent_payments if kind == "payments" else recent_refunds
        page: ListPage = read(
            uow, status=None if errors else chosen, before=None if errors else older
        )
    template = f"finance/{kind}.html" if is_htmx(request) else "finance/list.html"
    return render(
        request,
        template,
        status_code=422 if errors else 200,
        kind=kind,
        payments=page if kind == "payments" else None,
        refunds=page if kind == "refunds" else None,
        list_errors=errors,
        payment_statuses=PAYMENT_STATUSES,
        refund_statuses=REFUND_STATUSES,
        tone=STATUS_TONE,
    )


@router.get("/finance/payments")
def payment_list(
    request: Request,
    status: str | None = None,
    before: str | None = None,
    current: Staff = READ,
) -> Response:
    """Payments, newest first (the htmx partial of the page's payments card)."""
    return _list(request, current, "payments", status, before)


@router.get("/finance/refunds")
def refund_list(
    request: Request,
    status: str | None = None,
    before: str | None = None,
    current: Staff = READ,
) -> Response:
    """Refunds, newest first (the htmx partial of the page's refunds card)."""
    return _list(request, current, "refunds", status, before)

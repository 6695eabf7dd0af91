"""Orders: the filterable list with bulk actions and CSV export, and one order with its actions.

Every action calls the same service as the API endpoint and needs the same
permission (plus ``orders.read``, as the page it answers with shows the order):
cancel and notes/tags ``orders.write``, shipping ``fulfilment.write``, refunds
``payments.refund``, returns ``returns.manage``. Bad input is explained beside the
field (422) and changes nothing; a refusal by the order's state (409) is shown on
the form it came from.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from starlette.datastructures import FormData

from shopops.api.errors import status_for
from shopops.auth.permissions import Permission
from shopops.console.errors import error_text
from shopops.console.formatting import money
from shopops.console.forms import FormErrors, parse_date, parse_money
from shopops.console.guards import Staff, staff
from shopops.console.i18n import gettext as _
from shopops.console.templating import is_htmx, render
from shopops.console.views.orders import (
    DEFAULT_SORT,
    DISPOSITIONS,
    NO_ORDERS,
    PAYMENT_LABELS,
    RESERVATION_LABELS,
    RETURN_LABELS,
    RETURN_REASONS,
    SHIPMENT_LABELS,
    SORTS,
    STATUS_LABELS,
    OrderList,
    OrderQuery,
    export_csv,
    list_orders,
    order_numbers,
    read_order,
    status_tone,
)
from shopops.contexts import fulfilment, orders, returns
from shopops.kernel.errors import DomainError, NotFound, PermissionDenied
from shopops.kernel.money import currency_exponent
from shopops.kernel.pii import normalize_email
from shopops.uow import UnitOfWork

router = APIRouter(include_in_schema=False)

P = Permission
READ = staff(P.ORDERS_READ)
WRITE = staff(P.ORDERS_READ, P.ORDERS_WRITE)
SHIP = staff(P.ORDERS_READ, P.FULFILMENT_WRITE)
REFUND = staff(P.ORDERS_READ, P.PAYMENTS_REFUND)
RETURNS = staff(P.ORDERS_READ, P.RETURNS_MANAGE)
RETURN_REFUND = staff(P.ORDERS_READ, P.RETURNS_MANAGE, P.PAYMENTS_REFUND)

TAG = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
MAX_TEXT = 2000
MAX_BULK = 100
FILTER_FIELDS = ("from", "to", "customer", "sku", "min_total", "max_total", "tag", "number")
LABELS: dict[str, Any] = {
    "status_labels": STATUS_LABELS,
    "payment_labels": PAYMENT_LABELS,
    "shipment_labels": SHIPMENT_LABELS,
    "return_labels": RETURN_LABELS,
    "return_reasons": RETURN_REASONS,
    "dispositions": DISPOSITIONS,
    "reservation_labels": RESERVATION_LABELS,
    "tone": status_tone,
}


async def submitted(request: Request) -> FormData:
    """The posted form (already parsed when the CSRF token came as a field)."""
    return await request.form()


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


# --- the list ------------------------------------------------------------------------


def _amount(errors: FormErrors, field: str, raw: str, currency: str) -> int | None:
    """A filter amount in major units: zero or more, at most the currency's decimals."""
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        errors.add(field, "validation.invalid_amount")
        return None
    if not value.is_finite():
        errors.add(field, "validation.invalid_amount")
        return None
    if value < 0:
        errors.add(field, "validation.negative")
        return None
    minor = value.scaleb(currency_exponent(currency))
    if minor != minor.to_integral_value():
        errors.add(field, "validation.invalid_amount")
        return None
    return int(minor)


def _day_start(day: date, tz: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def parse_filters(
    request: Request, current: Staff
) -> tuple[OrderQuery, FormErrors, dict[str, Any]]:
    """The list's query string: a valid query, the problems found, and the values as typed."""
    params = request.query_params
    settings = current.container.settings
    form: dict[str, Any] = {name: (params.get(name) or "").strip() for name in FILTER_FIELDS}
    statuses = [s for s in params.getlist("status") if s]
    form["status"] = statuses
    sort = params.get("sort") or DEFAULT_SORT
    form["sort"] = sort if sort in SORTS else DEFAULT_SORT
    errors = FormErrors()
    if any(s not in STATUS_LABELS for s in statuses):
        errors.add("status", "validation.invalid")
    first = parse_date(errors, "from", form["from"])
    last = parse_date(errors, "to", form["to"])
    if first and last and last < first:
        errors.add("to", "validation.reversed_range")
    customer_id = email = None
    customer = form["customer"]
    if customer.isdigit() and int(customer) > 0:
        customer_id = int(customer)
    elif "@" in customer and " " not in customer and len(customer) <= 254:
        email = normalize_email(customer)
    elif customer:
        errors.add("customer", "orders.console_invalid_customer")
    currency = settings.default_currency
    low = _amount(errors, "min_total", form["min_total"], currency)
    high = _amount(errors, "max_total", form["max_total"], currency)
    if low is not None and high is not None and high < low:
        errors.add("max_total", "validation.reversed_range")
    tz = settings.store_timezone
    query = OrderQuery(
        statuses=tuple(statuses),
        placed_from=_day_start(first, tz) if first else None,
        placed_to=_day_start(last + timedelta(days=1), tz) if last else None,
        customer_id=customer_id,
        email=email,
        sku=form["sku"] or None,
        min_total_minor=low,
        max_total_minor=high,
        currency=currency if low is not None or high is not None else None,
        tag=form["tag"] or None,
        number=form["number"].upper() or None,
        sort=form["sort"],
    )
    return query, errors, form


def query_string(form: dict[str, Any], **changes: Any) -> str:
    """The list's filters (and sort) as a query string, with ``changes`` applied."""
    pairs: list[tuple[str, Any]] = [("status", s) for s in form.get("status", [])]
    pairs += [(name, form[name]) for name in FILTER_FIELDS if form.get(name)]
    values = {"sort": form.get("sort", DEFAULT_SORT), **changes}
    for name, value in values.items():
        if value and not (name == "sort" and value == DEFAULT_SORT):
            pairs.append((name, value))
    return urlencode(pairs)


def _sort_links(form: dict[str, Any]) -> dict[str, dict[str, str]]:
    links = {}
    for name in ("placed", "total"):
        current = form["sort"]
        following = name if current == f"-{name}" else f"-{name}"
        state = ""
        if current == name:
            state = "ascending"
        elif current == f"-{name}":
            state = "descending"
        links[name] = {
            "url": "/console/orders?" + query_string(form, sort=following),
            "aria": state,
        }
    return links


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1


def _list_page(
    request: Request,
    current: Staff,
    *,
    view: OrderList,
    errors: FormErrors,
    form: dict[str, Any],
    template: str,
    headers: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        template,
        status_code=422 if errors else 200,
        headers=headers,
        view=view,
        errors=errors,
        form=form,
        query=query_string(form),
        page_url=lambda page: "/console/orders?" + query_string(form, page=page),
        sort_links=_sort_links(form),
        statuses=STATUS_LABELS,
        currency_code=current.container.settings.default_currency,
        can_write=current.can(P.ORDERS_WRITE),
        bulk_errors=FormErrors(),
        bulk_form={},
        results=[],
        **LABELS,
    )


@router.get("/orders")
def order_list(request: Request, current: Staff = Depends(READ)) -> Response:
    """Orders matching the filters, sorted, a page at a time (htmx: the page body or table)."""
    query, errors, form = parse_filters(request, current)
    page = _page_number(request)
    view = NO_ORDERS  # nothing is listed for a filter that is not valid
    if not errors:
        with current.uow() as uow:
            view = list_orders(uow, query, page=page)
    headers = None
    if not is_htmx(request):
        template = "orders/list.html"
    elif request.headers.get("HX-Target") == "orders-results":
        template = "orders/_results.html"
    else:
        template = "orders/_page.html"
        # the address bar shows the filters that matter, not every empty field of the form
        shown = query_string(form, page=page if page > 1 else None)
        headers = {"HX-Push-Url": "/console/orders" + (f"?{shown}" if shown else "")}
    return _list_page(
        request, current, view=view, errors=errors, form=form, template=template, headers=headers
    )


@router.get("/orders/export.csv")
def order_export(request: Request, current: Staff = Depends(READ)) -> Response:
    """Every order matching the list's filters, in its sort order, streamed as CSV."""
    query, errors, form = parse_filters(request, current)
    if errors:
        return _list_page(
            request, current, view=NO_ORDERS, errors=errors, form=form, template="orders/list.html"
        )
    stamp = current.container.clock.now().strftime("%Y%m%d-%H%M")
    return StreamingResponse(
        export_csv(current.uow, query),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="orders-{stamp}.csv"'},
    )


# --- bulk actions --------------------------------------------------------------------


def _selected(form: FormData, errors: FormErrors) -> list[int]:
    ids = sorted(
        {int(raw) for raw in form.getlist("order_id") if isinstance(raw, str) and raw.isdigit()}
    )
    if not ids:
        errors.add("order_id", "orders.console_select_orders")
    elif len(ids) > MAX_BULK:
        errors.add("order_id", "orders.console_too_many_orders")
    return ids


def _bulk_answer(
    request: Request,
    form: FormData,
    *,
    errors: FormErrors,
    results: list[dict[str, Any]],
) -> Response:
    changed = any(result["ok"] for result in results)
    return render(
        request,
        "orders/_bulk.html",
        status_code=422 if errors else 200,
        bulk_errors=errors,
        bulk_form={"bulk_tag": _text(form, "bulk_tag"), "bulk_reason": _text(form, "bulk_reason")},
        results=results,
        headers={"HX-Trigger": "orders-changed"} if changed else None,
    )


def _each(current: Staff, ids: list[int], action: Callable[[int], str]) -> list[dict[str, Any]]:
    """Run ``action`` per order, each on its own: one refusal does not stop the others."""
    with current.uow() as uow:
        numbers = order_numbers(uow, ids)
    results = []
    for order_id in ids:
        number = numbers.get(order_id, f"#{order_id}")
        try:
            if order_id not in numbers:
                raise NotFound("orders.not_found", f"order {order_id} does not exist")
            message, ok = action(order_id), True
        except PermissionDenied:
            raise
        except DomainError as error:
            message, ok = error_text(error.code, error.message), False
        results.append({"id": order_id, "number": number, "ok": ok, "message": message})
    return results


@router.post("/orders/bulk/tag")
def bulk_tag(
    request: Request, current: Staff = Depends(WRITE), form: FormData = Depends(submitted)
) -> Response:
    """Add one tag to every selected order."""
    errors = FormErrors()
    ids = _selected(form, errors)
    tag = _text(form, "bulk_tag")
    if not tag:
        errors.add("bulk_tag", "validation.required")
    elif not TAG.match(tag):
        errors.add("bulk_tag", "validation.invalid_tag")
    if errors:
        return _bulk_answer(request, form, errors=errors, results=[])

    def add(order_id: int) -> str:
        with current.uow() as uow:
            orders.set_tags(uow, order_id, add=[tag])
            uow.commit()
        return _("Tagged %(tag)s", tag=tag)

    return _bulk_answer(request, form, errors=errors, results=_each(current, ids, add))


@router.post("/orders/bulk/cancel")
def bulk_cancel(
    request: Request, current: Staff = Depends(WRITE), form: FormData = Depends(submitted)
) -> Response:
    """Cancel every selected order that may still be cancelled; report each one."""
    errors = FormErrors()
    ids = _selected(form, errors)
    reason = _text(form, "bulk_reason")
    if not reason:
        errors.add("bulk_reason", "validation.required")
    elif len(reason) > MAX_TEXT:
        errors.add("bulk_reason", "validation.too_long")
    if errors:
        return _bulk_answer(request, form, errors=errors, results=[])

    def cancel(order_id: int) -> str:
        orders.cancel_and_refund(
            current.uow, current.container.payment_gateway, order_id=order_id, reason=reason
        )
        return _("Cancelled")

    return _bulk_answer(request, form, errors=errors, results=_each(current, ids, cancel))


# --- one order -----------------------------------------------------------------------

_NO_ERRORS = FormErrors()


def _order_page(
    request: Request,
    current: Staff,
    order_id: int,
    *,
    status_code: int = 200,
    action: str = "",
    errors: FormErrors | None = None,
    form: FormData | None = None,
    notice: str | None = None,
    tone: str = "ok",
) -> Response:
    with current.uow() as uow:
        view = read_order(uow, order_id, can=current.can)
    shown = errors or _NO_ERRORS

    def errors_for(name: str) -> FormErrors:
        return shown if name == action else _NO_ERRORS

    def value(name: str, field: str, default: str = "") -> str:
        if name != action or form is None:
            return default
        return _text(form, field)

    return render(
        request,
        "orders/_detail.html" if is_htmx(request) else "orders/detail.html",
        status_code=status_code,
        view=view,
        errors=shown,
        errors_for=errors_for,
        value=value,
        notice=notice,
        notice_tone=tone,
        **LABELS,
    )


def _done(
    request: Request, current: Staff, order_id: int, notice: str, tone: str = "ok"
) -> Response:
    """After a change: htmx gets the updated order; a plain form post is redirected to it."""
    if not is_htmx(request):
        return RedirectResponse(f"/console/orders/{order_id}", status_code=303)
    return _order_page(request, current, order_id, notice=notice, tone=tone)


def _invalid(
    request: Request,
    current: Staff,
    order_id: int,
    action: str,
    errors: FormErrors,
    form: FormData,
    status_code: int = 422,
) -> Response:
    return _order_page(
        request, current, order_id, status_code=status_code, action=action, errors=errors, form=form
    )


def _refused(
    request: Request,
    current: Staff,
    order_id: int,
    action: str,
    error: DomainError,
    form: FormData,
    *,
    main_field: str = "_form",
    rename: Callable[[str], str] | None = None,
) -> Response:
    """A refusal by a service, shown on the form it came from; a missing order is a 404 page."""
    if isinstance(error, PermissionDenied) or (
        isinstance(error, NotFound) and error.code == orders.OrderError.NOT_FOUND
    ):
        raise error
    errors = FormErrors()
    for item in error.errors:
        name = rename(item.field) if rename else item.field.split(".")[-1]
        errors.add(name or main_field, item.code, item.message)
    if not error.errors:
        errors.add(main_field, error.code, error.message)
    return _invalid(request, current, order_id, action, errors, form, status_for(error))


def _apply(
    request: Request,
    current: Staff,
    order_id: int,
    action: str,
    form: FormData,
    change: Callable[[UnitOfWork], object],
    notice: str,
    *,
    main_field: str = "_form",
) -> Response:
    """One change in one unit of work; the updated order, or the refusal on its form."""
    try:
        with current.uow() as uow:
            change(uow)
            uow.commit()
    except DomainError as error:
        return _refused(request, current, order_id, action, error, form, main_field=main_field)
    return _done(request, current, order_id, notice)


def _required_text(errors: FormErrors, form: FormData, field: str) -> str:
    text = _text(form, field)
    if not text:
        errors.add(field, "validation.required")
    elif len(text) > MAX_TEXT:
        errors.add(field, "validation.too_long")
    return text


@router.get("/orders/{order_id}")
def order_detail(order_id: int, request: Request, current: Staff = Depends(READ)) -> Response:
    """One order: lines, prices, stock held, payments, shipments, returns, timeline, notes."""
    return _order_page(request, current, order_id)


@router.post("/orders/{order_id}/cancel")
def cancel_order(
    order_id: int,
    request: Request,
    current: Staff = Depends(WRITE),
    form: FormData = Depends(submitted),
) -> Response:
    """Cancel before shipping: the stock held goes back, what was captured is refunded."""
    errors = FormErrors()
    reason = _required_text(errors, form, "reason")
    if errors:
        return _invalid(request, current, order_id, "cancel", errors, form)
    try:
        _cancelled, refund = orders.cancel_and_refund(
            current.uow, current.container.payment_gateway, order_id=order_id, reason=reason
        )
    except DomainError as error:
        return _refused(request, current, order_id, "cancel", error, form, main_field="reason")
    notice = _("Order cancelled; the stock it held is available again.")
    if refund is not None:
        notice += " " + _refund_notice(refund)[0]
    return _done(request, current, order_id, notice)


def _refund_notice(refund: Any) -> tuple[str, str]:
    amount = money(refund.amount_minor, refund.currency)
    if refund.status == "succeeded":
        return _("%(amount)s refunded.", amount=amount), "ok"
    if refund.status == "failed":
        return _(
            "The payment gateway refused the refund of %(amount)s (%(code)s).",
            amount=amount,
            code=refund.error_code or "",
        ), "error"
    return _(
        "The payment gateway did not answer; the refund of %(amount)s will be retried.",
        amount=amount,
    ), "warn"


@router.post("/orders/{order_id}/shipments")
def ship_order(
    order_id: int,
    request: Request,
    current: Staff = Depends(SHIP),
    form: FormData = Depends(submitted),
) -> Response:
    """Ship what one warehouse holds for the order, with the carrier and tracking number."""
    errors = FormErrors()
    raw_warehouse = _text(form, "warehouse_id")
    action = f"ship-{raw_warehouse}"
    if not raw_warehouse.isdigit():
        errors.add("warehouse_id", "validation.required")
    carrier = _text(form, "carrier")
    if not carrier:
        errors.add("carrier", "validation.required")
    tracking = _text(form, "tracking_number")
    if errors:
        return _invalid(request, current, order_id, action, errors, form)
    command = fulfilment.ShipOrder(
        order_id=order_id,
        warehouse_id=int(raw_warehouse),
        carrier=carrier,
        tracking_number=tracking or None,
    )
    try:
        shipment = fulfilment.ship(current.uow, current.container.carrier, command)
    except DomainError as error:
        return _refused(request, current, order_id, action, error, form)
    notice = _(
        "Shipped with %(carrier)s, tracking number %(tracking)s.",
        carrier=shipment.carrier,
        tracking=shipment.tracking_number,
    )
    return _done(request, current, order_id, notice)


def _refund_field(field: str) -> str:
    """``lines.<order line id>`` (the service's name) -> ``line_<id>`` (the form's)."""
    parts = field.split(".")
    if len(parts) == 2 and parts[0] == "lines" and parts[1].isdigit():
        return f"line_{parts[1]}"
    return "amount" if field in {"", "lines"} else parts[-1]


@router.post("/orders/{order_id}/refunds")
def refund_order(
    order_id: int,
    request: Request,
    current: Staff = Depends(REFUND),
    form: FormData = Depends(submitted),
) -> Response:
    """Refund an amount (split over the lines) or amounts per line; never above captured."""
    with current.uow() as uow:
        currency = orders.get_order(uow, order_id).currency
    errors = FormErrors()
    amount = parse_money(errors, "amount", _text(form, "amount"), currency, required=False)
    lines: dict[int, int] = {}
    for key in sorted(set(form.keys())):
        if key.startswith("line_") and key[5:].isdigit() and _text(form, key):
            value = parse_money(errors, key, _text(form, key), currency)
            if value is not None:
                lines[int(key[5:])] = value
    if not errors:
        if amount is None and not lines:
            errors.add("amount", "orders.console_refund_amount_required")
        elif amount is not None and lines:
            errors.add("amount", "orders.console_refund_amount_or_lines")
    reason = _required_text(errors, form, "reason")
    if errors:
        return _invalid(request, current, order_id, "refund", errors, form)
    try:
        refund = orders.refund_order(
            current.uow,
            current.container.payment_gateway,
            order_id=order_id,
            reason=reason,
            amount_minor=amount,
            line_amounts=lines or None,
        )
    except DomainError as error:
        return _refused(
            request,
            current,
            order_id,
            "refund",
            error,
            form,
            main_field="amount",
            rename=_refund_field,
        )
    notice, tone = _refund_notice(refund)
    return _done(request, current, order_id, notice, tone)


@router.post("/orders/{order_id}/notes")
def add_note(
    order_id: int,
    request: Request,
    current: Staff = Depends(WRITE),
    form: FormData = Depends(submitted),
) -> Response:
    """A staff note on the order's timeline."""
    errors = FormErrors()
    note = _text(form, "note")
    if not note or len(note) > MAX_TEXT:
        errors.add("note", "validation.invalid_note")
    if errors:
        return _invalid(request, current, order_id, "note", errors, form)
    return _apply(
        request,
        current,
        order_id,
        "note",
        form,
        lambda uow: orders.add_note(uow, order_id, note),
        _("Note added."),
        main_field="note",
    )


def _change_tags(
    request: Request, current: Staff, order_id: int, form: FormData, *, remove: bool
) -> Response:
    errors = FormErrors()
    tag = _text(form, "tag")
    if not tag:
        errors.add("tag", "validation.required")
    elif not remove and not TAG.match(tag):
        errors.add("tag", "validation.invalid_tag")
    if errors:
        return _invalid(request, current, order_id, "tags", errors, form)
    notice = _("Tag %(tag)s removed.", tag=tag) if remove else _("Tag %(tag)s added.", tag=tag)
    changed = {"remove": [tag]} if remove else {"add": [tag]}
    return _apply(
        request,
        current,
        order_id,
        "tags",
        form,
        lambda uow: orders.set_tags(uow, order_id, **changed),
        notice,
        main_field="tag",
    )


@router.post("/orders/{order_id}/tags")
def add_tag(
    order_id: int,
    request: Request,
    current: Staff = Depends(WRITE),
    form: FormData = Depends(submitted),
) -> Response:
    return _change_tags(request, current, order_id, form, remove=False)


@router.post("/orders/{order_id}/tags/remove")
def remove_tag(
    order_id: int,
    request: Request,
    current: Staff = Depends(WRITE),
    form: FormData = Depends(submitted),
) -> Response:
    return _change_tags(request, current, order_id, form, remove=True)


# --- returns of the order ------------------------------------------------------------


def _return_of(current: Staff, order_id: int, return_id: int) -> returns.ReturnDetail:
    """The return, if it belongs to this order (otherwise: not found)."""
    with current.uow() as uow:
        found = returns.get_return(uow, return_id)
    if found.request.order_id != order_id:
        raise NotFound(returns.ReturnError.NOT_FOUND, f"return {return_id} is not on this order")
    return found


@router.post("/orders/{order_id}/returns/{return_id}/approve")
def approve_return(
    order_id: int,
    return_id: int,
    request: Request,
    current: Staff = Depends(RETURNS),
    form: FormData = Depends(submitted),
) -> Response:
    action = f"return-{return_id}-approve"
    errors = FormErrors()
    note = _text(form, "note")
    if len(note) > MAX_TEXT:
        errors.add("note", "validation.too_long")
    _return_of(current, order_id, return_id)
    if errors:
        return _invalid(request, current, order_id, action, errors, form)
    return _apply(
        request,
        current,
        order_id,
        action,
        form,
        lambda uow: returns.approve_return(uow, return_id, note=note or None),
        _("Return #%(id)s approved.", id=return_id),
    )


@router.post("/orders/{order_id}/returns/{return_id}/reject")
def reject_return(
    order_id: int,
    return_id: int,
    request: Request,
    current: Staff = Depends(RETURNS),
    form: FormData = Depends(submitted),
) -> Response:
    action = f"return-{return_id}-reject"
    errors = FormErrors()
    reason = _required_text(errors, form, "reason")
    _return_of(current, order_id, return_id)
    if errors:
        return _invalid(request, current, order_id, action, errors, form)
    return _apply(
        request,
        current,
        order_id,
        action,
        form,
        lambda uow: returns.reject_return(uow, return_id, reason=reason),
        _("Return #%(id)s rejected.", id=return_id),
        main_field="reason",
    )


@router.post("/orders/{order_id}/returns/{return_id}/receive")
def receive_return(
    order_id: int,
    return_id: int,
    request: Request,
    current: Staff = Depends(RETURNS),
    form: FormData = Depends(submitted),
) -> Response:
    """Goods are back: each line restocked into a warehouse or written off."""
    action = f"return-{return_id}-receive"
    found = _return_of(current, order_id, return_id)
    errors = FormErrors()
    receipts = []
    for line in found.lines:
        disposition = _text(form, f"disposition_{line.id}")
        raw_warehouse = _text(form, f"warehouse_{line.id}")
        if disposition not in DISPOSITIONS:
            errors.add(f"disposition_{line.id}", "returns.invalid_disposition")
            continue
        warehouse_id = int(raw_warehouse) if raw_warehouse.isdigit() else None
        if disposition == "restock" and warehouse_id is None:
            errors.add(f"warehouse_{line.id}", "returns.warehouse_required")
            continue
        receipts.append(
            returns.LineReceipt(
                line.id, disposition, warehouse_id if disposition == "restock" else None
            )
        )
    if errors:
        return _invalid(request, current, order_id, action, errors, form)
    received = returns.ReceiveReturn(return_id, tuple(receipts))
    return _apply(
        request,
        current,
        order_id,
        action,
        form,
        lambda uow: returns.receive_return(uow, received),
        _("Return #%(id)s received.", id=return_id),
    )


@router.post("/orders/{order_id}/returns/{return_id}/refund")
def refund_return(
    order_id: int,
    return_id: int,
    request: Request,
    current: Staff = Depends(RETURN_REFUND),
    form: FormData = Depends(submitted),
) -> Response:
    """Refund the returned lines' value through the payment gateway."""
    action = f"return-{return_id}-refund"
    _return_of(current, order_id, return_id)
    try:
        found = returns.refund_return(
            current.uow, current.container.payment_gateway, return_id=return_id
        )
    except DomainError as error:
        return _refused(request, current, order_id, action, error, form)
    if found.request.status == returns.ReturnStatus.REFUNDED:
        return _done(request, current, order_id, _("Return #%(id)s refunded.", id=return_id))
    return _done(
        request,
        current,
        order_id,
        _("The refund of return #%(id)s is waiting for the payment gateway.", id=return_id),
        "warn",
    )

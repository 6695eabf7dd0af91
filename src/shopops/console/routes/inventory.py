"""Inventory: stock per SKU and warehouse, the movement ledger, and the stock actions.

Reading needs ``inventory.read``; adjustments, transfers, cycle counts and
thresholds need ``inventory.write`` (the same permissions as the inventory
API). Each action is one unit of work through the inventory services: bad
input is explained beside its field (422) and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from shopops.auth.permissions import Permission
from shopops.console.formatting import number
from shopops.console.forms import FormErrors, parse_date, parse_int
from shopops.console.guards import Staff, staff
from shopops.console.i18n import _
from shopops.console.templating import is_htmx, render
from shopops.console.views.inventory import (
    KIND_LABELS,
    WarehouseOption,
    read_movements,
    read_stock,
    warehouses,
)
from shopops.contexts import inventory
from shopops.kernel.errors import Conflict, DomainError, NotFound, ValidationFailed
from shopops.uow import UnitOfWork

router = APIRouter(include_in_schema=False)

READ = staff(Permission.INVENTORY_READ)
WRITE = staff(Permission.INVENTORY_WRITE)
STOCK_URL = "/console/inventory"
MOVEMENTS_URL = "/console/inventory/movements"
# Errors the inventory services raise for a form's input (not for permissions or bugs).
FORM_PROBLEMS = (ValidationFailed, NotFound, Conflict)


@dataclass
class ActionForm:
    """One stock action form: what was typed, what is wrong with it, what was done."""

    name: str
    values: dict[str, str] = field(default_factory=dict)
    errors: FormErrors = field(default_factory=FormErrors)
    done: str | None = None


ACTIONS = ("adjust", "transfer", "count", "threshold")


def _query(params: Mapping[str, str | int | None]) -> str:
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


def _warehouse_choice(
    errors: FormErrors, name: str, raw: str | None, options: list[WarehouseOption]
) -> int | None:
    """A warehouse id from a select: required, and one of the warehouses."""
    value = parse_int(errors, name, raw, minimum=1)
    if value is not None and value not in {o.id for o in options}:
        errors.add(name, "inventory.warehouse_not_found")
        return None
    return value


def _check_sku(uow: UnitOfWork, errors: FormErrors, sku: str) -> None:
    if not sku:
        errors.add("sku", "validation.required")
        return
    try:
        inventory.require_skus(uow, [sku])
    except ValidationFailed as unknown:
        errors.add("sku", unknown.code, unknown.message)


def _absorb(
    errors: FormErrors,
    error: DomainError,
    fields: Mapping[str, str],
    default: str,
    by_code: Mapping[str, str] | None = None,
) -> None:
    """A service's error, shown beside the form field it is about."""
    if error.errors:
        for item in error.errors:
            errors.add(fields.get(item.field.split(".")[0], default), item.code, item.message)
    else:
        errors.add((by_code or {}).get(error.code, default), error.code, error.message)


# --- pages ------------------------------------------------------------------------------


def _stock_page(
    request: Request,
    current: Staff,
    *,
    sku: str | None = None,
    warehouse: str | None = None,
    low: str | None = None,
    page: str | None = None,
    action: ActionForm | None = None,
) -> Response:
    errors = FormErrors()
    warehouse_id = parse_int(errors, "warehouse", warehouse, minimum=1, required=False)
    number = parse_int(errors, "page", page, minimum=1, required=False) or 1
    low_only = low in {"1", "on", "true"}
    sku_text = (sku or "").strip()
    with current.uow() as uow:
        options = warehouses(uow.session)
        view = read_stock(
            uow.session,
            sku=sku_text or None,
            warehouse_id=warehouse_id,
            low_only=low_only,
            page=number,
        )
    form = {"sku": sku_text, "warehouse": warehouse or "", "low": "1" if low_only else ""}
    forms = {name: ActionForm(name) for name in ACTIONS}
    if action is not None:
        forms[action.name] = action
    status = 422 if errors or (action is not None and action.errors) else 200
    return render(
        request,
        "inventory/stock_body.html" if is_htmx(request) else "inventory/index.html",
        status_code=status,
        view=view,
        choices=[(o.id, o.label) for o in options],
        errors=errors,
        form=form,
        forms=forms,
        can_write=current.can(Permission.INVENTORY_WRITE),
        self_url=f"{STOCK_URL}?{_query({**form, 'page': number})}",
        page_url=lambda n: f"{STOCK_URL}?{_query({**form, 'page': n})}",
    )


@router.get("/inventory")
def stock(
    request: Request,
    sku: str | None = None,
    warehouse: str | None = None,
    low: str | None = None,
    page: str | None = None,
    current: Staff = Depends(READ),
) -> Response:
    """Stock by SKU and warehouse (htmx asks for the table body only)."""
    return _stock_page(request, current, sku=sku, warehouse=warehouse, low=low, page=page)


@router.get("/inventory/movements")
def movements(
    request: Request,
    sku: str | None = None,
    warehouse: str | None = None,
    kind: str | None = None,
    reference: str | None = None,
    start: str | None = None,
    end: str | None = None,
    page: str | None = None,
    current: Staff = Depends(READ),
) -> Response:
    """The movement ledger, newest first; dates are store-time days, both included."""
    errors = FormErrors()
    warehouse_id = parse_int(errors, "warehouse", warehouse, minimum=1, required=False)
    number = parse_int(errors, "page", page, minimum=1, required=False) or 1
    if kind and kind not in KIND_LABELS:
        errors.add("kind", "validation.invalid")
        kind = None
    first = parse_date(errors, "start", start)
    last = parse_date(errors, "end", end)
    if first and last and last < first:
        errors.add("end", "validation.reversed_range")
        first = last = None
    zone = ZoneInfo(current.container.settings.store_timezone)
    since = datetime.combine(first, time(), zone) if first else None
    until = datetime.combine(last + timedelta(days=1), time(), zone) if last else None
    with current.uow() as uow:
        options = warehouses(uow.session)
        view = read_movements(
            uow.session,
            sku=(sku or "").strip() or None,
            warehouse_id=warehouse_id,
            kind=kind,
            reference=(reference or "").strip() or None,
            since=since,
            until=until,
            page=number,
        )
    form = {
        "sku": (sku or "").strip(),
        "warehouse": warehouse or "",
        "kind": kind or "",
        "reference": (reference or "").strip(),
        "start": start or "",
        "end": end or "",
    }
    return render(
        request,
        "inventory/movements_body.html" if is_htmx(request) else "inventory/movements.html",
        status_code=422 if errors else 200,
        view=view,
        choices=[(o.id, o.label) for o in options],
        kind_choices=[(key, _(label)) for key, label in KIND_LABELS.items()],
        errors=errors,
        form=form,
        page_url=lambda n: f"{MOVEMENTS_URL}?{_query({**form, 'page': n})}",
    )


# --- actions ----------------------------------------------------------------------------


def _action_response(
    request: Request, current: Staff, action: ActionForm, options: list[WarehouseOption], sku: str
) -> Response:
    """htmx: the form again (with its messages); a plain form post: the page or a redirect."""
    if is_htmx(request):
        return render(
            request,
            f"inventory/form_{action.name}.html",
            status_code=422 if action.errors else 200,
            headers=None if action.errors else {"HX-Trigger": "stock-changed"},
            form=action,
            choices=[(o.id, o.label) for o in options],
        )
    if action.errors:
        return _stock_page(request, current, action=action)
    return RedirectResponse(f"{STOCK_URL}?{_query({'sku': sku})}", status_code=303)


def _options(current: Staff) -> list[WarehouseOption]:
    with current.uow() as uow:
        return warehouses(uow.session)


@router.post("/inventory/adjustments")
def adjust(
    request: Request,
    sku: str = Form(""),
    warehouse: str = Form(""),
    quantity: str = Form(""),
    reason: str = Form(""),
    current: Staff = Depends(WRITE),
) -> Response:
    """Correct on hand by a signed quantity (found stock, damage, loss) with a reason."""
    action = ActionForm(
        "adjust",
        {"sku": sku.strip(), "warehouse": warehouse, "quantity": quantity, "reason": reason},
    )
    errors = action.errors
    options = _options(current)
    warehouse_id = _warehouse_choice(errors, "warehouse", warehouse, options)
    delta = parse_int(errors, "quantity", quantity)
    if delta == 0:
        errors.add("quantity", "inventory.invalid_quantity")
    if not reason.strip():
        errors.add("reason", "validation.required")
    with current.uow() as uow:
        _check_sku(uow, errors, sku.strip())
        if not errors:
            assert warehouse_id is not None
            assert delta is not None
            try:
                on_hand = inventory.adjust_stock(
                    uow, inventory.AdjustStock(warehouse_id, sku.strip(), delta, reason.strip())
                )
                uow.commit()
            except FORM_PROBLEMS as problem:
                _absorb(
                    errors,
                    problem,
                    {"sku": "sku", "delta": "quantity", "reason": "reason"},
                    "quantity",
                    {"inventory.warehouse_not_found": "warehouse"},
                )
            else:
                code = next(o.code for o in options if o.id == warehouse_id)
                action.done = _(
                    "Adjusted %(sku)s in %(warehouse)s: %(on_hand)s on hand now.",
                    sku=sku.strip(),
                    warehouse=code,
                    on_hand=number(on_hand),
                )
                action.values = {"sku": sku.strip(), "warehouse": warehouse}
    return _action_response(request, current, action, options, sku.strip())


@router.post("/inventory/transfers")
def transfer(
    request: Request,
    sku: str = Form(""),
    source: str = Form(""),
    destination: str = Form(""),
    quantity: str = Form(""),
    reason: str = Form(""),
    current: Staff = Depends(WRITE),
) -> Response:
    """Move available stock of one SKU from one warehouse to another."""
    action = ActionForm(
        "transfer",
        {
            "sku": sku.strip(),
            "source": source,
            "destination": destination,
            "quantity": quantity,
            "reason": reason,
        },
    )
    errors = action.errors
    options = _options(current)
    from_id = _warehouse_choice(errors, "source", source, options)
    to_id = _warehouse_choice(errors, "destination", destination, options)
    if from_id is not None and from_id == to_id:
        errors.add("destination", "inventory.same_warehouse")
    moved = parse_int(errors, "quantity", quantity, minimum=1)
    with current.uow() as uow:
        _check_sku(uow, errors, sku.strip())
        if not errors:
            assert from_id is not None
            assert to_id is not None
            assert moved is not None
            try:
                inventory.transfer_stock(
                    uow,
                    inventory.TransferStock(
                        from_id, to_id, {sku.strip(): moved}, reason.strip() or "rebalance"
                    ),
                )
                uow.commit()
            except FORM_PROBLEMS as problem:
                _absorb(
                    errors,
                    problem,
                    {"sku": "sku", "lines": "quantity", "to_warehouse_id": "destination"},
                    "quantity",
                )
            else:
                codes = {o.id: o.code for o in options}
                action.done = _(
                    "Moved %(quantity)s of %(sku)s from %(source)s to %(destination)s.",
                    quantity=number(moved),
                    sku=sku.strip(),
                    source=codes[from_id],
                    destination=codes[to_id],
                )
                action.values = {"sku": sku.strip(), "source": source, "destination": destination}
    return _action_response(request, current, action, options, sku.strip())


@router.post("/inventory/counts")
def count_stock(
    request: Request,
    sku: str = Form(""),
    warehouse: str = Form(""),
    counted: str = Form(""),
    note: str = Form(""),
    current: Staff = Depends(WRITE),
) -> Response:
    """Record a counted quantity; a difference from on hand is posted as a count correction."""
    action = ActionForm(
        "count", {"sku": sku.strip(), "warehouse": warehouse, "counted": counted, "note": note}
    )
    errors = action.errors
    options = _options(current)
    warehouse_id = _warehouse_choice(errors, "warehouse", warehouse, options)
    quantity = parse_int(errors, "counted", counted, minimum=0)
    with current.uow() as uow:
        _check_sku(uow, errors, sku.strip())
        if not errors:
            assert warehouse_id is not None
            assert quantity is not None
            try:
                recorded = inventory.record_cycle_count(
                    uow,
                    inventory.RecordCycleCount(
                        warehouse_id, {sku.strip(): quantity}, note.strip() or None
                    ),
                )
                line = recorded.lines[0]
                uow.commit()
            except FORM_PROBLEMS as problem:
                _absorb(
                    errors,
                    problem,
                    {"sku": "sku", "counts": "counted"},
                    "counted",
                    {"inventory.warehouse_not_found": "warehouse"},
                )
            else:
                action.done = (
                    _(
                        "Counted %(counted)s, expected %(expected)s: "
                        "a correction of %(difference)s was posted.",
                        counted=number(line["counted"]),
                        expected=number(line["expected"]),
                        difference=f"{line['difference']:+d}",
                    )
                    if line["difference"]
                    else _("The count matches on hand; nothing to correct.")
                )
                action.values = {"sku": sku.strip(), "warehouse": warehouse}
    return _action_response(request, current, action, options, sku.strip())


@router.post("/inventory/thresholds")
def set_threshold(
    request: Request,
    sku: str = Form(""),
    threshold: str = Form(""),
    current: Staff = Depends(WRITE),
) -> Response:
    """Set the SKU's low-stock threshold (an alert fires when availability falls to it)."""
    action = ActionForm("threshold", {"sku": sku.strip(), "threshold": threshold})
    errors = action.errors
    options = _options(current)
    level = parse_int(errors, "threshold", threshold, minimum=0)
    with current.uow() as uow:
        _check_sku(uow, errors, sku.strip())
        if not errors:
            assert level is not None
            try:
                inventory.set_threshold(uow, inventory.SetThreshold(sku.strip(), level))
                uow.commit()
            except FORM_PROBLEMS as problem:
                _absorb(errors, problem, {"sku": "sku"}, "threshold")
            else:
                action.done = _(
                    "The low-stock threshold of %(sku)s is now %(threshold)s.",
                    sku=sku.strip(),
                    threshold=number(level),
                )
                action.values = {}
    return _action_response(request, current, action, options, sku.strip())

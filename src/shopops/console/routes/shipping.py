"""Shipping: the methods checkouts offer and their rate table.

Reading needs ``shipping.read``, every change ``shipping.manage`` (as the API,
``api/routes/shipping.py``). Each form posts on its own; a wrong one comes back with
its messages beside its fields (422) and nothing changed. A plain form post is
redirected back to the page; htmx gets the page's refreshed body.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from shopops.auth.permissions import Permission
from shopops.console.forms import FormErrors, parse_int
from shopops.console.guards import Staff, staff
from shopops.console.i18n import _
from shopops.console.templating import is_htmx, render
from shopops.console.views.shipping import read_shipping
from shopops.contexts import shipping
from shopops.kernel.errors import ValidationFailed

router = APIRouter(include_in_schema=False)

P = Permission
READ = Depends(staff(P.SHIPPING_READ))
MANAGE = Depends(staff(P.SHIPPING_MANAGE))
PAGE = "/console/shipping"


def _page(
    request: Request,
    current: Staff,
    *,
    target: str = "",
    errors: FormErrors | None = None,
    form: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    """The page; ``target`` names the form that ``errors`` and ``form`` belong to."""
    with current.uow() as uow:
        view = read_shipping(uow, can_manage=current.can(P.SHIPPING_MANAGE))
    return render(
        request,
        "admin/shipping_body.html" if is_htmx(request) else "admin/shipping.html",
        status_code=status_code,
        view=view,
        target=target,
        errors=errors or FormErrors(),
        blank=FormErrors(),
        form=form or {},
        notice=notice,
    )


def _done(request: Request, current: Staff, notice: str) -> Response:
    if not is_htmx(request):
        return RedirectResponse(PAGE, status_code=303)
    return _page(request, current, notice=notice)


@router.get("/shipping")
def shipping_page(request: Request, current: Staff = READ) -> Response:
    """Every shipping method with its rates per destination."""
    return _page(request, current)


@router.post("/shipping/methods")
def create_method(
    request: Request,
    code: str = Form(""),
    name: str = Form(""),
    sort_order: str = Form(""),
    current: Staff = MANAGE,
) -> Response:
    form = {"code": code, "name": name, "sort_order": sort_order}
    errors = FormErrors()
    order = parse_int(errors, "sort_order", sort_order, minimum=0, required=False)
    if not errors:  # the service checks the code and name, every problem at once
        command = shipping.CreateShippingMethod(code, name, sort_order=order or 0)
        try:
            with current.uow() as uow:
                method = shipping.create_method(uow, command)
                uow.commit()
        except ValidationFailed as failed:
            errors.extend(failed)
    if errors:
        return _page(
            request, current, target="new-method", errors=errors, form=form, status_code=422
        )
    return _done(request, current, _("Shipping method %(code)s created.", code=method.code))


@router.post("/shipping/methods/{code}")
def update_method(
    request: Request,
    code: str,
    name: str = Form(""),
    sort_order: str = Form(""),
    current: Staff = MANAGE,
) -> Response:
    """Rename or reorder a method."""
    target = f"method:{code}"
    form = {"name": name, "sort_order": sort_order}
    errors = FormErrors()
    order = parse_int(errors, "sort_order", sort_order, minimum=0)
    if not errors:
        try:
            with current.uow() as uow:
                shipping.update_method(
                    uow, shipping.UpdateShippingMethod(code, name=name, sort_order=order)
                )
                uow.commit()
        except ValidationFailed as failed:
            errors.extend(failed)
    if errors:
        return _page(request, current, target=target, errors=errors, form=form, status_code=422)
    return _done(request, current, _("The shipping method is saved."))


def _switch(request: Request, current: Staff, code: str, active: bool) -> Response:
    with current.uow() as uow:
        shipping.update_method(uow, shipping.UpdateShippingMethod(code, is_active=active))
        uow.commit()
    notice = _("Shipping method switched on.") if active else _("Shipping method switched off.")
    return _done(request, current, notice)


@router.post("/shipping/methods/{code}/enable")
def enable_method(request: Request, code: str, current: Staff = MANAGE) -> Response:
    return _switch(request, current, code, True)


@router.post("/shipping/methods/{code}/disable")
def disable_method(request: Request, code: str, current: Staff = MANAGE) -> Response:
    """Checkouts naming a switched-off method are refused."""
    return _switch(request, current, code, False)


@router.post("/shipping/methods/{code}/delete")
def delete_method(request: Request, code: str, current: Staff = MANAGE) -> Response:
    """Delete a method with its rates (asked to confirm first)."""
    with current.uow() as uow:
        shipping.delete_method(uow, code)
        uow.commit()
    return _done(request, current, _("Shipping method deleted."))


def _save_rate(
    request: Request,
    current: Staff,
    code: str,
    rate_id: int | None,
    fields: dict[str, str],
) -> Response:
    target = f"rate:{code}:{rate_id if rate_id is not None else 'new'}"
    errors = FormErrors()
    if not fields["country"].strip():
        errors.add("country", "validation.required")
    if not fields["fee"].strip():
        errors.add("fee", "validation.required")
    if not errors:
        rate = shipping.RateInput(
            country=fields["country"],
            fee=fields["fee"],
            region=fields["region"] or None,
            free_over=fields["free_over"] or None,
        )
        try:
            with current.uow() as uow:
                if rate_id is None:
                    shipping.add_rate(uow, shipping.AddShippingRate(code, rate))
                else:
                    shipping.replace_rate(uow, shipping.ReplaceShippingRate(code, rate_id, rate))
                uow.commit()
        except ValidationFailed as failed:
            errors.extend(failed)
    if errors:
        return _page(request, current, target=target, errors=errors, form=fields, status_code=422)
    return _done(request, current, _("The rate is saved."))


@router.post("/shipping/methods/{code}/rates")
def add_rate(
    request: Request,
    code: str,
    country: str = Form(""),
    region: str = Form(""),
    fee: str = Form(""),
    free_over: str = Form(""),
    current: Staff = MANAGE,
) -> Response:
    fields = {"country": country, "region": region, "fee": fee, "free_over": free_over}
    return _save_rate(request, current, code, None, fields)


@router.post("/shipping/methods/{code}/rates/{rate_id}")
def replace_rate(
    request: Request,
    code: str,
    rate_id: int,
    country: str = Form(""),
    region: str = Form(""),
    fee: str = Form(""),
    free_over: str = Form(""),
    current: Staff = MANAGE,
) -> Response:
    fields = {"country": country, "region": region, "fee": fee, "free_over": free_over}
    return _save_rate(request, current, code, rate_id, fields)


@router.post("/shipping/methods/{code}/rates/{rate_id}/delete")
def delete_rate(request: Request, code: str, rate_id: int, current: Staff = MANAGE) -> Response:
    with current.uow() as uow:
        shipping.delete_rate(uow, code, rate_id)
        uow.commit()
    return _done(request, current, _("The rate is deleted."))

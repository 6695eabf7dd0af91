"""Console pages for promotions: the list, the promotion form, a promotion with its
performance and coupons, and the cart simulator.

Permissions are the API's: reading (and simulating) needs ``promotions.read``;
creating, editing, switching on or off and issuing coupons ``promotions.write``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from shopops.auth.permissions import Permission
from shopops.console.forms import FormErrors, parse_int
from shopops.console.guards import Staff, staff
from shopops.console.i18n import _
from shopops.console.templating import is_htmx, render
from shopops.console.views import promotions as views
from shopops.console.views.customers import CHANNEL_LABELS
from shopops.contexts import orders, promotions
from shopops.kernel.errors import Conflict, DomainError, ValidationFailed

router = APIRouter(include_in_schema=False)
P = Permission
HOME = "/console/promotions"


async def posted(request: Request) -> FormData:
    """The submitted form (already read, and cached, by the CSRF check)."""
    return await request.form()


def _go(request: Request, target: str) -> Response:
    """After a change: htmx follows HX-Redirect, a plain form post a 303."""
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def _common() -> dict[str, Any]:
    return {
        "label": views.label,
        "kind_labels": views.KIND_LABELS,
        "status_labels": views.STATUS_LABELS,
        "kinds": promotions.KINDS,
        "statuses": promotions.STATUSES,
        "minor": views.minor,
        "moment": views.moment,
        "weekdays": views.WEEKDAYS,
        "param_labels": views.PARAM_LABELS,
        "choice_labels": views.CHOICE_LABELS,
        "money_params": views.MONEY_PARAMS,
        "channel_labels": CHANNEL_LABELS,
    }


# --- the list -----------------------------------------------------------------------------


@router.get("/promotions")
def promotion_list(
    request: Request,
    status: str | None = None,
    kind: str | None = None,
    after: str | None = None,
    current: Staff = Depends(staff(P.PROMOTIONS_READ)),
) -> Response:
    errors = FormErrors()
    chosen_status = status or None
    chosen_kind = kind or None
    if chosen_status is not None and chosen_status not in promotions.STATUSES:
        errors.add("status", "validation.invalid")
        chosen_status = None
    if chosen_kind is not None and chosen_kind not in promotions.KINDS:
        errors.add("kind", "validation.invalid")
        chosen_kind = None
    cursor = parse_int(errors, "after", after, minimum=0, required=False)
    view = views.read_list(current, status=chosen_status, kind=chosen_kind, after=cursor)
    return render(
        request,
        "promotions/list_body.html" if is_htmx(request) else "promotions/list.html",
        status_code=422 if errors else 200,
        view=view,
        errors=errors,
        form={"status": chosen_status or "", "kind": chosen_kind or ""},
        first_page=cursor is None,
        can_write=current.can(P.PROMOTIONS_WRITE),
        **_common(),
    )


# --- creating and editing -----------------------------------------------------------------


def _form_page(
    request: Request,
    current: Staff,
    form: views.PromotionForm,
    errors: FormErrors,
    *,
    promotion: promotions.PromotionView | None = None,
) -> Response:
    return render(
        request,
        "promotions/form_body.html" if is_htmx(request) else "promotions/form.html",
        status_code=422 if errors else 200,
        form=form,
        errors=errors,
        promotion=promotion,
        channels=orders.CHANNELS,
        params=views.PARAMS,
        choices=views.CHOICES,
        **_common(),
    )


@router.get("/promotions/new")
def new_promotion(
    request: Request,
    kind: str | None = None,
    current: Staff = Depends(staff(P.PROMOTIONS_WRITE)),
) -> Response:
    form = views.PromotionForm.blank(current.container.settings.default_currency)
    if kind in promotions.KINDS:
        form.values["kind"] = kind
    return _form_page(request, current, form, FormErrors())


@router.get("/promotions/params")
def promotion_params(
    request: Request,
    kind: str | None = None,
    currency: str | None = None,
    current: Staff = Depends(staff(P.PROMOTIONS_WRITE)),
) -> Response:
    """The inputs of one kind of promotion (swapped in when the kind changes)."""
    form = views.PromotionForm.blank(currency or current.container.settings.default_currency)
    if kind in promotions.KINDS:
        form.values["kind"] = kind
    return render(
        request,
        "promotions/params.html",
        form=form,
        errors=FormErrors(),
        params=views.PARAMS,
        choices=views.CHOICES,
        **_common(),
    )


def _refused(
    current: Staff, form: views.PromotionForm, definition: dict[str, object], errors: FormErrors
) -> None:
    """Inputs the console could not read: add whatever else the promotion rules find."""
    try:
        views.check(current, definition)
    except DomainError as refused:
        views.definition_errors(refused, form, errors)


@router.post("/promotions")
def create_promotion(
    request: Request,
    data: FormData = Depends(posted),
    current: Staff = Depends(staff(P.PROMOTIONS_WRITE)),
) -> Response:
    """Create a promotion (a draft, or active at once); every problem is shown beside its input."""
    form = views.PromotionForm.of(data)
    errors = FormErrors()
    definition = views.definition_of(form, current.container.settings.store_timezone, errors)
    if errors:
        _refused(current, form, definition, errors)
        return _form_page(request, current, form, errors)
    try:
        promotion_id = views.create(current, form, definition)
    except (ValidationFailed, Conflict) as refused:
        views.definition_errors(refused, form, errors)
        return _form_page(request, current, form, errors)
    return _go(request, f"{HOME}/{promotion_id}")


@router.get("/promotions/{promotion_id:int}/edit")
def edit_promotion(
    request: Request, promotion_id: int, current: Staff = Depends(staff(P.PROMOTIONS_WRITE))
) -> Response:
    view = views.get(current, promotion_id)
    form = views.PromotionForm.of_definition(
        view.definition, current.container.settings.store_timezone
    )
    return _form_page(request, current, form, FormErrors(), promotion=view)


@router.post("/promotions/{promotion_id:int}/edit")
def update_promotion(
    request: Request,
    promotion_id: int,
    data: FormData = Depends(posted),
    current: Staff = Depends(staff(P.PROMOTIONS_WRITE)),
) -> Response:
    view = views.get(current, promotion_id)
    form = views.PromotionForm.of(data)
    form.values["kind"] = view.kind  # a promotion keeps its kind
    errors = FormErrors()
    definition = views.definition_of(form, current.container.settings.store_timezone, errors)
    if errors:
        _refused(current, form, definition, errors)
        return _form_page(request, current, form, errors, promotion=view)
    try:
        views.update(current, promotion_id, definition)
    except (ValidationFailed, Conflict) as refused:
        views.definition_errors(refused, form, errors)
        return _form_page(request, current, form, errors, promotion=view)
    return _go(request, f"{HOME}/{promotion_id}")


@router.post("/promotions/{promotion_id:int}/activate")
def activate_promotion(
    request: Request, promotion_id: int, current: Staff = Depends(staff(P.PROMOTIONS_WRITE))
) -> Response:
    """Start pricing carts with it (an overlapping flash sale or an ended schedule is refused)."""
    views.switch(current, promotion_id, on=True)
    return _go(request, f"{HOME}/{promotion_id}")


@router.post("/promotions/{promotion_id:int}/deactivate")
def deactivate_promotion(
    request: Request, promotion_id: int, current: Staff = Depends(staff(P.PROMOTIONS_WRITE))
) -> Response:
    views.switch(current, promotion_id, on=False)
    return _go(request, f"{HOME}/{promotion_id}")


# --- a promotion, its performance and coupons ------------------------------------------------


def _detail(
    request: Request,
    current: Staff,
    promotion_id: int,
    *,
    coupons_after: int | None = None,
    coupon_form: views.CouponForm | None = None,
    coupon_errors: FormErrors | None = None,
    batch_form: views.CouponForm | None = None,
    batch_errors: FormErrors | None = None,
    batch: promotions.BatchView | None = None,
    notice: str | None = None,
    partial: str | None = None,
) -> Response:
    page = views.read_promotion(current, promotion_id, coupons_after)
    failed = bool(coupon_errors) or bool(batch_errors)
    return render(
        request,
        partial or "promotions/detail.html",
        status_code=422 if failed else 200,
        page=page,
        promotion=page.promotion,
        definition=page.promotion.definition,
        report=page.performance,
        can_write=current.can(P.PROMOTIONS_WRITE),
        coupon_form=coupon_form or views.CouponForm(),
        coupon_errors=coupon_errors or FormErrors(),
        batch_form=batch_form or views.CouponForm({"count": "100", "length": "10"}),
        batch_errors=batch_errors or FormErrors(),
        batch=batch,
        notice=notice,
        coupons_after=coupons_after,
        **_common(),
    )


@router.get("/promotions/{promotion_id:int}")
def promotion_page(
    request: Request,
    promotion_id: int,
    coupons_after: str | None = None,
    current: Staff = Depends(staff(P.PROMOTIONS_READ)),
) -> Response:
    errors = FormErrors()
    cursor = parse_int(errors, "coupons_after", coupons_after, minimum=0, required=False)
    return _detail(request, current, promotion_id, coupons_after=cursor)


@router.get("/promotions/{promotion_id:int}/performance")
def promotion_performance(
    request: Request, promotion_id: int, current: Staff = Depends(staff(P.PROMOTIONS_READ))
) -> Response:
    """Redemptions, discount cost, orders, GMV and budget used (a section of the page)."""
    if not is_htmx(request):
        views.get(current, promotion_id)  # a missing promotion is a 404, not a redirect
        return RedirectResponse(f"{HOME}/{promotion_id}#performance", status_code=303)
    return _detail(request, current, promotion_id, partial="promotions/performance.html")


@router.post("/promotions/{promotion_id:int}/coupons")
def create_coupon(
    request: Request,
    promotion_id: int,
    data: FormData = Depends(posted),
    current: Staff = Depends(staff(P.PROMOTIONS_WRITE)),
) -> Response:
    """A public code for a promotion that requires one."""
    form = views.CouponForm.of(data)
    errors = FormErrors()
    tz = current.container.settings.store_timezone
    terms = views.coupon_terms(form, tz, errors, default_uses=None)
    code = form.get("code")
    if not code:
        errors.add("code", "validation.required")
    partial = "promotions/coupons.html" if is_htmx(request) else None
    if not errors:
        try:
            created = views.create_coupon(current, promotion_id, code, terms)
        except (ValidationFailed, Conflict) as refused:
            views.coupon_errors(refused, errors, set(form.values) | {"code", "restrictions"})
        else:
            notice = _("Coupon code %(code)s created.", code=created)
            return _detail(request, current, promotion_id, notice=notice, partial=partial)
    return _detail(
        request, current, promotion_id, coupon_form=form, coupon_errors=errors, partial=partial
    )


@router.post("/promotions/{promotion_id:int}/coupon-batches")
def generate_coupons(
    request: Request,
    promotion_id: int,
    data: FormData = Depends(posted),
    current: Staff = Depends(staff(P.PROMOTIONS_WRITE)),
) -> Response:
    """A batch of unique random codes, shown once here and listed with the coupons."""
    form = views.CouponForm.of(data)
    errors = FormErrors()
    tz = current.container.settings.store_timezone
    terms = views.coupon_terms(form, tz, errors, default_uses=1)
    count = parse_int(errors, "count", form.get("count"), minimum=1)
    length = parse_int(errors, "length", form.get("length") or "10", minimum=1)
    partial = "promotions/coupons.html" if is_htmx(request) else None
    if not errors and count is not None and length is not None:
        try:
            batch = views.generate(
                current,
                promotion_id,
                count=count,
                name=form.get("name"),
                prefix=form.get("prefix"),
                length=length,
                terms=terms,
            )
        except (ValidationFailed, Conflict) as refused:
            views.coupon_errors(refused, errors, set(form.values) | {"count", "restrictions"})
        else:
            notice = _("%(count)s codes generated.", count=batch.size)
            return _detail(
                request, current, promotion_id, batch=batch, notice=notice, partial=partial
            )
    return _detail(
        request, current, promotion_id, batch_form=form, batch_errors=errors, partial=partial
    )


# --- the simulator ------------------------------------------------------------------------


@router.get("/promotions/simulator")
def simulator(request: Request, current: Staff = Depends(staff(P.PROMOTIONS_READ))) -> Response:
    """Price a cart against the active promotions and explain each one; nothing is written."""
    query = request.query_params
    skus = [s.strip() for s in query.getlist("sku")]
    quantities = [q.strip() for q in query.getlist("qty")]
    quantities += [""] * (len(skus) - len(quantities))
    form = views.SimulatorForm(
        currency=(query.get("currency") or current.container.settings.default_currency)
        .strip()
        .upper(),
        lines=list(zip(skus, quantities[: len(skus)], strict=True)),
        customer_id=(query.get("customer_id") or "").strip(),
        coupons=(query.get("coupons") or "").strip(),
        channel=(query.get("channel") or "web").strip(),
        shipping_method=(query.get("shipping_method") or "standard").strip(),
        shipping_fee=(query.get("shipping_fee") or "").strip(),
        first_order=query.get("first_order") or "auto",
    )
    errors = FormErrors()
    priced = views.simulate(current, form, errors) if form.submitted else None
    return render(
        request,
        "promotions/simulator_body.html" if is_htmx(request) else "promotions/simulator.html",
        status_code=422 if errors else 200,
        form=form,
        errors=errors,
        priced=priced,
        channels=orders.CHANNELS,
        reason_label=views.reason_label,
        **_common(),
    )

"""Console pages for customers: search, profiles, dynamic segments and acquisition cohorts.

Permissions are the API's: customers need ``customers.read`` (personal data shown
only with ``customers.pii.read``); segments and cohorts ``analytics.read``;
saving, refreshing and deleting a segment ``promotions.write``; a segment's CSV
export ``customers.export``.
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
from shopops.console.views import customers as views
from shopops.contexts.customers import SourceChannel
from shopops.kernel.errors import Conflict, ValidationFailed

router = APIRouter(include_in_schema=False)
P = Permission
SEGMENTS = "/console/customers/segments"


async def posted(request: Request) -> FormData:
    """The submitted form (already read, and cached, by the CSRF check)."""
    return await request.form()


def _text(value: str | None) -> str:
    return (value or "").strip()


# --- the list -----------------------------------------------------------------------------


@router.get("/customers")
def customer_list(
    request: Request,
    q: str | None = None,
    tag: str | None = None,
    source_channel: str | None = None,
    after: str | None = None,
    current: Staff = Depends(staff(P.CUSTOMERS_READ)),
) -> Response:
    errors = FormErrors()
    cursor = parse_int(errors, "after", after, minimum=0, required=False)
    form = {"q": _text(q), "tag": _text(tag), "source_channel": _text(source_channel)}
    view = views.read_customers(
        current,
        errors,
        q=form["q"],
        tag=form["tag"],
        source_channel=form["source_channel"],
        after=cursor,
    )
    return render(
        request,
        "customers/list_body.html" if is_htmx(request) else "customers/list.html",
        status_code=422 if errors else 200,
        view=view,
        form=form,
        errors=errors,
        first_page=cursor is None,
        channels=[c.value for c in SourceChannel],
        channel_labels=views.CHANNEL_LABELS,
        label=views.label,
    )


# --- segments -----------------------------------------------------------------------------


def _segments_page(
    request: Request,
    current: Staff,
    *,
    form: views.SegmentForm | None = None,
    errors: FormErrors | None = None,
    preview: Any = None,
    notice: str | None = None,
    partial: str | None = None,
) -> Response:
    found = errors if errors is not None else FormErrors()
    template = partial or "customers/segments.html"
    return render(
        request,
        template,
        status_code=422 if found else 200,
        view=views.read_segments(current),
        form=form or views.SegmentForm(),
        errors=found,
        preview=preview,
        notice=notice,
        fields=views.field_choices(),
        operators=views.OPERATOR_LABELS,
        all_operators=views.ALL_OPERATORS,
        describe=views.describe_rule,
        can_write=current.can(P.PROMOTIONS_WRITE),
        can_export=current.can(P.CUSTOMERS_EXPORT),
    )


@router.get("/customers/segments")
def segments(request: Request, current: Staff = Depends(staff(P.ANALYTICS_READ))) -> Response:
    return _segments_page(request, current)


@router.post("/customers/segments/preview")
def preview_segment(
    request: Request,
    form: FormData = Depends(posted),
    current: Staff = Depends(staff(P.ANALYTICS_READ)),
) -> Response:
    """How many customers the rule selects now (nothing is stored)."""
    builder = views.SegmentForm.of(form)
    currency = current.container.settings.default_currency
    errors = FormErrors()
    document = views.build_rule(builder, currency, errors)
    result = None
    if document is not None:
        try:
            result = views.preview(current, document)
        except ValidationFailed as failed:
            views.rule_errors(failed, builder, document, currency, errors)
    return _segments_page(
        request,
        current,
        form=builder,
        errors=errors,
        preview=result,
        partial="customers/segment_builder.html" if is_htmx(request) else None,
    )


@router.post("/customers/segments")
def save_segment(
    request: Request,
    form: FormData = Depends(posted),
    current: Staff = Depends(staff(P.PROMOTIONS_WRITE)),
) -> Response:
    """Define a segment and compute its members; a bad rule is explained beside its rows."""
    builder = views.SegmentForm.of(form)
    currency = current.container.settings.default_currency
    errors = FormErrors()
    document = views.check_segment(builder, currency, errors)
    body = "customers/segments_body.html" if is_htmx(request) else None
    if document is None or errors:
        return _segments_page(request, current, form=builder, errors=errors, partial=body)
    try:
        saved = views.save_segment(current, builder, document)
    except (ValidationFailed, Conflict) as refused:
        views.saving_failed(refused, errors)
        return _segments_page(request, current, form=builder, errors=errors, partial=body)
    if body is None:
        return RedirectResponse(SEGMENTS, status_code=303)
    notice = _(
        "Segment %(name)s saved with %(count)s members.",
        name=saved.name,
        count=saved.member_count,
    )
    return _segments_page(request, current, notice=notice, partial=body)


@router.post("/customers/segments/{segment_id}/refresh")
def refresh_segment(
    request: Request, segment_id: int, current: Staff = Depends(staff(P.PROMOTIONS_WRITE))
) -> Response:
    """Re-evaluate the rule now and replace the stored members."""
    refreshed = views.refresh_segment(current, segment_id)
    if not is_htmx(request):
        return RedirectResponse(SEGMENTS, status_code=303)
    notice = _(
        "Segment %(name)s refreshed: %(count)s members.",
        name=refreshed.name,
        count=refreshed.member_count,
    )
    return _segments_page(request, current, notice=notice, partial="customers/segments_body.html")


@router.post("/customers/segments/{segment_id}/delete")
def delete_segment(
    request: Request, segment_id: int, current: Staff = Depends(staff(P.PROMOTIONS_WRITE))
) -> Response:
    views.delete_segment(current, segment_id)
    if not is_htmx(request):
        return RedirectResponse(SEGMENTS, status_code=303)
    notice = _("Segment deleted.")
    return _segments_page(request, current, notice=notice, partial="customers/segments_body.html")


@router.get("/customers/segments/{segment_id}/export.csv")
def export_segment(
    segment_id: int, current: Staff = Depends(staff(P.CUSTOMERS_EXPORT))
) -> Response:
    """Members as of the last refresh with their features; no personal data. Audited."""
    text = views.export_segment(current, segment_id)
    return Response(
        text,
        media_type="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="segment-{segment_id}.csv"',
            "Cache-Control": "no-store",
        },
    )


# --- cohorts ------------------------------------------------------------------------------


@router.get("/customers/cohorts")
def cohorts(
    request: Request,
    measure: str | None = None,
    periods: str | None = None,
    current: Staff = Depends(staff(P.ANALYTICS_READ)),
) -> Response:
    errors = FormErrors()
    chosen = measure or "customers"
    if chosen not in views.MEASURES:
        errors.add("measure", "validation.invalid")
        chosen = "customers"
    months = parse_int(errors, "periods", periods, minimum=1, required=False) or 12
    if months not in views.PERIOD_CHOICES:
        errors.add("periods", "validation.invalid")
        months = 12
    view = views.read_cohorts(current, measure=chosen, periods=months)
    return render(
        request,
        "customers/cohorts_body.html" if is_htmx(request) else "customers/cohorts.html",
        status_code=422 if errors else 200,
        view=view,
        errors=errors,
        measures=views.MEASURES,
        period_choices=views.PERIOD_CHOICES,
    )


# --- a profile (after the fixed paths above, which it would otherwise swallow) -------------


@router.get("/customers/{customer_id:int}")
def profile(
    request: Request, customer_id: int, current: Staff = Depends(staff(P.CUSTOMERS_READ))
) -> Response:
    view = views.read_profile(current, customer_id)
    return render(
        request,
        "customers/profile.html",
        view=view,
        label=views.label,
        status_labels=views.ORDER_STATUS_LABELS,
        channel_labels=views.CHANNEL_LABELS,
        rfm_labels=views.RFM_LABELS,
        stage_labels=views.STAGE_LABELS,
        can_orders=current.can(P.ORDERS_READ),
    )

"""The dashboard: KPIs against the previous period, trend, funnel, top sellers, alerts."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from shopops.auth.permissions import Permission
from shopops.console.forms import FormErrors, parse_date
from shopops.console.guards import Staff, staff
from shopops.console.templating import render
from shopops.console.views.dashboard import CARDS, read_dashboard
from shopops.kernel.errors import ValidationFailed

router = APIRouter(include_in_schema=False)


@router.get("/dashboard")
def dashboard(
    request: Request,
    start: str | None = Query(None, alias="from"),
    end: str | None = Query(None, alias="to"),
    channel: str | None = None,
    current: Staff = Depends(staff(Permission.ANALYTICS_READ)),
) -> Response:
    errors = FormErrors()
    first: date | None = parse_date(errors, "from", start)
    last: date | None = parse_date(errors, "to", end)
    if first and last and last < first:
        errors.add("to", "validation.reversed_range")
    view = None
    if not errors:
        try:
            view = read_dashboard(current.container, start=first, end=last, channel=channel or None)
        except ValidationFailed as failed:
            errors.extend(failed)
    if view is None:
        # keep the page usable: the default window, with the messages beside the inputs
        view = read_dashboard(current.container, start=None, end=None, channel=channel or None)
    template = "dashboard_body.html" if request.headers.get("HX-Request") else "dashboard.html"
    return render(
        request,
        template,
        status_code=422 if errors else 200,
        view=view,
        cards=CARDS,
        errors=errors,
        form={"from": start or "", "to": end or "", "channel": channel or ""},
    )

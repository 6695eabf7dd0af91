"""Customer analytics: insights, RFM, cohorts, dynamic segments and CLV models.

Reads need `analytics.read`; defining, changing and refreshing segments need
`promotions.write` (segments are promotion targets); member exports need
`customers.export` and are audited. Fitting a CLV model stores derived
parameters only, so it needs `analytics.read`.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Literal

import numpy as np
from fastapi import APIRouter, Depends, Query, Response
from numpy.typing import NDArray

from shopops.analytics import customers as analytics
from shopops.api.deps import RequestContext, require
from shopops.api.schemas.customer_analytics import (
    ClvFitRequest,
    ClvModelRead,
    CohortRead,
    CustomerInsightsRead,
    RfmReportRead,
    SegmentCreate,
    SegmentFieldRead,
    SegmentMembersRead,
    SegmentPreviewRead,
    SegmentPreviewRequest,
    SegmentRead,
    SegmentUpdate,
)
from shopops.auth.permissions import Permission
from shopops.kernel.errors import NotFound

router = APIRouter(tags=["customer analytics"])

READ = require(Permission.ANALYTICS_READ)
DEFINE = require(Permission.PROMOTIONS_WRITE)
EXPORT = require(Permission.CUSTOMERS_EXPORT)


def _cells(matrix: NDArray[np.float64]) -> list[list[float | None]]:
    return [[None if math.isnan(v) else float(v) for v in row] for row in matrix.tolist()]


@router.get("/customers/{customer_id}/insights", response_model=CustomerInsightsRead)
def customer_insights(
    customer_id: int, context: RequestContext = Depends(READ)
) -> CustomerInsightsRead:
    """RFM segment, lifecycle stage and, once a CLV model is fitted, predicted CLV and
    probability alive. Computed from paid orders in the store currency."""
    with context.uow() as uow:
        insights = analytics.customer_insights(uow, customer_id)
    return CustomerInsightsRead.model_validate(insights)


@router.get("/analytics/rfm", response_model=RfmReportRead)
def rfm_report(
    bins: int = Query(5, ge=2, le=10, description="Quantile bins per score."),
    context: RequestContext = Depends(READ),
) -> RfmReportRead:
    """Customers per named RFM segment (all eleven listed, in the standard order)."""
    with context.uow() as uow:
        report = analytics.rfm_report(uow, bins=bins)
    return RfmReportRead.model_validate(report)


@router.get(
    "/analytics/cohorts",
    response_model=CohortRead,
    responses={200: {"content": {"text/csv": {}}}},
)
def cohorts(
    grain: Literal["month", "week"] = "month",
    measure: Literal["customers", "revenue"] = "customers",
    periods: int = Query(24, ge=1, le=520, description="Cohorts shown, and offsets per cohort."),
    format: Literal["json", "csv"] = "json",
    context: RequestContext = Depends(READ),
) -> CohortRead | Response:
    """Acquisition-cohort retention; `format=csv` returns the rates as CSV."""
    with context.uow() as uow:
        matrix = analytics.cohort_report(uow, grain=grain, measure=measure, periods=periods)
    if format == "csv":
        return Response(matrix.csv_text(), media_type="text/csv")
    return CohortRead(
        grain=grain,
        measure=measure,
        cohorts=list(matrix.cohorts),
        sizes=[int(s) for s in matrix.sizes],
        values=_cells(matrix.values),
        rates=_cells(matrix.rates),
    )


@router.get("/analytics/segment-fields", response_model=list[SegmentFieldRead])
def segment_fields(context: RequestContext = Depends(READ)) -> list[SegmentFieldRead]:
    """The fields a segment rule may use, with their operators."""
    return [SegmentFieldRead.model_validate(f) for f in analytics.describe_fields()]


@router.get("/analytics/segments", response_model=list[SegmentRead])
def list_segments(context: RequestContext = Depends(READ)) -> list[SegmentRead]:
    with context.uow() as uow:
        return [SegmentRead.model_validate(v) for v in analytics.list_segments(uow)]


@router.post("/analytics/segments", response_model=SegmentRead, status_code=201)
def create_segment(body: SegmentCreate, context: RequestContext = Depends(DEFINE)) -> SegmentRead:
    """Define a segment; the rule is checked (an unknown field lists the allowed ones).
    Members are computed on refresh."""
    with context.uow() as uow:
        view = analytics.create_segment(
            uow, analytics.CreateSegment(body.name, body.rule, body.description)
        )
        uow.commit()
    return SegmentRead.model_validate(view)


@router.post("/analytics/segments/preview", response_model=SegmentPreviewRead)
def preview_segment(
    body: SegmentPreviewRequest, context: RequestContext = Depends(READ)
) -> SegmentPreviewRead:
    """How many customers a rule selects now, with a sample of ids; nothing is stored."""
    with context.uow() as uow:
        return SegmentPreviewRead.model_validate(analytics.preview_rule(uow, body.rule))


@router.get("/analytics/segments/{segment_id}", response_model=SegmentRead)
def get_segment(segment_id: int, context: RequestContext = Depends(READ)) -> SegmentRead:
    with context.uow() as uow:
        return SegmentRead.model_validate(analytics.get_segment(uow, segment_id))


@router.patch("/analytics/segments/{segment_id}", response_model=SegmentRead)
def update_segment(
    segment_id: int, body: SegmentUpdate, context: RequestContext = Depends(DEFINE)
) -> SegmentRead:
    with context.uow() as uow:
        view = analytics.update_segment(
            uow, analytics.UpdateSegment(segment_id, body.name, body.rule, body.description)
        )
        uow.commit()
    return SegmentRead.model_validate(view)


@router.delete("/analytics/segments/{segment_id}", status_code=204)
def delete_segment(segment_id: int, context: RequestContext = Depends(DEFINE)) -> Response:
    with context.uow() as uow:
        analytics.delete_segment(uow, segment_id)
        uow.commit()
    return Response(status_code=204)


@router.post("/analytics/segments/{segment_id}/refresh", response_model=SegmentRead)
def refresh_segment(segment_id: int, context: RequestContext = Depends(DEFINE)) -> SegmentRead:
    """Re-evaluate the rule now and replace the stored members."""
    with context.uow() as uow:
        view = analytics.refresh_segment(uow, segment_id)
        uow.commit()
    return SegmentRead.model_validate(view)


@router.get("/analytics/segments/{segment_id}/members", response_model=SegmentMembersRead)
def segment_members(segment_id: int, context: RequestContext = Depends(READ)) -> SegmentMembersRead:
    """Customer ids as of the last refresh: what promotions and coupons target."""
    with context.uow() as uow:
        ids = analytics.member_ids(uow, segment_id)
    return SegmentMembersRead(segment_id=segment_id, customer_ids=ids)


@router.get(
    "/analytics/segments/{segment_id}/export.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def export_segment(segment_id: int, context: RequestContext = Depends(EXPORT)) -> Response:
    """Members (as of the last refresh) with their current features; no personal data."""
    with context.uow() as uow:
        text = analytics.export_csv(uow, segment_id)
        uow.commit()  # the audit entry of the export
    return Response(
        text,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="segment-{segment_id}.csv"'},
    )


@router.post("/analytics/clv/fit", response_model=ClvModelRead, status_code=201)
def fit_clv(body: ClvFitRequest, context: RequestContext = Depends(READ)) -> ClvModelRead:
    """Fit BG/NBD or Pareto/NBD with Gamma-Gamma on the paid-order history and store it;
    insights and segments use the latest fit."""
    with context.uow() as uow:
        view = analytics.fit_clv(
            uow,
            analytics.FitClv(body.purchase_model, body.unit_days, body.holdout_days),
        )
        uow.commit()
    return ClvModelRead.model_validate(asdict(view))


@router.get("/analytics/clv/model", response_model=ClvModelRead)
def latest_clv_model(context: RequestContext = Depends(READ)) -> ClvModelRead:
    """The latest fitted model for the store currency."""
    with context.uow() as uow:
        view = analytics.latest_model(uow)
    if view is None:
        raise NotFound("clv.no_model", "no CLV model has been fitted yet")
    return ClvModelRead.model_validate(asdict(view))

"""Analytics: the KPI registry and values, the dashboard, event tracking, funnel, products.

Reads come from the analytics store (DuckDB), never from the operational
database, and run in the thread pool: they share nothing with order placement.
``POST /v1/events`` writes raw behaviour events to the operational database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Query

from shopops.analytics import events as tracking
from shopops.analytics.engines import fact_context, store_for
from shopops.analytics.funnel import funnel, product_performance
from shopops.analytics.kpi import dashboard, kpi
from shopops.analytics.metrics import METRICS, get_metric
from shopops.analytics.periods import COMPARISONS, GRAINS, Compare, Period, parse_period
from shopops.analytics.sources import StoreSources
from shopops.analytics.store import refreshed_at
from shopops.api.deps import RequestContext, require
from shopops.api.schemas.analytics import (
    DashboardRead,
    EventBatch,
    EventBatchResult,
    EventErrorRead,
    EventOutcomeRead,
    FunnelRead,
    FunnelRowRead,
    KpiDefinition,
    KpiList,
    KpiRead,
    ProductPerformancePage,
    ProductPerformanceRead,
    StoreStatusRead,
    StoreTableRead,
    WindowRead,
)
from shopops.auth.permissions import Permission
from shopops.kernel.errors import FieldError, ValidationFailed

router = APIRouter(tags=["analytics"])

READ = Depends(require(Permission.ANALYTICS_READ))
WRITE_EVENTS = Depends(require(Permission.EVENTS_WRITE))
FROM = Query(None, alias="from", description="First day (store time zone), e.g. 2026-01-01.")
TO = Query(None, alias="to", description="Last day, included.")
LAST = Query(None, description="Instead of from/to: 48h, 30d, 12w or 6m (default 30d).")
GRAIN = Query("day", description=f"One of: {', '.join(GRAINS)}; 'total' for no time buckets.")

T = TypeVar("T")


def _period(
    context: RequestContext, grain: str, start: date | None, end: date | None, last: str | None
) -> Period:
    settings = context.container.settings
    return parse_period(
        tz=settings.store_timezone,
        now=context.container.clock.now(),
        grain=None if grain == "total" else grain,
        start=start,
        end=end,
        last=last,
    )


def _compare(compare: str | None) -> Compare | None:
    if compare is None:
        return None
    if compare not in COMPARISONS:
        raise ValidationFailed(
            "validation.failed",
            "unknown comparison",
            errors=[
                FieldError(
                    "compare",
                    "analytics.unknown_comparison",
                    f"allowed: {', '.join(COMPARISONS)}",
                )
            ],
        )
    return compare


@contextmanager
def _store(context: RequestContext) -> Iterator[StoreSources]:
    with store_for(context.container.settings).sources() as sources:
        yield sources


def _read(context: RequestContext, read: Callable[[StoreSources], T]) -> tuple[T, Any]:
    with _store(context) as sources:
        return read(sources), refreshed_at(sources)


@router.get("/kpis", response_model=KpiList, dependencies=[READ])
def list_kpis() -> KpiList:
    """Every KPI: its unit, formula and the breakdowns it supports."""
    return KpiList(
        items=[KpiDefinition.of(m) for m in METRICS],
        grains=[*GRAINS, "total"],
        comparisons=list(COMPARISONS),
    )


@router.get("/kpis/{name}", response_model=KpiRead)
def get_kpi(
    name: str,
    start: date | None = FROM,
    end: date | None = TO,
    last: str | None = LAST,
    grain: str = GRAIN,
    by: str | None = Query(
        None,
        description="channel, category, brand, region, warehouse, "
        "customer_tier or promotion (each KPI lists its own).",
    ),
    compare: str | None = Query(None, description="previous or last_year"),
    context: RequestContext = READ,
) -> KpiRead:
    """One KPI over a window, by time bucket and breakdown, optionally against another window."""
    metric = get_metric(name)
    period = _period(context, grain, start, end, last)
    comparison = _compare(compare)
    settings = context.container.settings
    answer, as_of = _read(
        context,
        lambda src: kpi(src, fact_context(settings), metric, period, by=by, compare=comparison),
    )
    return KpiRead.of(answer, settings.default_currency, as_of)


@router.get("/dashboard", response_model=DashboardRead)
def get_dashboard(
    last: str | None = Query("30d", description="48h, 30d, 12w or 6m."),
    grain: str = GRAIN,
    context: RequestContext = READ,
) -> DashboardRead:
    """Every KPI by time bucket, plus window totals by channel, category, brand, region and
    warehouse (each KPI under the breakdowns it supports)."""
    period = _period(context, grain, None, None, last)
    settings = context.container.settings
    board, as_of = _read(
        context, lambda src: dashboard(src, fact_context(settings), METRICS, period)
    )
    return DashboardRead.of(board, settings.default_currency, as_of)


@router.post("/events", response_model=EventBatchResult)
def track(body: EventBatch, context: RequestContext = WRITE_EVENTS) -> EventBatchResult:
    """Behaviour events (Segment e-commerce spec v2), deduplicated by ``messageId``.

    Each event is accepted, a duplicate, or rejected with its own errors; the
    valid events of a batch are kept whatever happens to the others.
    """
    with context.uow() as uow:
        result = tracking.track_events(
            uow, body.batch, default_currency=context.container.settings.default_currency
        )
        uow.commit()
    return EventBatchResult(
        accepted=result.count("accepted"),
        duplicates=result.count("duplicate"),
        rejected=result.count("rejected"),
        results=[
            EventOutcomeRead(
                index=o.index,
                message_id=o.message_id,
                status=o.status,
                errors=[
                    EventErrorRead(field=e.field, code=e.code, message=e.message) for e in o.errors
                ],
            )
            for o in result.outcomes
        ],
    )


@router.get("/funnel", response_model=FunnelRead)
def get_funnel(
    start: date | None = FROM,
    end: date | None = TO,
    last: str | None = LAST,
    grain: str = GRAIN,
    by: str | None = Query(None, description="channel"),
    context: RequestContext = READ,
) -> FunnelRead:
    """Sessions -> product views -> add to cart -> checkout -> paid, with step conversion rates."""
    period = _period(context, grain, start, end, last)
    rows, as_of = _read(context, lambda src: funnel(src, period, by=by))
    return FunnelRead(
        window=WindowRead.of(period),
        by=by,
        rows=[FunnelRowRead.of(r) for r in rows],
        as_of=as_of,
    )


@router.get("/products/performance", response_model=ProductPerformancePage)
def get_product_performance(
    start: date | None = FROM,
    end: date | None = TO,
    last: str | None = LAST,
    limit: int = Query(50, ge=1, le=500),
    context: RequestContext = READ,
) -> ProductPerformancePage:
    """Per product: impressions, clicks, click-through rate, sessions that viewed, added and
    bought it, and the conversion rate from view to purchase."""
    period = _period(context, "total", start, end, last)
    items, as_of = _read(context, lambda src: product_performance(src, period, limit=limit))
    return ProductPerformancePage(
        window=WindowRead.of(period),
        items=[ProductPerformanceRead.of(i) for i in items],
        as_of=as_of,
    )


@router.get("/analytics/status", response_model=StoreStatusRead)
def store_status(context: RequestContext = READ) -> StoreStatusRead:
    """The analytics store: rows and watermark per table, and when each was refreshed."""
    store = store_for(context.container.settings)
    return StoreStatusRead(
        path=str(store.path),
        exists=store.exists(),
        tables=[StoreTableRead(**vars(t)) for t in store.status()],
    )

"""Analytics request and response bodies: KPIs, the dashboard, events, the funnel."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shopops.analytics.funnel import FunnelRow, ProductPerformance
from shopops.analytics.kpi import Dashboard, KpiAnswer, KpiRow, Series, money
from shopops.analytics.metrics import Metric, breakdowns_of
from shopops.analytics.periods import Period

Number = Decimal | float | int | None


def present(metric: Metric, value: float | int | None, currency: str) -> Number:
    """Money in major units (a decimal string in JSON); counts and rates as numbers."""
    if metric.unit == "money":
        return money(value, currency)
    return value


class KpiDefinition(BaseModel):
    name: str
    title: str
    unit: str = Field(description="money, count, ratio, hours, days or times")
    formula: str
    breakdowns: list[str]

    @classmethod
    def of(cls, metric: Metric) -> KpiDefinition:
        return cls(
            name=metric.name,
            title=metric.title,
            unit=metric.unit,
            formula=metric.formula,
            breakdowns=list(breakdowns_of(metric)),
        )


class KpiList(BaseModel):
    items: list[KpiDefinition]
    grains: list[str]
    comparisons: list[str]


class WindowRead(BaseModel):
    start: date
    end: date = Field(description="Last day included.")
    time_zone: str
    grain: str | None

    @classmethod
    def of(cls, period: Period) -> WindowRead:
        last = (period.end - timedelta(microseconds=1)).date()
        return cls(start=period.start.date(), end=last, time_zone=period.tz, grain=period.grain)


class KpiPoint(BaseModel):
    period: str
    breakdown: str | None = None
    value: Number
    comparison: Number = None
    change: float | None = Field(None, description="(value - comparison) / |comparison|")

    @classmethod
    def of(cls, metric: Metric, row: KpiRow, currency: str) -> KpiPoint:
        return cls(
            period=row.period,
            breakdown=row.breakdown,
            value=present(metric, row.value, currency),
            comparison=present(metric, row.comparison, currency),
            change=row.change,
        )


class KpiRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "metric": "gmv",
                    "unit": "money",
                    "currency": "USD",
                    "window": {
                        "start": "2026-01-01",
                        "end": "2026-01-02",
                        "time_zone": "UTC",
                        "grain": "day",
                    },
                    "by": "channel",
                    "compare": "previous",
                    "rows": [
                        {
                            "period": "2026-01-01",
                            "breakdown": "web",
                            "value": "120.00",
                            "comparison": "100.00",
                            "change": 0.2,
                        }
                    ],
                    "total": {"period": "2026-01-01..2026-01-02", "value": "220.00"},
                    "as_of": "2026-01-02T10:00:00Z",
                }
            ]
        }
    )

    metric: str
    title: str
    unit: str
    currency: str
    window: WindowRead
    by: str | None
    compare: str | None
    comparison_window: WindowRead | None
    rows: list[KpiPoint]
    total: KpiPoint
    as_of: datetime | None = Field(description="When the analytics store was last refreshed.")

    @classmethod
    def of(cls, answer: KpiAnswer, currency: str, as_of: datetime | None) -> KpiRead:
        metric = answer.metric
        return cls(
            metric=metric.name,
            title=metric.title,
            unit=metric.unit,
            currency=currency,
            window=WindowRead.of(answer.period),
            by=answer.by,
            compare=answer.compare,
            comparison_window=(
                WindowRead.of(answer.comparison_period) if answer.comparison_period else None
            ),
            rows=[KpiPoint.of(metric, r, currency) for r in answer.rows],
            total=KpiPoint.of(metric, answer.total, currency),
            as_of=as_of,
        )


class SeriesRead(BaseModel):
    metric: str
    unit: str
    points: list[KpiPoint]

    @classmethod
    def of(cls, series: Series, currency: str, labels: dict[int, str]) -> SeriesRead:
        metric = series.metric
        return cls(
            metric=metric.name,
            unit=metric.unit,
            points=[
                KpiPoint(
                    period=labels.get(bucket, str(bucket)),
                    breakdown=None if dim == "(none)" and series.request.by is None else dim,
                    value=present(metric, value, currency),
                )
                for (bucket, dim), value in series.values.items()
            ],
        )


class DashboardRead(BaseModel):
    window: WindowRead
    currency: str
    series: list[SeriesRead]
    breakdowns: dict[str, list[SeriesRead]]
    as_of: datetime | None

    @classmethod
    def of(cls, board: Dashboard, currency: str, as_of: datetime | None) -> DashboardRead:
        labels = {b.key: b.label for b in board.period.buckets()}
        whole = {0: f"{board.period.start:%Y-%m-%d}.."}
        return cls(
            window=WindowRead.of(board.period),
            currency=currency,
            series=[SeriesRead.of(s, currency, labels) for s in board.series.values()],
            breakdowns={
                name: [SeriesRead.of(s, currency, whole) for s in by_metric.values()]
                for name, by_metric in board.breakdowns.items()
            },
            as_of=as_of,
        )


class EventBatch(BaseModel):
    """A Segment-style batch: each event is checked on its own."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "batch": [
                        {
                            "type": "track",
                            "event": "Product Viewed",
                            "messageId": "msg-1",
                            "anonymousId": "anon-42",
                            "timestamp": "2026-01-05T10:00:00Z",
                            "properties": {"product_id": "P-TEE", "sku": "TEE-S", "price": 19.99},
                            "context": {"channel": "web"},
                        }
                    ]
                }
            ]
        }
    )

    batch: list[Any] = Field(min_length=1, max_length=500)


class EventErrorRead(BaseModel):
    field: str
    code: str
    message: str


class EventOutcomeRead(BaseModel):
    index: int
    message_id: str | None
    status: str = Field(description="accepted, duplicate or rejected")
    errors: list[EventErrorRead] = []


class EventBatchResult(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    results: list[EventOutcomeRead]


class FunnelRowRead(BaseModel):
    period: str
    channel: str | None
    sessions: int
    product_views: int
    add_to_cart: int
    checkout: int
    paid: int
    rates: dict[str, float | None]

    @classmethod
    def of(cls, row: FunnelRow) -> FunnelRowRead:
        return cls(period=row.period, channel=row.channel, rates=row.rates, **row.counts)


class FunnelRead(BaseModel):
    window: WindowRead
    by: str | None
    rows: list[FunnelRowRead]
    as_of: datetime | None


class ProductPerformanceRead(BaseModel):
    product: str
    impressions: int
    clicks: int
    view_sessions: int
    cart_sessions: int
    purchase_sessions: int
    units_purchased: int
    click_through_rate: float | None
    conversion_rate: float | None

    @classmethod
    def of(cls, item: ProductPerformance) -> ProductPerformanceRead:
        return cls(
            product=item.product,
            impressions=item.impressions,
            clicks=item.clicks,
            view_sessions=item.view_sessions,
            cart_sessions=item.cart_sessions,
            purchase_sessions=item.purchase_sessions,
            units_purchased=item.units_purchased,
            click_through_rate=item.click_through_rate,
            conversion_rate=item.conversion_rate,
        )


class ProductPerformancePage(BaseModel):
    window: WindowRead
    items: list[ProductPerformanceRead]
    as_of: datetime | None


class StoreTableRead(BaseModel):
    table: str
    rows: int
    max_id: int | None
    max_updated_at: datetime | None
    rows_last_refresh: int
    refreshed_at: datetime | None


class StoreStatusRead(BaseModel):
    path: str
    exists: bool
    tables: list[StoreTableRead]

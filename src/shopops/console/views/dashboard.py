"""What the dashboard shows, read from the analytics store and the operational database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import ibis
from sqlalchemy import select

from shopops.analytics.engines import fact_context, store_for
from shopops.analytics.funnel import STEPS, funnel
from shopops.analytics.kpi import Request, Series, evaluate
from shopops.analytics.metrics import get_metric
from shopops.analytics.metrics.facts import CANCELLED, NONE, sales_lines
from shopops.analytics.periods import Period, parse_period
from shopops.analytics.sources import Sources
from shopops.analytics.store import refreshed_at
from shopops.bootstrap import Container
from shopops.console.i18n import N_
from shopops.contexts.inventory import repository as inventory
from shopops.contexts.inventory.events import StockLow, StockOut
from shopops.db.outbox import DeliveryStatus, OutboxDelivery, OutboxEvent

TOP = 8
CARDS: tuple[tuple[str, str], ...] = (
    ("gmv", N_("GMV")),
    ("net_sales", N_("Net sales")),
    ("orders", N_("Orders")),
    ("average_order_value", N_("Average order value")),
    ("buyers", N_("Buyers")),
    ("refund_rate_value", N_("Refund rate")),
)
TREND = ("gmv", "orders")
STEP_LABELS: dict[str, str] = {
    "sessions": N_("Sessions"),
    "product_views": N_("Product views"),
    "add_to_cart": N_("Added to cart"),
    "checkout": N_("Checkout"),
    "paid": N_("Paid"),
}
ALERT_EVENTS = (StockLow.event_type, StockOut.event_type)


@dataclass(frozen=True)
class Card:
    name: str
    label: str
    unit: str
    value: float | int | None
    previous: float | int | None

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous in (None, 0):
            return None
        assert self.previous is not None
        return (self.value - self.previous) / abs(self.previous)


@dataclass(frozen=True)
class Ranked:
    name: str
    value: float | int


@dataclass(frozen=True)
class DashboardView:
    period: Period
    channel: str | None
    channels: list[str]
    cards: list[Card]
    trend_labels: list[str]
    trend: dict[str, list[float | int | None]]
    funnel: list[tuple[str, int]]
    top_products: list[Ranked]
    top_categories: list[Ranked]
    low_stock: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    dead_letters: list[dict[str, Any]]
    as_of: Any

    @property
    def first_day(self) -> date:
        return self.period.start.date()

    @property
    def last_day(self) -> date:
        return (self.period.end - timedelta(days=1)).date()


def _value(series: Series, key: tuple[int, str]) -> float | int | None:
    return series.values.get(key)


def _ranked(frame: Any) -> list[Ranked]:
    return [Ranked(str(r["name"]), r["value"]) for r in frame.to_dict("records")]


def _top_products(src: Sources, settings: Any, period: Period, channel: str | None) -> list[Ranked]:
    """GMV by SKU in the window: order lines of valid orders only, no other joins (the
    breakdown facts carry no SKU, and the full sales fact is far wider than this needs)."""

    def build() -> Any:
        orders = src.table("orders")
        orders = orders.filter(
            orders.currency == fact_context(settings).currency,
            ~orders.status.isin(CANCELLED),
            orders.placed_at >= period.utc_start,
            orders.placed_at < period.utc_end,
        )
        if channel is not None:
            orders = orders.filter(orders.channel == channel)
        lines = src.table("order_lines")
        wanted = orders.select(_order="id")
        joined = lines.join(wanted, lines.order_id == wanted._order)
        grouped = joined.group_by(name=joined.sku).aggregate(
            value=(joined.quantity * joined.unit_price_minor).sum()
        )
        return grouped.order_by([ibis.desc("value"), "name"]).limit(TOP)

    key = ("console-top-skus", period.start, period.end, channel)
    return _ranked(src.frame(key, build))


def _top_categories(series: Series, channel: str | None) -> list[Ranked]:
    """From the GMV-by-category series of the window (the rollups answer it)."""
    ranked = [
        Ranked(dim, value) for (_, dim), value in series.values.items() if value and dim != NONE
    ]
    ranked.sort(key=lambda r: (-float(r.value), r.name))
    return ranked[:TOP]


def read_dashboard(
    container: Container, *, start: date | None, end: date | None, channel: str | None
) -> DashboardView:
    settings = container.settings
    period = parse_period(
        tz=settings.store_timezone,
        now=container.clock.now(),
        grain="day",
        start=start,
        end=end,
        last=None if start or end else "30d",
    )
    whole = Period(period.start, period.end, period.tz, None)
    previous = Period(period.start - (period.end - period.start), period.start, period.tz, None)
    by = "channel" if channel else None
    dim = channel or NONE
    metrics = [get_metric(name) for name, _ in CARDS]
    with store_for(settings).sources() as src:
        ctx = fact_context(settings)
        current_trend, current_total = evaluate(
            src, ctx, metrics, [Request(period, by), Request(whole, by)]
        )
        (before,) = evaluate(src, ctx, metrics, [Request(previous, by)])
        (by_channel,) = evaluate(src, ctx, [get_metric("orders")], [Request(whole, "channel")])
        # GMV by category for the top list; with a channel chosen the rollups cannot cut by
        # both, so that case reads the sales fact filtered by channel
        by_category = _category_gmv(src, ctx, whole, channel)
        channels = sorted(d for _, d in by_channel[0].values if d != NONE) if by_channel else []
        totals = {s.metric.name: s for s in current_total}
        earlier = {s.metric.name: s for s in before}
        cards = [
            Card(
                name,
                label,
                totals[name].metric.unit,
                _value(totals[name], (0, dim)),
                _value(earlier[name], (0, dim)),
            )
            for name, label in CARDS
        ]
        buckets = period.buckets()
        trend_series = {s.metric.name: s for s in current_trend}
        trend = {
            name: [_value(trend_series[name], (b.key, dim)) for b in buckets] for name in TREND
        }
        funnel_rows = funnel(src, whole, by=by)
        counts = next(
            (r.counts for r in funnel_rows if (r.channel or NONE) == dim),
            {name: 0 for name, _ in STEPS},
        )
        top_products = _top_products(src, settings, period, channel)
        top_categories = _top_categories(by_category, channel)
        as_of = refreshed_at(src)
    with container.session_factory() as session:
        low = inventory.list_stock(session, inventory.StockFilter(low_only=True, limit=10))
        low_stock = [
            {
                "sku": level.sku,
                "warehouse_id": level.warehouse_id,
                "available": level.on_hand - level.reserved,
                "threshold": threshold,
            }
            for level, threshold in low
        ]
        alert_rows = session.execute(
            select(OutboxEvent.event_type, OutboxEvent.payload, OutboxEvent.occurred_at)
            .where(OutboxEvent.event_type.in_(ALERT_EVENTS))
            .order_by(OutboxEvent.id.desc())
            .limit(8)
        ).all()
        alerts = [{"type": t, "payload": p, "at": at} for t, p, at in alert_rows]
        dead_rows = session.execute(
            select(
                OutboxDelivery.id,
                OutboxDelivery.handler,
                OutboxDelivery.last_error,
                OutboxEvent.event_type,
            )
            .join(OutboxEvent, OutboxEvent.id == OutboxDelivery.event_id)
            .where(OutboxDelivery.status == DeliveryStatus.DEAD)
            .order_by(OutboxDelivery.id.desc())
            .limit(8)
        ).all()
        dead_letters = [{"id": i, "handler": h, "error": e, "event": t} for i, h, e, t in dead_rows]
    return DashboardView(
        period=period,
        channel=channel,
        channels=channels,
        cards=cards,
        trend_labels=[b.label for b in buckets],
        trend=trend,
        funnel=[(STEP_LABELS.get(name, name), counts.get(name, 0)) for name, _ in STEPS],
        top_products=top_products,
        top_categories=top_categories,
        low_stock=low_stock,
        alerts=alerts,
        dead_letters=dead_letters,
        as_of=as_of,
    )


def _category_gmv(src: Sources, ctx: Any, whole: Period, channel: str | None) -> Series:
    gmv = get_metric("gmv")
    if channel is None:
        ((series,),) = evaluate(src, ctx, [gmv], [Request(whole, "category")])
        return series

    def build() -> Any:
        lines = sales_lines(src, ctx)
        lines = lines.filter(
            lines.valid,
            lines.channel == channel,
            lines.ts >= whole.utc_start,
            lines.ts < whole.utc_end,
        )
        return lines.group_by(name=lines.category).aggregate(value=lines.gross.sum())

    frame = src.frame(("console-categories", whole.start, whole.end, channel), build)
    series = Series(gmv, Request(whole, "category"))
    for row in frame.to_dict("records"):
        series.values[(0, str(row["name"]))] = row["value"]
    return series

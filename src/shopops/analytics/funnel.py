"""Sessions, the conversion funnel and product performance, from tracked events.

A visitor is the ``anonymousId`` (or the ``userId`` when there is none); a new
session starts at a visitor's first event and after 30 minutes without one.
A session belongs to the day (store time zone) and the channel of its first
event. Funnel steps count sessions with at least one event of the step:

    sessions -> Product Viewed -> Product Added -> Checkout Started -> paid

where *paid* is an ``Order Completed`` whose ``order_id`` is the number of an
order that has been paid. Each step's rate is relative to the step before it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from shopops.analytics.metrics.facts import NONE
from shopops.analytics.periods import Period, epoch
from shopops.analytics.sources import Sources
from shopops.kernel.errors import FieldError, ValidationFailed

SESSION_GAP_SECONDS = 30 * 60
LOOKBACK = timedelta(days=1)  # events before the window that may continue a session
STEPS: tuple[tuple[str, str | None], ...] = (
    ("sessions", None),
    ("product_views", "Product Viewed"),
    ("add_to_cart", "Product Added"),
    ("checkout", "Checkout Started"),
    ("paid", "Order Completed"),
)
FUNNEL_BREAKDOWNS = ("channel",)
IMPRESSION_EVENTS = ("Product List Viewed", "Product List Filtered")


def session_events(src: Sources, period: Period) -> ir.Table:
    """Events of the window (plus a day before), each with its session key and a paid flag."""
    events = src.table("tracked_events")
    events = events.filter(
        events.occurred_at >= period.utc_start - LOOKBACK, events.occurred_at < period.utc_end
    )
    visitor = events.anonymous_id.fill_null(ibis.literal("u:") + events.user_id.fill_null(""))
    events = events.mutate(_visitor=visitor, _epoch=epoch(events.occurred_at))
    ordered = ibis.window(group_by=events._visitor, order_by=[events.occurred_at, events.id])
    previous = events._epoch.lag().over(ordered)
    events = events.mutate(
        _starts=ibis.ifelse(
            previous.isnull() | (events._epoch - previous > SESSION_GAP_SECONDS), 1, 0
        )
    )
    running = ibis.cumulative_window(
        group_by=events._visitor, order_by=[events.occurred_at, events.id]
    )
    events = events.mutate(_number=events._starts.sum().over(running))
    paid_orders = src.table("orders")
    paid_orders = paid_orders.filter(paid_orders.paid_at.notnull()).select(_paid_number="number")
    joined = events.left_join(paid_orders, events.order_id == paid_orders._paid_number)
    return joined.mutate(
        session=joined._visitor + ibis.literal("#") + joined._number.cast("string"),
        paid=(joined.event == "Order Completed") & joined._paid_number.notnull(),
    )


def sessions(src: Sources, period: Period) -> ir.Table:
    """One row per session starting in the window, with a flag per funnel step."""
    events = session_events(src, period)
    flags: dict[str, Any] = {
        "start": events.occurred_at.min(),
        "channel": events.channel.min(where=events._starts == 1),
    }
    for step, event in STEPS[1:]:
        hit = events.paid if step == "paid" else events.event == event
        flags[step] = ibis.ifelse(hit, 1, 0).max()
    grouped = events.group_by("session").aggregate(**flags)
    return grouped.filter(grouped.start >= period.utc_start, grouped.start < period.utc_end)


@dataclass(frozen=True)
class FunnelRow:
    period: str
    channel: str | None
    counts: dict[str, int]

    @property
    def rates(self) -> dict[str, float | None]:
        """Each step ÷ the step before; ``conversion`` is paid ÷ sessions."""
        out: dict[str, float | None] = {}
        names = [name for name, _ in STEPS]
        for before, step in itertools.pairwise(names):
            below = self.counts[before]
            out[step] = round(self.counts[step] / below, 6) if below else None
        below = self.counts["sessions"]
        out["conversion"] = round(self.counts["paid"] / below, 6) if below else None
        return out


def funnel(src: Sources, period: Period, *, by: str | None = None) -> list[FunnelRow]:
    if by is not None and by not in FUNNEL_BREAKDOWNS:
        raise ValidationFailed(
            "validation.failed",
            "unknown breakdown",
            errors=[
                FieldError(
                    "by",
                    "analytics.unknown_breakdown",
                    f"the funnel can be broken down by: {', '.join(FUNNEL_BREAKDOWNS)}",
                )
            ],
        )

    def build() -> ir.Table:
        table = sessions(src, period)
        table = table.mutate(
            _bucket=period.bucket_expr(table.start),
            _dim=table.channel.fill_null(NONE) if by else ibis.literal(NONE),
        )
        aggregates = {"sessions": table.count().cast("int64")}
        for step, _ in STEPS[1:]:
            aggregates[step] = table[step].sum().cast("int64")
        return table.group_by(["_bucket", "_dim"]).aggregate(**aggregates)

    key = ("funnel", period.start, period.end, period.tz, period.grain, by)
    frame = src.frame(key, build)
    found: dict[tuple[int, str], dict[str, int]] = {}
    for row in frame.to_dict("records"):
        found[(int(row["_bucket"]), str(row["_dim"]))] = {
            name: int(row[name] or 0) for name, _ in STEPS
        }
    dims = sorted({dim for _, dim in found}) if by else [NONE]
    empty = {name: 0 for name, _ in STEPS}
    return [
        FunnelRow(bucket.label, dim if by else None, found.get((bucket.key, dim), dict(empty)))
        for bucket in period.buckets()
        for dim in dims
    ]


@dataclass(frozen=True)
class ProductPerformance:
    product: str
    impressions: int
    clicks: int
    view_sessions: int
    cart_sessions: int
    purchase_sessions: int
    units_purchased: int

    @property
    def click_through_rate(self) -> float | None:
        return round(self.clicks / self.impressions, 6) if self.impressions else None

    @property
    def conversion_rate(self) -> float | None:
        if not self.view_sessions:
            return None
        return round(self.purchase_sessions / self.view_sessions, 6)


def product_performance(
    src: Sources, period: Period, *, limit: int = 50
) -> list[ProductPerformance]:
    """Per product (``product_id``, else SKU): list impressions, clicks, sessions that viewed,
    added and bought it; ordered by purchase sessions, then views."""

    def build() -> ir.Table:
        events = session_events(src, period)
        events = events.filter(
            events.occurred_at >= period.utc_start, events.occurred_at < period.utc_end
        )
        products = src.table("tracked_event_products")
        joined = products.join(events, products.event_id == events.id)
        key = joined.product_id.fill_null(joined.sku)
        joined = joined.mutate(_product=key)
        event = joined.event
        grouped = joined.group_by("_product").aggregate(
            impressions=joined.id.count(where=event.isin(IMPRESSION_EVENTS)).cast("int64"),
            clicks=joined.id.count(where=event == "Product Clicked").cast("int64"),
            view_sessions=joined.session.nunique(where=event == "Product Viewed").cast("int64"),
            cart_sessions=joined.session.nunique(where=event == "Product Added").cast("int64"),
            purchase_sessions=joined.session.nunique(where=joined.paid).cast("int64"),
            units_purchased=joined.quantity.sum(where=joined.paid).fill_null(0).cast("int64"),
        )
        return grouped.order_by(
            [
                grouped.purchase_sessions.desc(),
                grouped.view_sessions.desc(),
                grouped._product,
            ]
        ).limit(limit)

    key = ("products", period.start, period.end, period.tz, limit)
    frame = src.frame(key, build)
    return [
        ProductPerformance(
            str(row["_product"]),
            int(row["impressions"] or 0),
            int(row["clicks"] or 0),
            int(row["view_sessions"] or 0),
            int(row["cart_sessions"] or 0),
            int(row["purchase_sessions"] or 0),
            int(row["units_purchased"] or 0),
        )
        for row in frame.to_dict("records")
    ]

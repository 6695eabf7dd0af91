"""Sessions, the funnel and product performance on hand-built visits (store time zone UTC+8).

Visits (orders SO-11 and SO-12 are paid, SO-13 is not; see dataset.py):
  v1 web  Mar 1 01:00-01:25Z  page, list [A, B], click A, view A, add A, checkout, SO-11 (A x2, B)
  v1 web  Mar 1 03:00Z        view B  (more than 30 minutes later: a second session)
  v2 web  Mar 1 05:00-05:20Z  view B, add B, checkout, SO-13 (never paid)
  v3 app  Mar 1 18:00Z        view A, SO-12 (A x1)  -> 2 March in Shanghai
"""

from __future__ import annotations

from typing import Any

from shopops.analytics.engines import refresh, store_for
from shopops.analytics.funnel import FunnelRow, funnel, product_performance
from shopops.bootstrap import Container
from tests.analytics.conftest import window
from tests.analytics.funnel_data import track_visits


def _counts(rows: list[FunnelRow]) -> list[tuple[Any, ...]]:
    return [(r.period, r.channel, *r.counts.values()) for r in rows]


def test_funnel_by_day_and_channel(shop: Container) -> None:
    track_visits(shop)
    refresh(shop.settings)
    with store_for(shop.settings).sources() as src:
        by_day = funnel(src, window("day"))
        by_channel = funnel(src, window("day"), by="channel")
        total = funnel(src, window(None), by="channel")
    # sessions, product views, add to cart, checkout, paid
    assert _counts(by_day) == [
        ("2026-03-01", None, 3, 3, 2, 2, 1),
        ("2026-03-02", None, 1, 1, 0, 0, 1),
    ]
    assert by_day[0].rates == {
        "product_views": 1.0,
        "add_to_cart": round(2 / 3, 6),
        "checkout": 1.0,
        "paid": 0.5,
        "conversion": round(1 / 3, 6),
    }
    assert by_day[1].rates == {
        "product_views": 1.0,
        "add_to_cart": 0.0,
        "checkout": None,
        "paid": None,
        "conversion": 1.0,
    }
    assert _counts(by_channel) == [
        ("2026-03-01", "app", 0, 0, 0, 0, 0),
        ("2026-03-01", "web", 3, 3, 2, 2, 1),
        ("2026-03-02", "app", 1, 1, 0, 0, 1),
        ("2026-03-02", "web", 0, 0, 0, 0, 0),
    ]
    assert _counts(total) == [
        ("2026-03-01..2026-03-02", "app", 1, 1, 0, 0, 1),
        ("2026-03-01..2026-03-02", "web", 3, 3, 2, 2, 1),
    ]


def test_product_click_through_and_conversion(shop: Container) -> None:
    track_visits(shop)
    refresh(shop.settings)
    with store_for(shop.settings).sources() as src:
        items = product_performance(src, window(None))
    assert [
        (
            i.product,
            i.impressions,
            i.clicks,
            i.view_sessions,
            i.cart_sessions,
            i.purchase_sessions,
            i.units_purchased,
            i.click_through_rate,
            i.conversion_rate,
        )
        for i in items
    ] == [
        ("P-A", 1, 1, 2, 1, 2, 3, 1.0, 1.0),
        ("P-B", 1, 0, 2, 1, 1, 1, 0.0, 0.5),
    ]


def test_an_empty_store_has_an_empty_funnel(analytics: Container) -> None:
    with store_for(analytics.settings).sources() as src:
        assert _counts(funnel(src, window(None))) == [
            ("2026-03-01..2026-03-02", None, 0, 0, 0, 0, 0)
        ]
        assert product_performance(src, window(None)) == []

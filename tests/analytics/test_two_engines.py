"""The whole metric set, once on the DuckDB store and once directly on the operational
database (SQLite or PostgreSQL, per ``--db``), through the same Ibis definitions."""

from __future__ import annotations

from typing import Any

from shopops.analytics.engines import fact_context, operational_sources, refresh, store_for
from shopops.analytics.funnel import funnel, product_performance
from shopops.analytics.kpi import DASHBOARD_BREAKDOWNS, Dashboard, dashboard
from shopops.analytics.metrics import BREAKDOWNS, METRICS
from shopops.analytics.sources import Sources
from shopops.bootstrap import Container
from tests.analytics.conftest import window
from tests.analytics.funnel_data import track_visits


def _flatten(board: Dashboard) -> dict[tuple[Any, ...], Any]:
    out: dict[tuple[Any, ...], Any] = {}
    for name, series in board.series.items():
        for key, value in series.values.items():
            out[("series", name, *key)] = value
    for by, metrics in board.breakdowns.items():
        for name, series in metrics.items():
            for key, value in series.values.items():
                out[(by, name, *key)] = value
    return out


def _everything(src: Sources, container: Container) -> dict[tuple[Any, ...], Any]:
    ctx = fact_context(container.settings)
    out = {}
    for grain in ("day", "week", "hour"):
        board = dashboard(src, ctx, METRICS, window(grain), BREAKDOWNS)
        out.update({(grain, *k): v for k, v in _flatten(board).items()})
    for row in funnel(src, window("day"), by="channel"):
        out[("funnel", row.period, row.channel)] = (row.counts, row.rates)
    out["products"] = product_performance(src, window(None))
    return out


def test_every_metric_is_identical_on_the_store_and_the_database(shop: Container) -> None:
    track_visits(shop)
    refresh(shop.settings)
    with store_for(shop.settings).sources() as src:
        on_store = _everything(src, shop)
    with operational_sources(shop.settings.database_url) as src:
        on_database = _everything(src, shop)
    assert on_store == on_database
    # and the comparison is not vacuous: every metric has values, most of them non-zero
    names = {key[2] for key in on_store if key[:2] == ("day", "series")}
    assert names == {m.name for m in METRICS}
    nonzero = {key[2] for key, value in on_store.items() if key[:2] == ("day", "series") and value}
    assert len(nonzero) == len(METRICS)
    assert on_store[("funnel", "2026-03-01", "web")][0]["sessions"] == 3
    assert set(DASHBOARD_BREAKDOWNS) <= set(BREAKDOWNS)

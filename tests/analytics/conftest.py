"""Analytics fixtures: a container with its own store file and the shop's time zone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from shopops.analytics.engines import fact_context, operational_sources, refresh, store_for
from shopops.analytics.kpi import KpiAnswer, kpi
from shopops.analytics.metrics import get_metric
from shopops.analytics.periods import Period, parse_period
from shopops.bootstrap import Container
from shopops.kernel.time import FrozenClock
from tests.analytics.dataset import TZ, at, build_shop

NOW = at("2026-03-03T04:00:00")  # 12:00 on 3 March in Shanghai


@pytest.fixture
def analytics(make_container: Callable[..., Container], tmp_path: Path) -> Container:
    return make_container(
        analytics_store_path=str(tmp_path / "analytics.duckdb"),
        store_timezone=TZ,
        clock=FrozenClock(NOW),
    )


@pytest.fixture
def shop(analytics: Container) -> Container:
    """The hand-built shop of ``dataset.py``, refreshed into the store."""
    build_shop(analytics)
    refresh(analytics.settings)
    return analytics


def window(grain: str | None = "day") -> Period:
    return parse_period(tz=TZ, now=NOW, grain=grain, start=date(2026, 3, 1), end=date(2026, 3, 2))


KpiRunner = Callable[..., KpiAnswer]


@pytest.fixture
def run_kpi(shop: Container) -> KpiRunner:
    """``run_kpi("gmv", by=None, grain="day", engine="store")``."""

    def run(
        name: str,
        *,
        by: str | None = None,
        grain: str | None = "day",
        compare: str | None = None,
        engine: str = "store",
    ) -> KpiAnswer:
        ctx = fact_context(shop.settings)
        period = window(grain)
        if engine == "store":
            with store_for(shop.settings).sources() as src:
                return kpi(src, ctx, get_metric(name), period, by=by, compare=compare)  # type: ignore[arg-type]
        with operational_sources(shop.settings.database_url) as src:
            return kpi(src, ctx, get_metric(name), period, by=by, compare=compare)  # type: ignore[arg-type]

    return run


def values(answer: KpiAnswer) -> dict[str, object]:
    """{period label or breakdown value: value}, plus "total"."""
    out: dict[str, object] = (
        {
            (row.breakdown if answer.by else row.period) or row.period: row.value
            for row in answer.rows
        }
        if answer.period.grain is None
        else {
            f"{row.period}|{row.breakdown}" if answer.by else row.period: row.value
            for row in answer.rows
        }
    )
    out["total"] = answer.total.value
    return out

"""Where metrics run: the DuckDB store (normally) or the operational database itself.

``store_sources`` is what the API, the CLI and other read-side modules (customer
segments, cohorts, lifetime value) use: Ibis tables of the store. Reading the
operational database directly (``operational_sources``) exists to prove the
metric definitions portable and to check the store; it is never on a request path.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import ibis
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from shopops.analytics.metrics.facts import FactContext
from shopops.analytics.refresh import RefreshReport, read_engine, refresh_store
from shopops.analytics.sources import OperationalSources, Sources, promotions_of
from shopops.analytics.store import AnalyticsStore

Engine = Literal["store", "database"]
ENGINES: tuple[Engine, ...] = ("store", "database")


def store_for(settings: Any) -> AnalyticsStore:
    return AnalyticsStore(settings.analytics_store_path)


def fact_context(settings: Any) -> FactContext:
    return FactContext(currency=settings.default_currency)


def refresh(settings: Any, *, full: bool = False) -> RefreshReport:
    return refresh_store(
        store_for(settings),
        settings.database_url,
        full=full,
        timezone=getattr(settings, "store_timezone", None),
    )


def connect_operational(database_url: str) -> Any:
    """An Ibis backend on the operational database (SQLite file or PostgreSQL)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return ibis.sqlite.connect(url.database or ":memory:")
    return ibis.postgres.connect(
        host=url.host or "localhost",
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database,
    )


def staged_promotions(database_url: str, currency: str | None = None) -> list[tuple[int, str, int]]:
    """``order_promotions`` rows read from the orders' price breakdowns (as the refresh does)."""
    orders = sa.table("orders", sa.column("id"), sa.column("pricing"), sa.column("currency"))
    query = sa.select(orders.c.id, orders.c.pricing).order_by(orders.c.id)
    if currency is not None:
        query = query.where(orders.c.currency == currency)
    with read_engine(database_url).connect() as connection:
        return [p for row in connection.execute(query) for p in promotions_of(row[0], row[1])]


@contextmanager
def operational_sources(database_url: str) -> Iterator[OperationalSources]:
    backend = connect_operational(database_url)
    try:
        yield OperationalSources(backend, staged_promotions(database_url))
    finally:
        backend.disconnect()


@contextmanager
def sources_for(settings: Any, engine: Engine = "store") -> Iterator[Sources]:
    if engine == "database":
        with operational_sources(settings.database_url) as operational:
            yield operational
        return
    with store_for(settings).sources() as store:
        yield store

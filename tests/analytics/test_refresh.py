"""Incremental refresh: per-table watermarks; only new and changed rows move."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import update

from shopops.analytics import refresh as refresh_module
from shopops.analytics.engines import refresh, store_for
from shopops.bootstrap import Container, metadata
from shopops.contexts import orders
from shopops.kernel.time import FrozenClock
from tests.analytics.dataset import at, build_shop
from tests.commerce import SYSTEM, add_skus, add_warehouse, guest_order


def _moved(report: refresh_module.RefreshReport) -> dict[str, int]:
    return {t.table: t.rows for t in report.tables if t.rows}


def test_first_refresh_copies_everything_then_nothing_moves(analytics: Container) -> None:
    build_shop(analytics)
    first = refresh(analytics.settings)
    assert _moved(first) == {
        "categories": 2,
        "brands": 2,
        "products": 2,
        "variants": 2,
        "customers": 2,
        "warehouses": 2,
        "orders": 6,
        "order_lines": 7,
        "order_promotions": 1,
        "payments": 4,
        "shipments": 2,
        "stock_levels": 3,
        "stock_movements": 8,
    }
    # rows last updated long before now: outside the overlap, so a second refresh reads none
    assert _moved(refresh(analytics.settings)) == {}
    status = {s.table: s for s in store_for(analytics.settings).status()}
    assert (status["orders"].rows, status["orders"].max_id) == (6, 15)
    assert status["orders"].max_updated_at == at("2026-03-02T03:00:00").replace(tzinfo=None)
    assert status["stock_movements"].max_id == 8


def test_only_changed_and_new_rows_move(analytics: Container) -> None:
    build_shop(analytics)
    refresh(analytics.settings)
    orders_table, lines = metadata.tables["orders"], metadata.tables["order_lines"]
    with analytics.engine.begin() as connection:
        # O4 is refunded: the order row and its line change (later than the watermark)
        connection.execute(
            update(orders_table)
            .where(orders_table.c.id == 14)
            .values(refunded_minor=5000, updated_at=at("2026-03-03T00:00:00"))
        )
        connection.execute(update(lines).where(lines.c.order_id == 14).values(refunded_minor=5000))
    report = refresh(analytics.settings)
    assert _moved(report) == {"orders": 1, "order_lines": 1}
    with store_for(analytics.settings).connect() as con:
        assert con.execute(
            "SELECT refunded_minor FROM order_lines WHERE order_id = 14"
        ).fetchall() == [(5000,)]
        assert con.execute("SELECT count(*) FROM order_lines").fetchall() == [(7,)]


def test_rows_committed_late_within_the_overlap_are_not_missed(analytics: Container) -> None:
    """A transaction may commit after a refresh that saw later ``updated_at`` values."""
    build_shop(analytics)
    refresh(analytics.settings)
    orders_table = metadata.tables["orders"]
    late = at("2026-03-02T03:00:00") - refresh_module.OVERLAP / 2  # before the watermark
    with analytics.engine.begin() as connection:
        connection.execute(
            update(orders_table)
            .where(orders_table.c.id == 11)
            .values(status="cancelled", updated_at=late)
        )
    assert _moved(refresh(analytics.settings))["orders"] >= 1
    with store_for(analytics.settings).connect() as con:
        assert con.execute("SELECT status FROM orders WHERE id = 11").fetchall() == [("cancelled",)]


def test_orders_placed_through_the_service_arrive(analytics: Container) -> None:
    assert isinstance(analytics.clock, FrozenClock)
    add_skus(analytics, {"TEE": 1500})
    add_warehouse(analytics, "SH1", stock={"TEE": 10})
    refresh(analytics.settings)
    analytics.clock.advance(timedelta(hours=1))
    with analytics.uow(SYSTEM) as uow:
        orders.place_order(uow, guest_order(("TEE", 3)))
        uow.commit()
    moved = _moved(refresh(analytics.settings))
    assert moved["orders"] == 1
    assert moved["order_lines"] == 1
    with store_for(analytics.settings).connect() as con:
        row = con.execute("SELECT sku, quantity, total_minor FROM order_lines").fetchall()
    assert row == [("TEE", 3, 4500)]


def test_rebuild_recreates_the_store_from_scratch(analytics: Container) -> None:
    build_shop(analytics)
    refresh(analytics.settings)
    with store_for(analytics.settings).connect() as con:
        con.execute("DELETE FROM orders WHERE id = 10")  # damage the derived data
    assert _moved(refresh(analytics.settings)) == {}  # incremental refresh cannot know
    rebuilt = refresh(analytics.settings, full=True)
    assert rebuilt.full
    assert _moved(rebuilt)["orders"] == 6
    with store_for(analytics.settings).connect() as con:
        assert con.execute("SELECT count(*) FROM orders").fetchall() == [(6,)]


def test_the_refresh_thread_runs_after_a_poke_not_during_it() -> None:
    ran: list[int] = []
    refresher = refresh_module.BackgroundRefresher(lambda: ran.append(1), debounce=0.05)
    try:
        for _ in range(5):
            refresher.poke()  # a burst of commits
        assert ran == []  # never inline
        for _ in range(200):
            if ran:
                break
            time.sleep(0.01)
        assert ran == [1]
    finally:
        refresher.close()

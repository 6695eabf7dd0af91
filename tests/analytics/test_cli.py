"""`shopops kpi`, `shopops funnel`, `shopops analytics ...`."""

from __future__ import annotations

import csv
import io
import json

from shopops.bootstrap import Container
from tests.analytics.funnel_data import track_visits
from tests.conftest import CliInvoke

WINDOW = ("--from", "2026-03-01", "--to", "2026-03-02")


def test_kpi_as_a_table(shop: Container, cli: CliInvoke) -> None:
    result = cli(shop, "kpi", "gmv", *WINDOW, "--grain", "day", "--by", "channel")
    assert result.exit_code == 0, result.output
    assert "Gross merchandise value (USD)" in result.output
    assert "70.00" in result.output
    assert "130.00" in result.output


def test_kpi_as_csv_and_json_with_comparison(shop: Container, cli: CliInvoke) -> None:
    result = cli(shop, "kpi", "orders", *WINDOW, "--compare", "previous", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows == [
        ["period", "orders", "previous", "change"],
        ["2026-03-01", "1", "0", ""],
        ["2026-03-02", "2", "0", ""],
        ["total 2026-03-01..2026-03-02", "3", "0", ""],
    ]
    result = cli(
        shop, "kpi", "gmv", *WINDOW, "--grain", "total", "--by", "category", "--format", "json"
    )
    assert json.loads(result.output) == [
        {"period": "2026-03-01..2026-03-02", "category": "Shoes", "gmv": "100.00"},
        {"period": "2026-03-01..2026-03-02", "category": "Tops", "gmv": "30.00"},
        {"period": "total 2026-03-01..2026-03-02", "category": "", "gmv": "130.00"},
    ]


def test_kpi_on_the_database_gives_the_same_answer(shop: Container, cli: CliInvoke) -> None:
    on_store = cli(shop, "kpi", "net_sales", *WINDOW, "--format", "json")
    on_database = cli(shop, "kpi", "net_sales", *WINDOW, "--engine", "database", "--format", "json")
    assert on_store.exit_code == 0, on_store.output
    assert json.loads(on_store.output) == json.loads(on_database.output)


def test_bad_input_exits_with_the_allowed_values(shop: Container, cli: CliInvoke) -> None:
    unknown = cli(shop, "kpi", "revenue")
    assert unknown.exception is not None
    assert unknown.exception.code == "analytics.unknown_metric"  # type: ignore[attr-defined]
    assert "gmv" in unknown.exception.message  # type: ignore[attr-defined]
    reversed_range = cli(shop, "kpi", "gmv", "--from", "2026-03-02", "--to", "2026-03-01")
    assert [e.code for e in reversed_range.exception.errors] == ["analytics.reversed_range"]  # type: ignore[union-attr]
    breakdown = cli(shop, "kpi", "gmv", "--by", "warehouse")
    assert "allowed: channel, category" in breakdown.exception.errors[0].message  # type: ignore[union-attr]
    engine = cli(shop, "kpi", "gmv", "--engine", "spark")
    assert "store, database" in engine.exception.errors[0].message  # type: ignore[union-attr]


def test_funnel(shop: Container, cli: CliInvoke) -> None:
    track_visits(shop)
    assert cli(shop, "analytics", "refresh").exit_code == 0
    result = cli(shop, "funnel", *WINDOW, "--grain", "total", "--by", "channel", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[0][:7] == [
        "period",
        "channel",
        "sessions",
        "product_views",
        "add_to_cart",
        "checkout",
        "paid",
    ]
    assert rows[2][:7] == ["2026-03-01..2026-03-02", "web", "3", "3", "2", "2", "1"]
    products = cli(shop, "funnel", *WINDOW, "--products", "--format", "json")
    assert [p["product"] for p in json.loads(products.output)] == ["P-A", "P-B"]


def test_refresh_rebuild_status(shop: Container, cli: CliInvoke) -> None:
    refreshed = cli(shop, "analytics", "refresh")
    assert refreshed.exit_code == 0, refreshed.output
    assert "refreshed: 0 rows" in refreshed.output
    rebuilt = cli(shop, "analytics", "rebuild")
    assert "rebuilt: 43 rows" in rebuilt.output
    status = cli(shop, "analytics", "status", "--format", "json")
    tables = {t["table"]: t for t in json.loads(status.output)}
    assert tables["orders"]["rows"] == 6
    assert tables["order_lines"]["rows"] == 7
    kpis = cli(shop, "analytics", "kpis", "--format", "json")
    assert len(json.loads(kpis.output)) == 30
    board = cli(shop, "analytics", "dashboard", "--last", "7d")
    assert set(json.loads(board.output)["breakdowns"]) == {
        "channel",
        "category",
        "brand",
        "region",
        "warehouse",
    }
